/**
 * Where documents and runs are, read from the bucket layout alone (the local work directory or a
 * deployed S3 bucket through the same `ObjectStore`): registrations, OCR output, staged chunks,
 * claims, plans, indexes, results, rejections and reports. Read-only.
 */
import { keys } from '../core/keys.ts';
import type {
  DocumentRecord,
  IndexEntry,
  RejectedRecord,
  ResultRecord,
  StagedChunk,
} from '../core/outcomes.ts';
import { ConfigError, type Reason } from '../errors.ts';
import type { ObjectStore } from '../ports.ts';

/** Where a document is, furthest stage first: what `status` reports for it. */
export type DocumentStage = 'result' | 'rejected' | 'in-run' | 'staged' | 'ocr' | 'registered';

export interface JobRef {
  attempt: number;
  job: number;
  mode?: string;
  status?: string;
  jobId?: string;
}

export interface DocumentStatus {
  docId: string;
  stage: DocumentStage;
  /** One sentence: where it is and what happens next. */
  summary: string;
  document?: DocumentRecord;
  ocr: { jobId: string; files: number }[];
  staged?: { chunks: number; tokens: number; attempt: number; feedback?: string[] };
  claim?: { runId: string; claimedAt?: string };
  runId?: string;
  jobs: JobRef[];
  result?: {
    key: string;
    model: string;
    runId: string;
    jobIds: string[];
    tokens: { input: number; output: number };
    attempts: number;
    warnings: string[];
  };
  rejected?: { key: string; stage: string; reasons: Reason[]; runId?: string };
}

export interface RunPlanSummary {
  attempt: number;
  key: string;
  modelId?: string;
  createdAt?: string;
  documents?: number;
  records?: number;
  deferred?: number;
  jobs: { job: number; mode?: string; records?: number }[];
}

export interface RunStatus {
  runId: string;
  state: 'reported' | 'in progress' | 'nothing run';
  plans: RunPlanSummary[];
  /** `reports/<runId>.json` as written (its shape grows with the pipeline, so it is kept whole). */
  report?: Record<string, unknown>;
  reportKey?: string;
  documents: { docId: string; source: string; type: string; stage: DocumentStage; reasons?: Reason[] }[];
}

export interface WorkdirSummary {
  bucket: string;
  documents: number;
  byStage: Record<DocumentStage, number>;
  staged: number;
  claimed: number;
  runs: {
    runId: string;
    state: RunStatus['state'];
    createdAt?: string;
    modelId?: string;
    documents?: number;
    results?: number;
    rejected?: number;
    jobs?: number;
    tokens?: { input: number; output: number };
  }[];
}

export type StatusAnswer =
  | { kind: 'document'; document: DocumentStatus }
  | { kind: 'documents'; query: string; documents: DocumentStatus[] }
  | { kind: 'run'; run: RunStatus }
  | { kind: 'summary'; summary: WorkdirSummary };

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  if (!(await store.head(key))) return undefined;
  try {
    return JSON.parse(await store.getText(key)) as T;
  } catch {
    return undefined; // a torn or foreign file says nothing about the document
  }
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out;
}

const PLAN_KEY = /^runs\/([^/]+)\/(?:attempt-(\d+)\/)?plan\.json$/;
const INDEX_KEY = /^runs\/([^/]+)\/(?:attempt-(\d+)\/)?index\/job-(\d+)\.jsonl$/;

interface PlanLike {
  runId?: string;
  attempt?: number;
  modelId?: string;
  createdAt?: string;
  documents?: number;
  records?: number;
  deferred?: number;
  jobs?: { job: number; mode?: string; records?: number }[];
}

interface ReportLike {
  modelId?: string;
  createdAt?: string;
  documents?: number;
  results?: number;
  rejected?: number;
  tokens?: { input: number; output: number };
  jobs?: { attempt?: number; job: number; mode?: string; status?: string; jobId?: string }[];
}

/** Every plan of a run (attempt 1 at the run's root, re-drives under attempt-N/), in attempt order. */
async function runPlans(store: ObjectStore, runId: string): Promise<RunPlanSummary[]> {
  const plans: RunPlanSummary[] = [];
  for (const key of await keysUnder(store, keys.run(runId))) {
    const m = PLAN_KEY.exec(key);
    if (!m || m[1] !== runId) continue;
    const plan = await readJson<PlanLike>(store, key);
    if (!plan) continue;
    plans.push({
      attempt: Number(m[2] ?? plan.attempt ?? 1),
      key,
      ...(plan.modelId ? { modelId: plan.modelId } : {}),
      ...(plan.createdAt ? { createdAt: plan.createdAt } : {}),
      ...(plan.documents !== undefined ? { documents: plan.documents } : {}),
      ...(plan.records !== undefined ? { records: plan.records } : {}),
      ...(plan.deferred !== undefined ? { deferred: plan.deferred } : {}),
      jobs: (plan.jobs ?? []).map((j) => ({
        job: j.job,
        ...(j.mode ? { mode: j.mode } : {}),
        ...(j.records !== undefined ? { records: j.records } : {}),
      })),
    });
  }
  return plans.sort((a, b) => a.attempt - b.attempt);
}

