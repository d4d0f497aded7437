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
  /** Runs an earlier, interrupted invocation left unfinished, completed before this run's batch. */
  resumed: { runId: string; batch: ExecutionOutcome }[];
  batch: ExecutionOutcome;
  report?: RunReport;
}

/** How one document's ingest execution ended. */
export type IngestOutcome = 'staged' | 'duplicate' | 'rejected' | 'failed';

/** A batch job as the run sees it: queued, then Bedrock's statuses (or on-demand's). */
export interface JobProgress {
  job: number;
  mode: string;
  records: number;
  attempt?: number;
}

/**
 * What a run reports while it works, in order: `started`, per document `document` steps and one `ingest`
 * when its execution ends; then `assembled`, `job` status changes, `collected` (per attempt), and
 * `done`. `batch` names every batch Task state as it starts (the coarse view).
 */
export type ProgressEvent =
  | { phase: 'started'; runId: string; total: number }
  | {
      phase: 'ingest';
      done: number;
      total: number;
      display: string;
      docId: string;
      outcome: IngestOutcome;
    }
  | {
      phase: 'document';
      display: string;
      docId: string;
      step: 'registered' | 'ocr' | 'chunked';
      route?: string;
      pages?: number;
      chunks?: number;
      tokens?: number;
    }
  | { phase: 'batch'; state: string }
  | { phase: 'resume'; runId: string }
  | {
      phase: 'assembled';
      runId: string;
      attempt: number;
      documents: number;
      records: number;
      deferred: number;
      jobs: JobProgress[];
    }
  | { phase: 'job'; job: number; mode: string; status: string; attempt: number; jobId?: string }
  | {
      phase: 'collected';
      attempt: number;
      results: number;
      rejected: number;
      redrive: number;
      records: number;
      errorRecords: number;
      tokens: { input: number; output: number };
    }
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

/**
 * Upload keys are unique within a run, so two files with one name never overwrite each other. A
 * backslash, legal in a POSIX file or folder name, becomes '_': the local store refuses it in keys (it is a
 * separator on Windows), and a file must succeed or fail on its content, never on its name.
 */
function uniqueKey(folder: string, fileName: string, used: Set<string>): string {
  const type = folder.replaceAll('\\', '_');
  const name = fileName.replaceAll('\\', '_');
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

  progress({ phase: 'started', runId, total: uploads.length });
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
        const watch = watchIngest(env.bindings.ingest, u.input.display, u.docId, progress);
        const outcome = await execute(env.definitions.ingest, event, {
          bindings: watch.bindings,
          executionName: `${runId}-ingest-${i}`,
          waitMs: options.waitMs ?? 100,
          retryMs: options.retryMs ?? 50,
        });
        progress({
          phase: 'ingest',
          done: ++done,
          total: uploads.length,
          display: u.input.display,
          docId: u.docId,
          outcome:
            outcome.status === 'SUCCEEDED' || watch.outcome() === 'rejected' ? watch.outcome() : 'failed',
        });
        return outcome;
      }),
    ),
  );

  const runBatch = (executionName: string) =>
    execute(
      env.definitions.batch,
      {},
      {
        bindings: wrapForProgress(env.bindings.batch, progress),
        executionName,
        waitMs: options.waitMs ?? 20,
        retryMs: options.retryMs ?? 50,
      },
    );
  // A run killed mid-way holds claims on staged documents (or has a plan but no report): finish it
  // first, under its own id, so its documents are neither stranded nor submitted twice.
  const resumed: PipelineResult['resumed'] = [];
  for (const incomplete of await incompleteRuns(env)) {
    progress({ phase: 'resume', runId: incomplete });
    resumed.push({ runId: incomplete, batch: await runBatch(incomplete) });
  }
  const batch = await runBatch(runId);

  const documents: DocumentOutcome[] = [];
  for (const u of uploads)
    documents.push({ input: u.input, key: u.key, docId: u.docId, ...(await findOutcome(env, u.docId)) });
  let report: RunReport | undefined;
  if (await env.store.head(keys.report(runId)))
    report = JSON.parse(await env.store.getText(keys.report(runId))) as RunReport;
  progress({ phase: 'done' });
  return { runId, documents, ingest, resumed, batch, ...(report ? { report } : {}) };
}

/** Numbers read from a task's output without trusting its shape (progress must never break a run). */
function num(value: unknown, key: string): number | undefined {
  const v = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof v === 'number' ? v : undefined;
}

