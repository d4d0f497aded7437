import { join } from 'node:path';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { MupdfReader } from '../adapters/documents/mupdf-reader.ts';
import { FsStore } from '../adapters/local/fs-store.ts';
import { BUILTIN_SCHEMA_DIR, loadSchemaDirs } from '../adapters/local/schema-files.ts';
import type { Config } from '../config.ts';
import { SchemaRegistry } from '../core/validate.ts';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../ports.ts';
import { silentLogger, systemClock, type TaskContext } from '../tasks/context.ts';
import { type TaskName, tasks } from '../tasks/index.ts';
import { allStates, type Binding, loadDefinition, type MachineName } from './local-engine.ts';
import { createLocalServices, type LocalServices, type LocalServicesOptions } from './local-services.ts';

export interface LocalEnvironmentOptions extends LocalServicesOptions {
  /** The work directory; the bucket is `<workdir>/bucket`. */
  workdir: string;
  /** Extra schema directories; a type defined there overrides the built-in one. */
  schemaDirs?: string[];
  config: Config;
  log?: Logger;
}

export interface LocalEnvironment {
  store: FsStore;
  ctx: TaskContext;
  services: LocalServices;
  definitions: Record<MachineName, StateMachineDefinition>;
  bindings: Record<MachineName, Record<string, Binding>>;
  close(): Promise<void>;
}

const LAMBDA_PREFIX = /^arn:aws:lambda:[^:]+:\d+:function:docbatch-local-(\w+)$/;
const SDK_PREFIX = 'arn:aws:states:::aws-sdk:';

/**
 * Binds every Task state of a definition to its local implementation, chosen by the state's
 * Resource: a `${XFunctionArn}` Lambda runs task X of the registry; an `aws-sdk:service:action`
 * integration runs the stand-in for that API. Throws when any Task state is left unbound.
 */
export function bindTasks(
  definition: StateMachineDefinition,
  ctx: TaskContext,
  sdk: Record<string, Binding>,
): Record<string, Binding> {
  const bindings: Record<string, Binding> = {};
  const unbound: string[] = [];
  for (const state of allStates(definition)) {
    if (state.type !== 'Task' || !state.resource) continue;
    const lambda = LAMBDA_PREFIX.exec(state.resource);
    if (lambda) {
      const name = lambda[1] as TaskName;
      const task = tasks[name];
      if (task) {
        bindings[state.name] = (input) => task(input as never, ctx);
        continue;
      }
    } else if (state.resource.startsWith(SDK_PREFIX)) {
      const api = sdk[state.resource.slice(SDK_PREFIX.length)];
      if (api) {
        bindings[state.name] = api;
        continue;
      }
    }
    unbound.push(`${state.name} (${state.resource})`);
  }
  if (unbound.length > 0)
    throw new ConfigError(`no local implementation for Task state(s): ${unbound.join(', ')}`);
  return bindings;
}

/** Everything an offline run needs: the bucket directory, the stand-ins, the tasks, both state machines. */
export async function createLocalEnvironment(options: LocalEnvironmentOptions): Promise<LocalEnvironment> {
  const store = new FsStore(join(options.workdir, 'bucket'));
  const schemas = new SchemaRegistry(
    await loadSchemaDirs([BUILTIN_SCHEMA_DIR, ...(options.schemaDirs ?? [])]),
  );
  const reader = new MupdfReader();
  const services = createLocalServices(store, reader, {
    model: { id: options.config.model.id, minRecordsPerJob: options.config.quotas.minRecordsPerJob },
    ocrEngine: options.config.ocr.localEngine,
    ...options,
  });
  const ctx: TaskContext = {
    store,
    reader,
    schemas,
    config: options.config,
    onDemand: services.onDemand,
    log: options.log ?? silentLogger,
    clock: systemClock,
  };
  const definitions = { ingest: await loadDefinition('ingest'), batch: await loadDefinition('batch') };
  const bindings = {
    ingest: bindTasks(definitions.ingest, ctx, services.sdk),
    batch: bindTasks(definitions.batch, ctx, services.sdk),
  };
  return { store, ctx, services, definitions, bindings, close: () => services.close() };
}
