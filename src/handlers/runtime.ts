/**
 * What every Lambda entry point shares: adapters built once per cold start, the Powertools
 * logger/metrics/tracer, and the dispatch to `tasks[name]`. Handlers wire; tasks decide.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { createS3Client, S3Store } from '../adapters/aws/s3-store.ts';
import { configFromEnv } from '../config.ts';
import { SchemaRegistry } from '../core/validate.ts';
import { ConfigError } from '../errors.ts';
import type { DocumentReader, Logger, ObjectStore, OnDemandModel } from '../ports.ts';
import { systemClock, type TaskContext } from '../tasks/context.ts';
import { type TaskName, tasks } from '../tasks/index.ts';
import { METRICS, METRICS_NAMESPACE, SERVICE_NAME } from './observability.ts';
import { BUILTIN_SCHEMAS, loadStoreSchemas } from './schemas.ts';

export const logger = new PowertoolsLogger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
// Tracing switches itself off outside Lambda (tests, the CLI), so capturing clients is always safe.
export const tracer = new Tracer({ serviceName: SERVICE_NAME });

/** Log fields whose string values are identifiers, never document content. */
const IDENTIFIER_FIELDS = new Set([
  'task',
  'runId',
  'docId',
  'type',
  'key',
  'route',
  'status',
  'jobId',
  'jobArn',
  'mode',
  'error',
]);

/**
 * Keeps a log line free of document text and extracted values whatever a task passes: numbers and
 * booleans go through, strings only under identifier names (and short), anything else is dropped
 * and named in `dropped`, so a careless field shows up in the logs as a name, not as content.
 */
export function safeFields(fields: Record<string, unknown> = {}): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'number' || typeof value === 'boolean') kept[name] = value;
    else if (typeof value === 'string' && IDENTIFIER_FIELDS.has(name) && value.length <= 256)
      kept[name] = value;
    else dropped.push(name);
  }
  if (dropped.length > 0) kept['dropped'] = dropped;
  return kept;
}

/** The tasks' `Logger` port on Powertools, through `safeFields`. */
export function portLogger(log: PowertoolsLogger): Logger {
  return {
    info: (message, fields) => log.info(message, safeFields(fields)),
    warn: (message, fields) => log.warn(message, safeFields(fields)),
    error: (message, fields) => log.error(message, safeFields(fields)),
    debug: (message, fields) => log.debug(message, safeFields(fields)),
  };
}

function absent(what: string, task: TaskName): () => Promise<never> {
  return () =>
    Promise.reject(
      new ConfigError(`the ${task} function has no ${what}: only the tasks that need one bundle it`),
    );
}

/** Stands in for a reader in functions that never read documents, so their bundles leave mupdf out. */
function absentReader(task: TaskName): DocumentReader {
  return { inspect: absent('document reader', task), textLayerBlocks: absent('document reader', task) };
}

function absentModel(task: TaskName): OnDemandModel {
  return { invoke: absent('on-demand model', task) };
}

/** The adapters a function needs beyond the bucket; each entry file passes only its own. */
export interface HandlerParts {
  reader?: () => DocumentReader;
  onDemand?: () => OnDemandModel;
  /** Adapts the event to what the task expects, with the context at hand (see register.ts). */
  prepare?: (event: unknown, ctx: TaskContext) => Promise<unknown>;
  /** Runs after the task succeeds (Report publishes its metrics here). */
  afterTask?: (output: unknown) => void;
}

/** Everything a task needs, from the function's environment: bucket, config, schemas. */
export async function buildContext(
  env: Record<string, string | undefined>,
  task: TaskName,
  parts: HandlerParts = {},
  store?: ObjectStore,
): Promise<TaskContext> {
  const bucket = env['DOCBATCH_BUCKET'];
  if (!store && !bucket) {
    throw new ConfigError('DOCBATCH_BUCKET is not set: the stack sets it on every docbatch function');
  }
  const config = configFromEnv(env);
  const s3Store = store ?? new S3Store(tracer.captureAWSv3Client(createS3Client()), bucket ?? '');
  const schemas = new SchemaRegistry({ ...BUILTIN_SCHEMAS, ...(await loadStoreSchemas(s3Store)) });
  return {
    store: s3Store,
    reader: parts.reader?.() ?? absentReader(task),
    schemas,
    config,
    onDemand: parts.onDemand?.() ?? absentModel(task),
    log: portLogger(logger),
    clock: systemClock,
  };
}

export type TaskHandler = (event: unknown, context?: Context) => Promise<unknown>;

/**
 * The Lambda handler for one Task state. The context is built on the first invocation and kept for
 * the life of the execution environment; a failed build is retried by the next invocation.
 * Errors propagate unchanged: their `name` is what the state machine's `ErrorEquals` matches.
 */
export function makeHandler(task: TaskName, parts: HandlerParts = {}): TaskHandler {
  let ready: Promise<TaskContext> | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    ready ??= buildContext(process.env, task, parts).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    const ctx = await ready;
    const started = Date.now();
    try {
      const input = parts.prepare ? await parts.prepare(event, ctx) : event;
      const output = await tasks[task](input as never, ctx);
      parts.afterTask?.(output);
      logger.info('task succeeded', { task, ms: Date.now() - started });
      return output;
    } catch (error) {
      // The name only: messages can quote what a document contained. The full error is in the
      // execution history, where the state machine caught it.
      logger.warn('task failed', {
        task,
        error: (error as Error)?.name ?? 'Error',
        ms: Date.now() - started,
      });
      throw error;
    }
  };
}

/** Report's numbers as EMF metrics: the rejected-documents alarm watches `RejectedDocuments`. */
export function publishRunMetrics(output: unknown, m: Metrics = metrics): void {
  const o = output as { runId?: string; results?: number; rejected?: number } | undefined;
  if (typeof o?.rejected !== 'number') return;
  m.addMetadata('runId', String(o.runId ?? ''));
  m.addMetric(METRICS.rejectedDocuments, MetricUnit.Count, o.rejected);
  m.addMetric(METRICS.resultDocuments, MetricUnit.Count, o.results ?? 0);
  m.publishStoredMetrics();
}