function str(value: unknown, key: string): string | undefined {
  const v = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/**
 * Watches one ingest execution through its Task bindings: the steps a document passes (registered,
 * OCR'd, chunked) and how it ended. Only observes: inputs and outputs pass through untouched.
 */
function watchIngest(
  bindings: Record<string, (input: unknown) => Promise<unknown>>,
  display: string,
  docId: string,
  progress: (event: ProgressEvent) => void,
): { bindings: Record<string, (input: unknown) => Promise<unknown>>; outcome: () => IngestOutcome } {
  let outcome: IngestOutcome = 'failed';
  const observe: Record<string, (output: unknown) => void> = {
    Register: (out) => {
      const route = str(out, 'route');
      if (route === 'duplicate') outcome = 'duplicate';
      if (route !== 'rejected' && route !== 'duplicate') {
        const pages = num(out, 'pages');
        progress({
          phase: 'document',
          display,
          docId,
          step: 'registered',
          ...(route ? { route } : {}),
          ...(pages !== undefined ? { pages } : {}),
        });
      }
    },
    ExtractTextLayer: () => progress({ phase: 'document', display, docId, step: 'ocr', route: 'text-layer' }),
    GetTextractStatus: (out) => {
      const status = str(out, 'JobStatus') ?? str(out, 'Status');
      if (status === 'SUCCEEDED' || status === 'PARTIAL_SUCCESS')
        progress({ phase: 'document', display, docId, step: 'ocr', route: 'ocr' });
    },
    Chunk: (out) => {
      outcome = 'staged';
      const chunks = num(out, 'chunks');
      const tokens = num(out, 'tokens');
      progress({
        phase: 'document',
        display,
        docId,
        step: 'chunked',
        ...(chunks !== undefined ? { chunks } : {}),
        ...(tokens !== undefined ? { tokens } : {}),
      });
    },
    Quarantine: () => {
      outcome = 'rejected';
    },
  };
  const wrapped = Object.fromEntries(
    Object.entries(bindings).map(([state, fn]) => [
      state,
      async (input: unknown) => {
        const output = await fn(input);
        observe[state]?.(output);
        return output;
      },
    ]),
  );
  return { bindings: wrapped, outcome: () => outcome };
}

/**
 * Watches the batch execution through its Task bindings: every state as it starts, the plan each
 * Assemble writes, job status changes (CreateJob, GetJob, InvokeOnDemand) and Collect's summary.
 */
function wrapForProgress(
  bindings: Record<string, (input: unknown) => Promise<unknown>>,
  progress: (event: ProgressEvent) => void,
): Record<string, (input: unknown) => Promise<unknown>> {
  const jobs = new Map<string, { job: number; mode: string; attempt: number }>();
  const lastStatus = new Map<string, string>();
  const jobStatus = (arnOrId: string, status: string, jobId?: string) => {
    const job = jobs.get(arnOrId);
    if (!job || lastStatus.get(arnOrId) === status) return;
    lastStatus.set(arnOrId, status);
    progress({ phase: 'job', ...job, status, ...(jobId ? { jobId } : {}) });
  };
  const jobOf = (input: unknown) => {
    const job = input && typeof input === 'object' ? (input as Record<string, unknown>)['job'] : undefined;
    return job && typeof job === 'object' ? job : undefined;
  };
  const observe: Record<string, (input: unknown, output: unknown) => void> = {
    Assemble: (_input, plan) => {
      const attempt = num(plan, 'attempt') ?? 1;
      const planned = (plan as { jobs?: unknown[] } | undefined)?.jobs ?? [];
      const items: JobProgress[] = planned.map((j) => ({
        job: num(j, 'job') ?? 0,
        mode: str(j, 'mode') ?? 'batch',
        records: num(j, 'records') ?? 0,
        attempt,
      }));
      for (const [i, j] of items.entries()) {
        const name = str(planned[i], 'jobName') ?? `${attempt}-${j.job}`;
        jobs.set(name, { job: j.job, mode: j.mode, attempt });
      }
      progress({
        phase: 'assembled',
        runId: str(plan, 'runId') ?? '',
        attempt,
        documents: num(plan, 'documents') ?? 0,
        records: num(plan, 'records') ?? 0,
        deferred: num(plan, 'deferred') ?? 0,
        jobs: items,
      });
    },
    CreateJob: (input, output) => {
      const name = str(input, 'JobName');
      const arn = str(output, 'JobArn');
      const job = name ? jobs.get(name) : undefined;
      if (job && arn) {
        jobs.set(arn, job);
        jobStatus(arn, 'Submitted', arn.slice(arn.lastIndexOf('/') + 1));
      }
    },
    GetJob: (input, output) => {
      const arn = str(input, 'JobIdentifier');
      const status = str(output, 'Status');
      if (arn && status) jobStatus(arn, status);
    },
    InvokeOnDemand: (input, output) => {
      const name = str(jobOf(input), 'jobName');
      const status = str(output, 'status');
      if (name && status) jobStatus(name, status, str(output, 'jobId'));
    },
    Collect: (_input, out) => {
      const tokens = (out as { tokens?: { input?: number; output?: number } } | undefined)?.tokens;
      progress({
        phase: 'collected',
        attempt: num(out, 'attempt') ?? 1,
        results: num(out, 'results') ?? 0,
        rejected: num(out, 'rejected') ?? 0,
        redrive: num(out, 'redrive') ?? 0,
        records: num(out, 'records') ?? 0,
        errorRecords: num(out, 'errorRecords') ?? 0,
        tokens: { input: tokens?.input ?? 0, output: tokens?.output ?? 0 },
      });
    },
  };
  return Object.fromEntries(
    Object.entries(bindings).map(([state, fn]) => [
      state,
      async (input: unknown) => {
        progress({ phase: 'batch', state });
        if (state === 'InvokeOnDemand') {
          const name = str(jobOf(input), 'jobName');
          if (name) jobStatus(name, 'InProgress');
        }
        const output = await fn(input);
        observe[state]?.(input, output);
        return output;
      },
    ]),
  );
}

/**
 * Run ids an interrupted invocation left behind: a claim on a staged document, or a plan, with no
 * report. Re-executing the batch machine under the same id finishes them: Assemble reuses the
 * plan, job creation is idempotent by token, and outcomes are written once.
 */
export async function incompleteRuns(env: LocalEnvironment): Promise<string[]> {
  const ids = new Set<string>();
  for await (const claim of env.store.list(keys.claimsPrefix)) {
    try {
      const { runId } = JSON.parse(await env.store.getText(claim.key)) as { runId?: unknown };
      if (typeof runId === 'string') ids.add(runId);
    } catch {
      // a claim that cannot be read names no run; Assemble will see it and decide
    }
  }
  for await (const obj of env.store.list(keys.runsPrefix)) {
    const m = /^runs\/([^/]+)\/plan\.json$/.exec(obj.key);
    if (m?.[1]) ids.add(m[1]);
  }
  const open: string[] = [];
  for (const id of [...ids].sort()) if (!(await env.store.head(keys.report(id)))) open.push(id);
  return open;
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