/** The jobs of a run that carried a document, from the run's recordId indexes. */
async function jobsOf(store: ObjectStore, runId: string, docId: string): Promise<JobRef[]> {
  const report = await readJson<ReportLike>(store, keys.report(runId));
  const plans = await runPlans(store, runId);
  const refs: JobRef[] = [];
  for (const key of await keysUnder(store, keys.run(runId))) {
    const m = INDEX_KEY.exec(key);
    if (!m || m[1] !== runId) continue;
    const attempt = Number(m[2] ?? 1);
    const job = Number(m[3]);
    let found = false;
    for await (const line of store.lines(key)) {
      if (line.includes(docId) && (JSON.parse(line) as IndexEntry).docId === docId) {
        found = true;
        break;
      }
    }
    if (!found) continue;
    const planned = plans.find((p) => p.attempt === attempt)?.jobs.find((j) => j.job === job);
    const reported = report?.jobs?.find((j) => (j.attempt ?? 1) === attempt && j.job === job);
    const mode = reported?.mode ?? planned?.mode;
    refs.push({
      attempt,
      job,
      ...(mode ? { mode } : {}),
      ...(reported?.status ? { status: reported.status } : {}),
      ...(reported?.jobId ? { jobId: reported.jobId } : {}),
    });
  }
  return refs.sort((a, b) => a.attempt - b.attempt || a.job - b.job);
}

function describeJobs(jobs: readonly JobRef[]): string {
  return jobs
    .map(
      (j) =>
        `job ${j.job}${j.attempt > 1 ? ` (attempt ${j.attempt})` : ''}${j.mode ? ` ${j.mode}` : ''}${j.jobId ? ` ${j.jobId}` : ''}${j.status ? ` ${j.status}` : ''}`,
    )
    .join(', ');
}

/** Everything the bucket knows about one document. */
export async function documentStatus(store: ObjectStore, docId: string): Promise<DocumentStatus> {
  const document = await readJson<DocumentRecord>(store, keys.document(docId));
  const ocrKeys = await keysUnder(store, keys.ocrPrefix(docId));
  const ocrJobs = new Map<string, number>();
  for (const key of ocrKeys) {
    const [jobId, file] = key.slice(keys.ocrPrefix(docId).length).split('/');
    if (jobId && file && /^\d+$/.test(file)) ocrJobs.set(jobId, (ocrJobs.get(jobId) ?? 0) + 1);
  }
  const ocr = [...ocrJobs].map(([jobId, files]) => ({ jobId, files }));

  let staged: DocumentStatus['staged'];
  if (await store.head(keys.staged(docId))) {
    let chunks = 0;
    let tokens = 0;
    let attempt = 1;
    let feedback: string[] | undefined;
    for await (const line of store.lines(keys.staged(docId))) {
      const c = JSON.parse(line) as StagedChunk;
      chunks++;
      tokens += c.tokens;
      attempt = c.attempt ?? 1;
      feedback = c.feedback;
    }
    staged = { chunks, tokens, attempt, ...(feedback ? { feedback } : {}) };
  }
  const claimRecord = await readJson<{ runId: string; claimedAt?: string }>(store, keys.claim(docId));
  const claim = claimRecord
    ? { runId: claimRecord.runId, ...(claimRecord.claimedAt ? { claimedAt: claimRecord.claimedAt } : {}) }
    : undefined;

  const resultKey = document ? keys.result(document.type, docId) : undefined;
  const resultRecord = resultKey ? await readJson<ResultRecord>(store, resultKey) : undefined;
  const rejectedRecord = await readJson<RejectedRecord>(store, keys.rejected(docId));
  const runId = resultRecord?.extraction.runId ?? claim?.runId ?? rejectedRecord?.runId ?? document?.runId;
  const jobs = runId ? await jobsOf(store, runId, docId) : [];

  const base = {
    docId,
    ocr,
    jobs,
    ...(document ? { document } : {}),
    ...(staged ? { staged } : {}),
    ...(claim ? { claim } : {}),
    ...(runId ? { runId } : {}),
  };
  const inRun = runId ? ` in run ${runId}${jobs.length ? `, ${describeJobs(jobs)}` : ''}` : '';
  if (resultRecord && resultKey) {
    const e = resultRecord.extraction;
    return {
      ...base,
      stage: 'result',
      summary: `result: a valid ${resultRecord.type} record at ${resultKey}, extracted by ${e.model}${inRun}`,
      result: {
        key: resultKey,
        model: e.model,
        runId: e.runId,
        jobIds: e.jobIds,
        tokens: e.tokens,
        attempts: e.attempts,
        warnings: e.warnings,
      },
    };
  }
  if (rejectedRecord) {
    const first = rejectedRecord.reasons[0];
    return {
      ...base,
      stage: 'rejected',
      summary: `rejected at ${rejectedRecord.stage}${first ? `: ${first.code}: ${first.message}` : ''}${rejectedRecord.reasons.length > 1 ? ` (+${rejectedRecord.reasons.length - 1} more)` : ''}${inRun}`,
      rejected: {
        key: keys.rejected(docId),
        stage: rejectedRecord.stage,
        reasons: rejectedRecord.reasons,
        ...(rejectedRecord.runId ? { runId: rejectedRecord.runId } : {}),
      },
    };
  }
  if (!document) throw new ConfigError(`no document ${docId}`);
  if (claim)
    return {
      ...base,
      stage: 'in-run',
      summary: `in run ${claim.runId}${jobs.length ? `, ${describeJobs(jobs)}` : ''}: waiting for its model output and Collect`,
    };
  if (staged)
    return {
      ...base,
      stage: 'staged',
      summary: `staged: ${staged.chunks} chunk(s), ~${staged.tokens} tokens${staged.attempt > 1 ? `, attempt ${staged.attempt}` : ''}, waiting for the next batch run`,
    };
  if (ocr.length > 0)
    return {
      ...base,
      stage: 'ocr',
      summary: `OCR'd (${ocr.map((o) => o.jobId).join(', ')}), not chunked yet`,
    };
  return {
    ...base,
    stage: 'registered',
    summary: 'registered: OCR has not produced output yet (in progress, or its ingest execution stopped)',
  };
}

