import { readFile } from 'node:fs/promises';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

export type MachineName = 'ingest' | 'batch';

/** The event log the engine emits (StateEntered, StateRetried, StateCaught, …). */
export type EngineEvent = {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  Error?: string;
  Cause?: unknown;
  index?: number;
};

export const STATEMACHINE_DIR = new URL('../../statemachine/', import.meta.url).pathname;

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))].sort();
}

/** A well-formed ARN for each placeholder: the local engine validates ARNs even where it never calls them. */
export function dummyArn(placeholder: string): string {
  if (placeholder.endsWith('RoleArn'))
    return `arn:aws:iam::123456789012:role/docbatch-local-${placeholder.slice(0, -'Arn'.length)}`;
  return `arn:aws:lambda:us-east-1:123456789012:function:docbatch-local-${placeholder.replace(/FunctionArn$/, '')}`;
}

export async function readDefinitionText(name: MachineName): Promise<string> {
  return readFile(`${STATEMACHINE_DIR}${name}.asl.json`, 'utf8');
}

export function substitute(text: string, values: (placeholder: string) => string): string {
  return text.replace(PLACEHOLDER, (_, name: string) => values(name));
}

export async function loadDefinition(name: MachineName): Promise<StateMachineDefinition> {
  return JSON.parse(substitute(await readDefinitionText(name), dummyArn)) as StateMachineDefinition;
}

export interface StateInfo {
  name: string;
  type: string;
  resource?: string;
  hasRetry: boolean;
  hasCatch: boolean;
}

/** Every state, including those inside Map item processors and Parallel branches. */
export function allStates(definition: { States: Record<string, unknown> }): StateInfo[] {
  const out: StateInfo[] = [];
  for (const [name, raw] of Object.entries(definition.States)) {
    const state = raw as Record<string, unknown>;
    out.push({
      name,
      type: String(state['Type']),
      ...(typeof state['Resource'] === 'string' ? { resource: state['Resource'] } : {}),
      hasRetry: Array.isArray(state['Retry']) && state['Retry'].length > 0,
      hasCatch: Array.isArray(state['Catch']) && state['Catch'].length > 0,
    });
    const nested = [state['ItemProcessor'], state['Iterator'], ...((state['Branches'] as unknown[]) ?? [])];
    for (const sub of nested) {
      if (sub && typeof sub === 'object' && 'States' in sub)
        out.push(...allStates(sub as { States: Record<string, unknown> }));
    }
  }
  return out;
}

export type Binding = (input: unknown) => Promise<unknown>;

export interface ExecuteOptions {
  bindings: Record<string, Binding>;
  executionName: string;
  /** Milliseconds for every Wait state (the file keeps the real durations for AWS). */
  waitMs?: number;
  /** Milliseconds before every retry (the file keeps the real backoff for AWS). */
  retryMs?: number;
}

export interface ExecutionOutcome {
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: { Error: string; Cause: string };
  events: EngineEvent[];
}

/**
 * One validated engine per definition object. Constructing a StateMachine runs asl-validator, which
 * compiles its JSON Schemas with ajv every time: that was three quarters of the CPU of an offline
 * run of 10,000 small documents. The engine keeps no per-run state, so one instance serves every
 * execution (and concurrent ones).
 */
const machines = new WeakMap<StateMachineDefinition, StateMachine>();

function machineFor(definition: StateMachineDefinition): StateMachine {
  let machine = machines.get(definition);
  if (!machine) {
    machine = new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: true } });
    machines.set(definition, machine);
  }
  return machine;
}

/** Runs one execution of a state machine with every Task bound to a local function by state name. */
export async function execute(
  definition: StateMachineDefinition,
  input: unknown,
  options: ExecuteOptions,
): Promise<ExecutionOutcome> {
  const states = allStates(definition);
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const s of states) {
    if (s.type === 'Wait') waitTimeOverrides[s.name] = options.waitMs ?? 0;
    if (s.hasRetry) retryIntervalOverrides[s.name] = options.retryMs ?? 0;
  }
  const machine = machineFor(definition);
  const runOptions: RunOptions = {
    overrides: {
      // The engine's handler type is its own JSONValue; our bindings return plain JSON objects.
      taskResourceLocalHandlers: options.bindings as NonNullable<
        NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']
      >,
      waitTimeOverrides,
      retryIntervalOverrides,
    },
    context: {
      Execution: {
        Id: `arn:aws:states:us-east-1:123456789012:execution:docbatch-local:${options.executionName}`,
        Name: options.executionName,
        StartTime: new Date().toISOString(),
        // biome-ignore lint/suspicious/noExplicitAny: the engine types Input as its JSONValue
        Input: input as any,
      },
    },
  };
  // biome-ignore lint/suspicious/noExplicitAny: the engine types input as its own JSONValue
  const run = machine.run(input as any, runOptions);
  let status: ExecutionOutcome['status'] = 'SUCCEEDED';
  let output: unknown;
  let error: ExecutionOutcome['error'];
  try {
    output = await run.result;
  } catch (e) {
    status = 'FAILED';
    error = { Error: (e as Error).name, Cause: (e as Error).message };
  }
  const events: EngineEvent[] = [];
  for await (const event of run.eventLogs) {
    events.push(event as EngineEvent);
    if (event.type === 'ExecutionFailed') {
      error = {
        Error: String(event.Error),
        Cause: typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause),
      };
    }
    if (event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed') break;
  }
  return { status, ...(output !== undefined ? { output } : {}), ...(error ? { error } : {}), events };
}
