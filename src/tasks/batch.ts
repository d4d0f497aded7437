import pLimit from 'p-limit';
import { JobPlanner } from '../core/batch/planner.ts';
import { type ChunkOutcome, decideDocument, interpretOutputLine } from '../core/collect.ts';
import { familyForModel } from '../core/families/index.ts';
import { maxTokensFor } from '../core/families/prompt.ts';
import { recordId, runIdFromExecutionName } from '../core/ids.ts';
import { jobIdFromArn, keys, parseS3Uri, s3Uri } from '../core/keys.ts';
import type {
  DocumentRecord,
  IndexEntry,
  RejectedRecord,
  ResultRecord,
  StagedChunk,
} from '../core/outcomes.ts';
import { AlreadyExistsError, type Reason } from '../errors.ts';
import type { ObjectWriter } from '../ports.ts';
import { json, readJson, type TaskContext } from './context.ts';
import { addSourcesToOutcome, updateDocument } from './ingest.ts';

export interface JobItem {
  job: number;
  attempt: number;
  jobName: string;
  mode: 'batch' | 'on-demand';
  modelId: string;
  inputUri: string;
  outputUri: string;
  records: number;
  bytes: number;
  clientRequestToken: string;
  timeoutHours: number;
  /** Polls of GetJob after which a job still running is stopped (its records are re-driven). */
  maxPolls: number;
}

export interface Plan {
  runId: string;
  attempt: number;
  modelId: string;
  family: string;
  createdAt: string;
  documents: number;
  records: number;
  deferred: number;
  maxConcurrency: number;
  jobs: JobItem[];
}

/** Bedrock job names allow `[a-zA-Z0-9]` then `-+.`; run ids are made to fit. */
function jobName(runId: string, attempt: number, job: number): string {
  return `docbatch-${runId}-a${attempt}-${job}`.replace(/[^a-zA-Z0-9+\-.]/g, '-').slice(0, 63);
}

interface ClaimRecord {
  runId: string;
  claimedAt: string;
}

/** Claims a staged document for this run; false when another run holds it. */
async function claim(ctx: TaskContext, docId: string, runId: string): Promise<boolean> {
  const key = keys.claim(docId);
  try {
    await ctx.store.put(
      key,
      json({ runId, claimedAt: ctx.clock.now().toISOString() } satisfies ClaimRecord),
      { ifNoneMatch: true },
    );
    return true;
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    const held = await readJson<ClaimRecord>(ctx, key);
    return held.runId === runId;
  }
}

/**
 * Assemble: streams every staged chunk into JSONL batch input files (one request body per line,
 * recordId `[A-Za-z0-9]{11}`), with an index beside them, and plans jobs under the model's quotas.
 * Re-running it for the same run returns the existing plan.
 */