/** What a run did: its plans, its report and the outcome of every document it carried. */
export async function runStatus(store: ObjectStore, runId: string): Promise<RunStatus | undefined> {
  const plans = await runPlans(store, runId);
  const report = await readJson<Record<string, unknown>>(store, keys.report(runId));
  if (plans.length === 0 && !report) return undefined;
  const docIds = new Set<string>();
  const entries = new Map<string, IndexEntry>();
  for (const key of await keysUnder(store, keys.run(runId))) {
    const m = INDEX_KEY.exec(key);
    if (!m || m[1] !== runId) continue;
    for await (const line of store.lines(key)) {
      const entry = JSON.parse(line) as IndexEntry;
      if (!docIds.has(entry.docId)) entries.set(entry.docId, entry);
      docIds.add(entry.docId);
    }
  }
  const documents: RunStatus['documents'] = [];
  for (const docId of docIds) {
    const entry = entries.get(docId);
    const doc = await readJson<DocumentRecord>(store, keys.document(docId));
    const type = doc?.type ?? entry?.type ?? '';
    const rejected = await readJson<RejectedRecord>(store, keys.rejected(docId));
    const stage: DocumentStage = (await store.head(keys.result(type, docId)))
      ? 'result'
      : rejected
        ? 'rejected'
        : (await store.head(keys.claim(docId)))
          ? 'in-run'
          : 'staged';
    documents.push({
      docId,
      source: doc?.source.key ?? entry?.source.key ?? '',
      type,
      stage,
      ...(rejected ? { reasons: rejected.reasons } : {}),
    });
  }
  const records = plans.reduce((n, p) => n + (p.records ?? 0), 0);
  return {
    runId,
    state: report ? 'reported' : records === 0 && plans.length > 0 ? 'nothing run' : 'in progress',
    plans,
    ...(report ? { report, reportKey: keys.report(runId) } : {}),
    documents: documents.sort((a, b) => a.source.localeCompare(b.source)),
  };
}

