import type { Config } from '../config.ts';
import type { SchemaRegistry } from '../core/validate.ts';
import type { Clock, DocumentReader, Logger, ObjectStore, OnDemandModel } from '../ports.ts';

/** What every task gets: adapters built once (per cold start in Lambda, per run offline). */
export interface TaskContext {
  store: ObjectStore;
  reader: DocumentReader;
  schemas: SchemaRegistry;
  config: Config;
  onDemand: OnDemandModel;
  log: Logger;
  clock: Clock;
}

export const systemClock: Clock = { now: () => new Date() };

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/** Reads a JSON object written by docbatch. */
export async function readJson<T>(ctx: TaskContext, key: string): Promise<T> {
  return JSON.parse(await ctx.store.getText(key)) as T;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
