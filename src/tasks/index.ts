import { assemble, collect, invokeOnDemand, release, report } from './batch.ts';
import type { TaskContext } from './context.ts';
import { chunk, extractTextLayer, quarantine, register } from './ingest.ts';

// Task inputs are whatever the ASL's Parameters build: typed per task, checked by the state machine tests.
// biome-ignore lint/suspicious/noExplicitAny: the registry is the untyped boundary between ASL JSON and typed tasks
export type Task = (input: any, ctx: TaskContext) => Promise<unknown>;

/**
 * Every Lambda-backed Task state, keyed by its state name in the ASL. The Lambda handlers and the
 * local runner both dispatch through this table, so the two engines run the same code.
 */
export const tasks = {
  Register: register,
  ExtractTextLayer: extractTextLayer,
  Chunk: chunk,
  Quarantine: quarantine,
  Assemble: assemble,
  InvokeOnDemand: invokeOnDemand,
  Collect: collect,
  Release: release,
  Report: report,
} satisfies Record<string, Task>;

export type TaskName = keyof typeof tasks;

/** The ASL placeholder each Lambda-backed state uses for its function ARN. */
export function functionArnPlaceholder(state: TaskName): string {
  return `${state}FunctionArn`;
}