export async function assemble(input: { runId: string; attempt?: number }, ctx: TaskContext): Promise<Plan> {
  const runId = runIdFromExecutionName(input.runId);
  const runAttempt = input.attempt ?? 1;
  const planKey = keys.plan(runId, runAttempt);
  if (await ctx.store.head(planKey)) return readJson<Plan>(ctx, planKey);

  const { config } = ctx;
  const modelId = config.model.id;
  const family = familyForModel(modelId, config.model.families);
  const planner = new JobPlanner(config.quotas);
  let input_: ObjectWriter | undefined;
  let index: ObjectWriter | undefined;
  let documents = 0;
  const claimed: string[] = [];

  for await (const obj of ctx.store.list(keys.stagedPrefix)) {
    if (!obj.key.endsWith('.jsonl')) continue;
    const docId = obj.key.slice(keys.stagedPrefix.length, -'.jsonl'.length);
    if (!(await claim(ctx, docId, runId))) continue;
    claimed.push(docId);
    documents++;
    for await (const line of ctx.store.lines(obj.key)) {
      const staged = JSON.parse(line) as StagedChunk;
      const schema = ctx.schemas.schema(staged.type);
      // A re-driven record carries its own attempt (and the previous attempt's errors).
      const attempt = staged.attempt ?? 1;
      const body = family.buildRequest({
        type: staged.type,
        schema,
        text: staged.text,
        chunk: {
          index: staged.chunk,
          count: staged.chunks,
          pageStart: staged.pageStart,
          pageEnd: staged.pageEnd,
        },
        maxTokens: maxTokensFor(schema, staged.tokens, attempt),
        ...(staged.feedback && staged.feedback.length > 0 ? { feedback: staged.feedback } : {}),
      });
      const id = recordId(runId, staged.docId, staged.chunk, attempt);
      const record = `${JSON.stringify({ recordId: id, modelInput: body })}\n`;
      const place = planner.place(Buffer.byteLength(record));
      if (place.newFile) {
        await input_?.close();
        input_ = ctx.store.openWriter(keys.jobInputFile(runId, runAttempt, place.job, place.part));
      }
      if (place.newJob) {
        await index?.close();
        index = ctx.store.openWriter(keys.jobIndex(runId, runAttempt, place.job));
      }
      await input_?.write(record);
      const entry: IndexEntry = {
        recordId: id,
        docId: staged.docId,
        type: staged.type,
        chunk: staged.chunk,
        chunks: staged.chunks,
        attempt,
        job: place.job,
        source: staged.source,
      };
      await index?.write(`${JSON.stringify(entry)}\n`);
    }
  }
  await input_?.close();
  await index?.close();

  const planned = planner.jobs();
  const records = planned.reduce((n, j) => n + j.records, 0);
  let deferred = 0;
  const jobs: JobItem[] = [];
  for (const j of planned) {
    const belowMin = j.records < config.quotas.minRecordsPerJob;
    if (belowMin && config.belowMinimum === 'defer') {
      deferred += j.records;
      continue;
    }
    jobs.push({
      job: j.job,
      attempt: runAttempt,
      jobName: jobName(runId, runAttempt, j.job),
      mode: belowMin ? 'on-demand' : 'batch',
      modelId,
      inputUri: s3Uri(ctx.store.bucket, keys.jobInputPrefix(runId, runAttempt, j.job)),
      outputUri: s3Uri(ctx.store.bucket, keys.outputPrefix(runId, runAttempt)),
      records: j.records,
      bytes: j.bytes,
      clientRequestToken: `${runId}-a${runAttempt}-job-${j.job}`.replace(/[^a-zA-Z0-9-]/g, '-'),
      timeoutHours: config.batch.timeoutHours,
      maxPolls: Math.max(1, Math.ceil((config.batch.deadlineHours * 3600) / config.batch.pollSeconds)),
    });
  }
  if (deferred > 0) {
    // Deferred records wait for a later run: release their claims so that run can take them.
    const deferredJobs = new Set(
      planned.filter((j) => j.records < config.quotas.minRecordsPerJob).map((j) => j.job),
    );
    for (const j of deferredJobs) {
      for await (const line of ctx.store.lines(keys.jobIndex(runId, runAttempt, j))) {
        await ctx.store.delete(keys.claim((JSON.parse(line) as IndexEntry).docId));
      }
    }
  }
  const plan: Plan = {
    runId,
    attempt: runAttempt,
    modelId,
    family: family.name,
    createdAt: ctx.clock.now().toISOString(),
    documents,
    records,
    deferred,
    maxConcurrency: Math.max(1, config.quotas.maxConcurrentJobs),
    jobs,
  };
  await ctx.store.put(planKey, json(plan));
  for (const docId of claimed) await updateDocument(ctx, docId, { runId });
  ctx.log.info('assembled', { runId, attempt: runAttempt, documents, records, jobs: jobs.length, deferred });
  return plan;
}

/**
 * InvokeOnDemand: a job below the batch minimum, sent through the on-demand runtime with bounded
 * concurrency, its output written in the batch `.jsonl.out` shape so Collect cannot tell.
 */