/** Counts per stage and every run, newest first. */
export async function workdirSummary(store: ObjectStore): Promise<WorkdirSummary> {
  const byStage: Record<DocumentStage, number> = {
    result: 0,
    rejected: 0,
    'in-run': 0,
    staged: 0,
    ocr: 0,
    registered: 0,
  };
  const staged = new Set(
    (await keysUnder(store, keys.stagedPrefix)).map((k) =>
      k.slice(keys.stagedPrefix.length, -'.jsonl'.length),
    ),
  );
  const claimed = new Set(
    (await keysUnder(store, 'claims/')).map((k) => k.slice('claims/'.length, -'.json'.length)),
  );
  const ocred = new Set((await keysUnder(store, 'ocr/')).map((k) => k.split('/')[1] ?? ''));
  let documents = 0;
  for (const key of await keysUnder(store, 'documents/')) {
    if (!key.endsWith('.json')) continue;
    const doc = await readJson<DocumentRecord>(store, key);
    if (!doc) continue;
    documents++;
    const stage: DocumentStage =
      doc.status === 'result' || doc.status === 'rejected'
        ? doc.status
        : claimed.has(doc.docId)
          ? 'in-run'
          : staged.has(doc.docId)
            ? 'staged'
            : ocred.has(doc.docId)
              ? 'ocr'
              : 'registered';
    byStage[stage]++;
  }

  const runIds = new Set<string>();
  for (const key of await keysUnder(store, 'reports/')) {
    if (key.endsWith('.json')) runIds.add(key.slice('reports/'.length, -'.json'.length));
  }
  for (const key of await keysUnder(store, 'runs/')) {
    const m = PLAN_KEY.exec(key);
    if (m?.[1]) runIds.add(m[1]);
  }
  const runs: WorkdirSummary['runs'] = [];
  for (const runId of [...runIds].sort().reverse()) {
    const report = await readJson<ReportLike>(store, keys.report(runId));
    const plan = await readJson<PlanLike>(store, keys.plan(runId));
    const state: RunStatus['state'] = report
      ? 'reported'
      : plan && (plan.records ?? 0) === 0
        ? 'nothing run'
        : 'in progress';
    const createdAt = plan?.createdAt ?? report?.createdAt;
    const modelId = report?.modelId ?? plan?.modelId;
    const docs = report?.documents ?? plan?.documents;
    const jobs = report?.jobs?.length ?? plan?.jobs?.length;
    runs.push({
      runId,
      state,
      ...(createdAt ? { createdAt } : {}),
      ...(modelId ? { modelId } : {}),
      ...(docs !== undefined ? { documents: docs } : {}),
      ...(report?.results !== undefined ? { results: report.results } : {}),
      ...(report?.rejected !== undefined ? { rejected: report.rejected } : {}),
      ...(jobs !== undefined ? { jobs } : {}),
      ...(report?.tokens ? { tokens: report.tokens } : {}),
    });
  }
  return { bucket: store.bucket, documents, byStage, staged: staged.size, claimed: claimed.size, runs };
}

const DOC_ID = /^[0-9a-f]{24}$/;

/**
 * Answers `status <query>`: a docId (or a unique prefix of one), a run id, or a source key (the
 * full `incoming/<type>/<name>` key, or just the file name). Nothing matching is an error that says
 * what each kind of argument looks like.
 */
export async function statusOf(store: ObjectStore, query?: string): Promise<StatusAnswer> {
  if (!query) return { kind: 'summary', summary: await workdirSummary(store) };
  const q = query.trim();
  if (DOC_ID.test(q) && (await store.head(keys.document(q))))
    return { kind: 'document', document: await documentStatus(store, q) };
  if (DOC_ID.test(q) && (await store.head(keys.rejected(q))))
    return { kind: 'document', document: await documentStatus(store, q) };
  if (/^[A-Za-z0-9][A-Za-z0-9-]{0,40}$/.test(q)) {
    const run = await runStatus(store, q);
    if (run) return { kind: 'run', run };
  }
  const matches: string[] = [];
  const name = q.replace(/^.*\//, '');
  for (const key of await keysUnder(store, 'documents/')) {
    const docId = key.slice('documents/'.length, -'.json'.length);
    if (/^[0-9a-f]{6,23}$/.test(q) && docId.startsWith(q)) {
      matches.push(docId);
      continue;
    }
    const doc = await readJson<DocumentRecord>(store, key);
    if (!doc) continue;
    const sources = doc.sources?.length ? doc.sources : [doc.source.key];
    const matchesSource = (s: string) =>
      s === q ||
      s === `incoming/${q}` ||
      s.endsWith(`/${q}`) ||
      (!q.includes('/') && s.replace(/^.*\//, '') === name);
    if (sources.some(matchesSource)) matches.push(doc.docId);
  }
  if (matches.length === 1 && matches[0])
    return { kind: 'document', document: await documentStatus(store, matches[0]) };
  if (matches.length > 1) {
    const documents: DocumentStatus[] = [];
    for (const docId of matches) documents.push(await documentStatus(store, docId));
    return { kind: 'documents', query: q, documents };
  }
  throw new ConfigError(
    `nothing in bucket "${store.bucket}" matches "${query}": no document, run or source key by that name. ` +
      'Allowed: a docId (24 hex characters, or a unique prefix of 6 or more), a run id such as 20261123T043827Z-00b6, ' +
      'or a source key such as incoming/invoice/acme.pdf (or just acme.pdf). Fix: run `docbatch status` without an argument to list the runs and counts, or check --workdir.',
  );
}
