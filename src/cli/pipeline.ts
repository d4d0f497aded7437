import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { docIdFromSha256, sha256Hex } from '../core/ids.ts';
import { keys } from '../core/keys.ts';
import type { DocumentRecord, RejectedRecord } from '../core/outcomes.ts';
import { ConfigError, type Reason } from '../errors.ts';
import type { RunReport } from '../tasks/batch.ts';
import { type EngineEvent, type ExecutionOutcome, execute } from './local-engine.ts';
import type { LocalEnvironment } from './local-env.ts';

export interface InputDocument {
  /** Absolute path of the file on disk. */
  path: string;
  /** Path as the user gave it (or relative to the directory they gave), for display. */
  display: string;
  type: string;
}

/** Hidden files and editor droppings are not documents. */
function isCandidate(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith('~');
}

/**
 * Files from the arguments: a file as is, a directory walked recursively. A document's type is its
 * parent folder's name unless `type` is given.
 */
export async function collectInputs(paths: readonly string[], type?: string): Promise<InputDocument[]> {
  if (paths.length === 0) throw new ConfigError('no input given: pass one or more files or directories');
  const out: InputDocument[] = [];
  const add = (path: string, display: string) =>
    out.push({ path, display, type: type ?? basename(dirname(path)) });
  for (const given of paths) {
    const abs = resolve(given);
    let s: Awaited<ReturnType<typeof stat>>;
    try {
      s = await stat(abs);
    } catch {
      throw new ConfigError(`cannot read "${given}": no such file or directory`);
    }
    if (s.isFile()) {
      add(abs, given);
    } else if (s.isDirectory()) {
      const walk = async (dir: string, rel: string): Promise<void> => {
        const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
          a.name.localeCompare(b.name),
        );
        for (const e of entries) {
          if (!isCandidate(e.name)) continue;
          const full = join(dir, e.name);
          const relPath = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) await walk(full, relPath);
          else if (e.isFile()) add(full, relPath);
        }
      };
      await walk(abs, '');
    } else {
      throw new ConfigError(`cannot read "${given}": not a regular file or directory`);
    }
  }
  if (out.length === 0)
    throw new ConfigError(`no documents found in ${paths.map((p) => `"${p}"`).join(', ')}`);
  return out;
}

export type Outcome = 'result' | 'rejected' | 'missing';

export interface DocumentOutcome {
  input: InputDocument;
  key: string;
  docId: string;
  outcome: Outcome;
  /** Where the outcome is, as a bucket key. */
  outputKey?: string;
  reasons?: Reason[];
}

export interface PipelineResult {
  runId: string;
  documents: DocumentOutcome[];
  ingest: ExecutionOutcome[];
  batch: ExecutionOutcome;
  report?: RunReport;
}

export type ProgressEvent =
  | { phase: 'ingest'; done: number; total: number; display: string }
  | { phase: 'batch'; state: string }
  | { phase: 'done' };

export interface PipelineOptions {
  runId?: string;
  /** Ingest executions in flight at once (OCR itself is bounded by the worker pool). */
  concurrency?: number;
  waitMs?: number;
  retryMs?: number;
  onProgress?: (event: ProgressEvent) => void;
}

/** A run id that fits Bedrock job names and S3 keys, sortable by time. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Upload keys are unique within a run, so two files with one name never overwrite each other. */
function uniqueKey(type: string, name: string, used: Set<string>): string {
  let key = keys.incoming(type, name);
  const ext = extname(name);
  for (let n = 2; used.has(key); n++)
    key = keys.incoming(type, `${name.slice(0, name.length - ext.length)} (${n})${ext}`);
  used.add(key);
  return key;
}

/**
 * The offline equivalent of a day in AWS: every file is uploaded under `incoming/<type>/` and gets
 * its own ingest execution (as an S3 event would start it), then one batch execution runs, then each
 * input is matched to its one outcome.
 */
export async function runPipeline(
  env: LocalEnvironment,
  inputs: readonly InputDocument[],
  options: PipelineOptions = {},
): Promise<PipelineResult> {
  const runId = options.runId ?? newRunId();
  const progress = options.onProgress ?? (() => {});
  const used = new Set<string>();
  const uploads: { input: InputDocument; key: string; docId: string }[] = [];
  for (const input of inputs) {
    const bytes = await readFile(input.path);
    const key = uniqueKey(input.type, basename(input.path), used);
    await env.store.put(key, bytes);
    uploads.push({ input, key, docId: docIdFromSha256(sha256Hex(bytes)) });
  }

  const limit = pLimit(Math.max(1, options.concurrency ?? 4));
  let done = 0;
  const ingest = await Promise.all(
    uploads.map((u, i) =>
      limit(async () => {
        const event = {
          version: '0',
          source: 'aws.s3',
          'detail-type': 'Object Created',
          detail: { bucket: { name: env.store.bucket }, object: { key: u.key }, reason: 'PutObject' },
        };
        const outcome = await execute(env.definitions.ingest, event, {
          bindings: env.bindings.ingest,
          executionName: `${runId}-ingest-${i}`,
          waitMs: options.waitMs ?? 100,
          retryMs: options.retryMs ?? 50,
        });
        progress({ phase: 'ingest', done: ++done, total: uploads.length, display: u.input.display });
        return outcome;
      }),
    ),
  );

  const batch = await execute(
    env.definitions.batch,
    {},
    {
      bindings: wrapForProgress(env.bindings.batch, progress),
      executionName: runId,
      waitMs: options.waitMs ?? 20,
      retryMs: options.retryMs ?? 50,
    },
  );

  const documents: DocumentOutcome[] = [];
  for (const u of uploads)
    documents.push({ input: u.input, key: u.key, docId: u.docId, ...(await findOutcome(env, u.docId)) });
  let report: RunReport | undefined;
  if (await env.store.head(keys.report(runId)))
    report = JSON.parse(await env.store.getText(keys.report(runId))) as RunReport;
  progress({ phase: 'done' });
  return { runId, documents, ingest, batch, ...(report ? { report } : {}) };
}

function wrapForProgress(
  bindings: Record<string, (input: unknown) => Promise<unknown>>,
  progress: (event: ProgressEvent) => void,
): Record<string, (input: unknown) => Promise<unknown>> {
  return Object.fromEntries(
    Object.entries(bindings).map(([state, fn]) => [
      state,
      (input: unknown) => {
        progress({ phase: 'batch', state });
        return fn(input);
      },
    ]),
  );
}

/** The one outcome of a document: its result, or its rejection, or nothing (the run did not finish). */
export async function findOutcome(
  env: LocalEnvironment,
  docId: string,
): Promise<{ outcome: Outcome; outputKey?: string; reasons?: Reason[] }> {
  const docKey = keys.document(docId);
  const doc = (await env.store.head(docKey))
    ? (JSON.parse(await env.store.getText(docKey)) as DocumentRecord)
    : undefined;
  if (doc) {
    const resultKey = keys.result(doc.type, docId);
    if (await env.store.head(resultKey)) return { outcome: 'result', outputKey: resultKey };
  }
  const rejectedKey = keys.rejected(docId);
  if (await env.store.head(rejectedKey)) {
    const rejected = JSON.parse(await env.store.getText(rejectedKey)) as RejectedRecord;
    return { outcome: 'rejected', outputKey: rejectedKey, reasons: rejected.reasons };
  }
  return { outcome: 'missing' };
}

/** Events of one kind, for tests and `--trace`. */
export function eventsOf(outcome: ExecutionOutcome, type: string): EngineEvent[] {
  return outcome.events.filter((e) => e.type === type);
}