export async function invokeOnDemand(
  input: { job: JobItem },
  ctx: TaskContext,
): Promise<{ job: number; jobId: string; status: string }> {
  const { job } = input;
  const inPrefix = parseS3Uri(job.inputUri)?.key ?? '';
  const outPrefix = parseS3Uri(job.outputUri)?.key ?? '';
  const jobId = `ondemand${job.job}`.padEnd(12, '0').slice(0, 12);
  const limit = pLimit(Math.max(1, ctx.config.onDemandConcurrency));
  let success = 0;
  let errors = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  const family = familyForModel(job.modelId, ctx.config.model.families);
  for await (const file of ctx.store.list(inPrefix)) {
    if (!file.key.endsWith('.jsonl')) continue;
    const name = file.key.slice(file.key.lastIndexOf('/') + 1);
    const writer = ctx.store.openWriter(`${outPrefix}${jobId}/${name}.out`);
    const pending: Promise<void>[] = [];
    for await (const line of ctx.store.lines(file.key)) {
      const { recordId: id, modelInput } = JSON.parse(line) as { recordId: string; modelInput: unknown };
      pending.push(
        limit(async () => {
          try {
            const modelOutput = await ctx.onDemand.invoke(job.modelId, modelInput);
            const usage = family.parseResponse(modelOutput).usage;
            inputTokens += usage.inputTokens;
            outputTokens += usage.outputTokens;
            success++;
            await writer.write(`${JSON.stringify({ recordId: id, modelInput, modelOutput })}\n`);
          } catch (error) {
            errors++;
            const e = error as Error & { $metadata?: { httpStatusCode?: number } };
            const errorCode = e.$metadata?.httpStatusCode ?? (e.name === 'ValidationException' ? 400 : 500);
            await writer.write(
              `${JSON.stringify({ recordId: id, modelInput, error: { errorCode, errorMessage: e.message } })}\n`,
            );
          }
        }),
      );
    }
    await Promise.all(pending);
    await writer.close();
  }
  await ctx.store.put(
    `${outPrefix}${jobId}/manifest.json.out`,
    JSON.stringify({
      totalRecordCount: success + errors,
      processedRecordCount: success + errors,
      successRecordCount: success,
      errorRecordCount: errors,
      inputTokenCount: inputTokens,
      outputTokenCount: outputTokens,
    }),
  );
  return { job: job.job, jobId, status: 'Completed' };
}

export interface JobResult {
  job: number;
  mode?: string;
  status?: string;
  jobArn?: string;
  jobId?: string;
  message?: string;
  error?: { Error?: string; Cause?: unknown };
}

export interface CollectSummary {
  runId: string;
  attempt: number;
  results: number;
  rejected: number;
  /** Documents re-staged for the next attempt (their failure may be transient or fixable with feedback). */
  redrive: number;
  nextAttempt: number;
  records: number;
  errorRecords: number;
  tokens: { input: number; output: number };
  jobs: JobResult[];
}

/**
 * Collect: joins every output line to its index entry by recordId, parses and repairs the model's
 * answer, merges a document's chunks, validates the record and writes exactly one outcome per
 * document: `results/<type>/<docId>.json` or `rejected/<docId>.json`.
 */
