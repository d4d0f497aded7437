import pLimit from 'p-limit';
import { JobPlanner } from '../core/batch/planner.ts';
import { extractObject, mergeChunks, normalizeRecord } from '../core/collect.ts';
import { familyForModel } from '../core/families/index.ts';
import { maxTokensFor } from '../core/families/prompt.ts';
import { recordId } from '../core/ids.ts';
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
import { updateDocument } from './ingest.ts';

export interface JobItem {
  job: number;
  jobName: string;
  mode: 'batch' | 'on-demand';
  modelId: string;
  roleArn: string;
  inputUri: string;
  outputUri: string;
  records: number;
  bytes: number;
  clientRequestToken: string;
  timeoutHours: number;
}

export interface Plan {
  runId: string;
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
function jobName(runId: string, job: number): string {
  return `docbatch-${runId}-${job}`.replace(/[^a-zA-Z0-9+\-.]/g, '-').slice(0, 63);
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
export async function assemble(input: { runId: string }, ctx: TaskContext): Promise<Plan> {
  const { runId } = input;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9-]{0,40}$/.test(runId)) {
    throw new RangeError(
      `runId "${runId}" must be 1–41 letters, digits or '-', starting with a letter or digit`,
    );
  }
  const planKey = keys.plan(runId);
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
      const attempt = 1;
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
      });
      const id = recordId(runId, staged.docId, staged.chunk, attempt);
      const record = `${JSON.stringify({ recordId: id, modelInput: body })}\n`;
      const place = planner.place(Buffer.byteLength(record));
      if (place.newFile) {
        await input_?.close();
        input_ = ctx.store.openWriter(keys.jobInputFile(runId, place.job, place.part));
      }
      if (place.newJob) {
        await index?.close();
        index = ctx.store.openWriter(keys.jobIndex(runId, place.job));
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
      jobName: jobName(runId, j.job),
      mode: belowMin ? 'on-demand' : 'batch',
      modelId,
      roleArn: config.batch.roleArn,
      inputUri: s3Uri(ctx.store.bucket, keys.jobInputPrefix(runId, j.job)),
      outputUri: s3Uri(ctx.store.bucket, keys.outputPrefix(runId)),
      records: j.records,
      bytes: j.bytes,
      clientRequestToken: `${runId}-job-${j.job}`.replace(/[^a-zA-Z0-9-]/g, '-'),
      timeoutHours: config.batch.timeoutHours,
    });
  }
  if (deferred > 0) {
    // Deferred records wait for a later run: release their claims so that run can take them.
    const deferredJobs = new Set(
      planned.filter((j) => j.records < config.quotas.minRecordsPerJob).map((j) => j.job),
    );
    for (const j of deferredJobs) {
      for await (const line of ctx.store.lines(keys.jobIndex(runId, j))) {
        await ctx.store.delete(keys.claim((JSON.parse(line) as IndexEntry).docId));
      }
    }
  }
  const plan: Plan = {
    runId,
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
  ctx.log.info('assembled', { runId, documents, records, jobs: jobs.length, deferred });
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

interface ChunkOutcome {
  record?: Record<string, unknown>;
  reasons: Reason[];
  warnings: string[];
  jobId: string;
  tokens: { input: number; output: number };
  output?: unknown;
}

export interface CollectSummary {
  runId: string;
  results: number;
  rejected: number;
  records: number;
  errorRecords: number;
  tokens: { input: number; output: number };
}

/**
 * Collect: joins every output line to its index entry by recordId, parses and repairs the model's
 * answer, merges a document's chunks, validates the record and writes exactly one outcome per
 * document: `results/<type>/<docId>.json` or `rejected/<docId>.json`.
 */
export async function collect(
  input: { runId: string; jobResults?: JobResult[] },
  ctx: TaskContext,
): Promise<CollectSummary> {
  const { runId } = input;
  const plan = await readJson<Plan>(ctx, keys.plan(runId));
  const family = familyForModel(plan.modelId, ctx.config.model.families);
  const entries = new Map<string, IndexEntry>();
  const docs = new Map<string, { entry: IndexEntry; chunks: Map<number, ChunkOutcome> }>();
  for (const job of plan.jobs) {
    for await (const line of ctx.store.lines(keys.jobIndex(runId, job.job))) {
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
  for await (const obj of ctx.store.list(keys.outputPrefix(runId))) {
    if (!obj.key.endsWith('.jsonl.out')) continue;
    const jobId = obj.key.slice(keys.outputPrefix(runId).length).split('/')[0] ?? '';
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
      const entry = parsedLine.recordId ? entries.get(parsedLine.recordId) : undefined;
      if (!entry) continue;
      const doc = docs.get(entry.docId);
      if (!doc || doc.chunks.has(entry.chunk)) continue;
      records++;
      if (parsedLine.error) {
        errorRecords++;
        doc.chunks.set(entry.chunk, {
          reasons: [
            {
              code: 'MODEL_ERROR',
              message: `${parsedLine.error.errorCode ?? ''} ${parsedLine.error.errorMessage ?? ''}`.trim(),
            },
          ],
          warnings: [],
          jobId,
          tokens: { input: 0, output: 0 },
        });
        continue;
      }
      const parsed = family.parseResponse(parsedLine.modelOutput);
      tokens.input += parsed.usage.inputTokens;
      tokens.output += parsed.usage.outputTokens;
      const extracted = extractObject(parsed);
      const outcome: ChunkOutcome = {
        reasons: extracted.reasons,
        warnings: [],
        jobId,
        tokens: { input: parsed.usage.inputTokens, output: parsed.usage.outputTokens },
        output: parsedLine.modelOutput,
      };
      if (extracted.value) {
        const n = normalizeRecord(extracted.value, ctx.schemas.schema(entry.type));
        outcome.record = n.record;
        outcome.warnings = n.warnings;
      }
      doc.chunks.set(entry.chunk, outcome);
    }
  }

  let results = 0;
  let rejected = 0;
  for (const [docId, { entry, chunks }] of docs) {
    const reasons: Reason[] = [];
    const warnings: string[] = [];
    const parts: { chunk: number; record: Record<string, unknown> }[] = [];
    const jobIds = new Set<string>();
    const docTokens = { input: 0, output: 0 };
    let lastOutput: unknown;
    for (let c = 0; c < entry.chunks; c++) {
      const outcome = chunks.get(c);
      if (!outcome) {
        const msg = jobMessages.get(entry.job);
        reasons.push({
          code: 'MISSING_OUTPUT',
          message: `chunk ${c + 1}/${entry.chunks} has no model output${msg ? ` (${msg})` : ''}`,
        });
        continue;
      }
      jobIds.add(outcome.jobId);
      docTokens.input += outcome.tokens.input;
      docTokens.output += outcome.tokens.output;
      lastOutput = outcome.output ?? lastOutput;
      warnings.push(...outcome.warnings);
      reasons.push(...outcome.reasons);
      if (outcome.record) parts.push({ chunk: c, record: outcome.record });
    }
    const source = entry.source;
    const doc = await ctx.store
      .head(keys.document(docId))
      .then((h) => (h ? readJson<DocumentRecord>(ctx, keys.document(docId)) : undefined));
    const sources = doc?.sources ?? [source.key];
    let stage: RejectedRecord['stage'] = 'extract';
    let record: Record<string, unknown> | undefined;
    if (reasons.length === 0) {
      const merged = mergeChunks(parts);
      warnings.push(...merged.conflicts.map((c) => `conflict ${c}`));
      const invalid = ctx.schemas.validate(entry.type, merged.record);
      if (invalid.length > 0) {
        stage = 'validate';
        reasons.push(...invalid);
      } else {
        record = merged.record;
      }
    }
    if (record) {
      const result: ResultRecord = {
        docId,
        type: entry.type,
        source,
        sources,
        record,
        extraction: {
          model: plan.modelId,
          runId,
          jobIds: [...jobIds],
          tokens: docTokens,
          attempts: entry.attempt,
          chunks: entry.chunks,
          warnings,
        },
      };
      await putOnce(ctx, keys.result(entry.type, docId), json(result));
      await updateDocument(ctx, docId, { status: 'result' });
      results++;
    } else {
      const rejection: RejectedRecord = {
        docId,
        type: entry.type,
        source,
        sources,
        stage,
        reasons,
        runId,
        lastOutput,
      };
      await putOnce(ctx, keys.rejected(docId), json(rejection));
      await updateDocument(ctx, docId, { status: 'rejected' });
      rejected++;
    }
    // The outcome is written: the staged text and the claim have done their job.
    await ctx.store.delete(keys.staged(docId));
    await ctx.store.delete(keys.claim(docId));
  }
  ctx.log.info('collected', { runId, results, rejected, records, errorRecords });
  return { runId, results, rejected, records, errorRecords, tokens };
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
  documents: number;
  records: number;
  deferred: number;
  results: number;
  rejected: number;
  errorRecords: number;
  tokens: { input: number; output: number };
  jobs: { job: number; mode: string; status: string; jobId?: string; records: number; message?: string }[];
}

/** Report: `reports/<runId>.json`, the run in numbers. */
export async function report(
  input: { runId: string; collect?: CollectSummary; jobResults?: JobResult[] },
  ctx: TaskContext,
): Promise<{ runId: string; results: number; rejected: number; report: string }> {
  const plan = await readJson<Plan>(ctx, keys.plan(input.runId));
  const results = new Map((input.jobResults ?? []).map((r) => [r.job, r]));
  const c = input.collect;
  const body: RunReport = {
    runId: input.runId,
    modelId: plan.modelId,
    createdAt: ctx.clock.now().toISOString(),
    documents: plan.documents,
    records: plan.records,
    deferred: plan.deferred,
    results: c?.results ?? 0,
    rejected: c?.rejected ?? 0,
    errorRecords: c?.errorRecords ?? 0,
    tokens: c?.tokens ?? { input: 0, output: 0 },
    jobs: plan.jobs.map((j) => {
      const r = results.get(j.job);
      const jobId = r?.jobId ?? (r?.jobArn ? jobIdFromArn(r.jobArn) : undefined);
      return {
        job: j.job,
        mode: j.mode,
        status: r?.status ?? (r?.error ? 'NotCreated' : 'Unknown'),
        records: j.records,
        ...(jobId ? { jobId } : {}),
        ...(r?.message ? { message: r.message } : {}),
      };
    }),
  };
  await ctx.store.put(keys.report(input.runId), json(body));
  return {
    runId: input.runId,
    results: body.results,
    rejected: body.rejected,
    report: keys.report(input.runId),
  };
}