export async function collect(
  input: { runId: string; attempt?: number; jobResults?: JobResult[] },
  ctx: TaskContext,
): Promise<CollectSummary> {
  const runId = runIdFromExecutionName(input.runId);
  const attempt = input.attempt ?? 1;
  const plan = await readJson<Plan>(ctx, keys.plan(runId, attempt));
  const family = familyForModel(plan.modelId, ctx.config.model.families);
  const entries = new Map<string, IndexEntry>();
  const docs = new Map<string, { entry: IndexEntry; chunks: Map<number, ChunkOutcome> }>();
  for (const job of plan.jobs) {
    for await (const line of ctx.store.lines(keys.jobIndex(runId, attempt, job.job))) {
      const entry = JSON.parse(line) as IndexEntry;
      entries.set(entry.recordId, entry);
      if (!docs.has(entry.docId)) docs.set(entry.docId, { entry, chunks: new Map() });
    }
  }
  const jobMessages = new Map<number, string>();
  for (const r of input.jobResults ?? []) {
    if (r.status && r.status !== 'Completed')
      jobMessages.set(r.job, `batch job ended ${r.status}${r.message ? `: ${r.message}` : ''}`);
    if (r.error)
      jobMessages.set(
        r.job,
        `batch job could not run: ${r.error.Error ?? 'error'} ${typeof r.error.Cause === 'string' ? r.error.Cause : ''}`.trim(),
      );
  }

  let records = 0;
  let errorRecords = 0;
  const tokens = { input: 0, output: 0 };
  const outputPrefix = keys.outputPrefix(runId, attempt);
  for await (const obj of ctx.store.list(outputPrefix)) {
    if (!obj.key.endsWith('.jsonl.out')) continue;
    const jobId = obj.key.slice(outputPrefix.length).split('/')[0] ?? '';
    for await (const line of ctx.store.lines(obj.key)) {
      let parsedLine: {
        recordId?: string;
        modelOutput?: unknown;
        error?: { errorCode?: number; errorMessage?: string };
      };
      try {
        parsedLine = JSON.parse(line);
      } catch {
        continue; // a torn line belongs to no record; its record is reported missing below
      }
      if (typeof parsedLine !== 'object' || parsedLine === null) continue;
      const entry = typeof parsedLine.recordId === 'string' ? entries.get(parsedLine.recordId) : undefined;
      if (!entry) continue;
      const doc = docs.get(entry.docId);
      if (!doc || doc.chunks.has(entry.chunk)) continue;
      records++;
      if (parsedLine.error) errorRecords++;
      const outcome = interpretOutputLine(parsedLine, family, ctx.schemas.schema(entry.type), jobId);
      tokens.input += outcome.tokens.input;
      tokens.output += outcome.tokens.output;
      doc.chunks.set(entry.chunk, outcome);
    }
  }

  let results = 0;
  let rejected = 0;
  let redrive = 0;
  for (const [docId, { entry, chunks }] of docs) {
    const decision = decideDocument(
      chunks,
      entry.chunks,
      (r) => ctx.schemas.validate(entry.type, r),
      jobMessages.get(entry.job),
    );
    const source = entry.source;
    const doc = await ctx.store
      .head(keys.document(docId))
      .then((h) => (h ? readJson<DocumentRecord>(ctx, keys.document(docId)) : undefined));
    const sources = doc?.sources ?? [source.key];
    if (decision.kind === 'result') {
      const result: ResultRecord = {
        docId,
        type: entry.type,
        source,
        sources,
        record: decision.record,
        extraction: {
          model: plan.modelId,
          runId,
          jobIds: decision.jobIds,
          tokens: decision.tokens,
          attempts: entry.attempt,
          chunks: entry.chunks,
          warnings: decision.warnings,
        },
      };
      await putOnce(ctx, keys.result(entry.type, docId), json(result));
      const updated = await updateDocument(ctx, docId, { status: 'result' });
      // A key registered for these bytes while the result was being written joins it now.
      if (updated?.sources.some((k) => !sources.includes(k)))
        await addSourcesToOutcome(ctx, keys.result(entry.type, docId), updated.sources);
      results++;
    } else if (entry.attempt < ctx.config.batch.maxAttempts) {
      // Another attempt can succeed: a transient error, a job that did not finish, a budget that
      // was too small, or a record the model can correct once it sees the validation errors.
      await restage(ctx, docId, entry.attempt + 1, decision.reasons);
      redrive++;
      continue;
    } else {
      const rejection: RejectedRecord = {
        docId,
        type: entry.type,
        source,
        sources,
        stage: decision.stage,
        reasons: decision.reasons,
        runId,
        ...(decision.lastOutput !== undefined ? { lastOutput: decision.lastOutput } : {}),
      };
      await putOnce(ctx, keys.rejected(docId), json(rejection));
      const updated = await updateDocument(ctx, docId, { status: 'rejected' });
      if (updated?.sources.some((k) => !sources.includes(k)))
        await addSourcesToOutcome(ctx, keys.rejected(docId), updated.sources);
      rejected++;
    }
    // The outcome is written: the staged text and the claim have done their job.
    await ctx.store.delete(keys.staged(docId));
    await ctx.store.delete(keys.claim(docId));
  }
  const summary: CollectSummary = {
    runId,
    attempt,
    results,
    rejected,
    redrive,
    nextAttempt: attempt + 1,
    records,
    errorRecords,
    tokens,
    jobs: input.jobResults ?? [],
  };
  await ctx.store.put(keys.collectSummary(runId, attempt), json(summary));
  ctx.log.info('collected', { runId, attempt, results, rejected, redrive, records, errorRecords });
  return summary;
}

/** Puts a document back in `staged/` for the next attempt of the same run, with what went wrong. */
async function restage(ctx: TaskContext, docId: string, attempt: number, reasons: Reason[]): Promise<void> {
  const feedback = reasons.map((r) => `${r.code}: ${r.message}`);
  const lines: string[] = [];
  for await (const line of ctx.store.lines(keys.staged(docId))) {
    const staged = JSON.parse(line) as StagedChunk;
    lines.push(JSON.stringify({ ...staged, attempt, feedback } satisfies StagedChunk));
  }
  await ctx.store.put(keys.staged(docId), `${lines.join('\n')}\n`);
}

/** Writes an outcome once: a second Collect of the same run finds it there and leaves it. */
async function putOnce(ctx: TaskContext, key: string, body: string): Promise<void> {
  try {
    await ctx.store.put(key, body, { ifNoneMatch: true });
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
}

export interface RunReport {
  runId: string;
  modelId: string;
  createdAt: string;
  /** Documents taken by the run (first attempt). */
  documents: number;
  /** Records submitted over every attempt. */
  records: number;
  deferred: number;
  attempts: number;
  results: number;
  rejected: number;
  /** Re-drives performed: documents submitted again after a failed attempt. */
  redriven: number;
  errorRecords: number;
  tokens: { input: number; output: number };
  jobs: {
    attempt: number;
    job: number;
    mode: string;
    status: string;
    jobId?: string;
    records: number;
    message?: string;
  }[];
}

/** Report: `reports/<runId>.json`, the run in numbers, every attempt included. */
export async function report(
  input: { runId: string },
  ctx: TaskContext,
): Promise<{ runId: string; results: number; rejected: number; attempts: number; report: string }> {
  const runId = runIdFromExecutionName(input.runId);
  const first = await readJson<Plan>(ctx, keys.plan(runId, 1));
  const body: RunReport = {
    runId,
    modelId: first.modelId,
    createdAt: ctx.clock.now().toISOString(),
    documents: first.documents,
    records: 0,
    deferred: first.deferred,
    attempts: 0,
    results: 0,
    rejected: 0,
    redriven: 0,
    errorRecords: 0,
    tokens: { input: 0, output: 0 },
    jobs: [],
  };
  for (let attempt = 1; await ctx.store.head(keys.plan(runId, attempt)); attempt++) {
    const plan = attempt === 1 ? first : await readJson<Plan>(ctx, keys.plan(runId, attempt));
    body.attempts = attempt;
    body.records += plan.records;
    const summaryKey = keys.collectSummary(runId, attempt);
    const c = (await ctx.store.head(summaryKey))
      ? await readJson<CollectSummary>(ctx, summaryKey)
      : undefined;
    if (c) {
      body.results += c.results;
      body.rejected += c.rejected;
      body.redriven += c.redrive;
      body.errorRecords += c.errorRecords;
      body.tokens.input += c.tokens.input;
      body.tokens.output += c.tokens.output;
    }
    const results = new Map((c?.jobs ?? []).map((r) => [r.job, r]));
    for (const j of plan.jobs) {
      const r = results.get(j.job);
      const jobId = r?.jobId ?? (r?.jobArn ? jobIdFromArn(r.jobArn) : undefined);
      body.jobs.push({
        attempt,
        job: j.job,
        mode: j.mode,
        status: r?.status ?? 'Unknown',
        records: j.records,
        ...(jobId ? { jobId } : {}),
        ...(r?.message ? { message: r.message } : {}),
      });
    }
  }
  await ctx.store.put(keys.report(runId), json(body));
  ctx.log.info('reported', {
    runId,
    results: body.results,
    rejected: body.rejected,
    attempts: body.attempts,
  });
  return {
    runId,
    results: body.results,
    rejected: body.rejected,
    attempts: body.attempts,
    report: keys.report(runId),
  };
}
