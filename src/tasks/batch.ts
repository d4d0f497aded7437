import { availableParallelism } from 'node:os';
import { isMainThread, type MessagePort, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { BoundedRunner, mapOrdered, readingAhead } from '../core/batch/concurrency.ts';
import {
  type DeciderSettings,
  FILE_MARKER,
  type OutcomeWrite,
  PartitionDecider,
} from '../core/batch/decide.ts';
import { deferMaxAgeHours, type JobFacts, jobDispositions } from '../core/batch/defer.ts';
import { indexLineKeys, leadingRecordId } from '../core/batch/line-keys.ts';
import { BatchedLines, LineSlices, linePieces, lineRuns, textLines } from '../core/batch/lines.ts';
import { PartitionSpill, partitionCount, partitionOf, spillBudget } from '../core/batch/partition.ts';
import { assemblyQuotas, JobPlanner } from '../core/batch/planner.ts';
import { RecordRouter } from '../core/batch/record-router.ts';
import { familyForModel } from '../core/families/index.ts';
import { maxTokensFor } from '../core/families/prompt.ts';
import type { JsonSchema, ModelFamily } from '../core/families/types.ts';
import { recordId, runIdFromExecutionName } from '../core/ids.ts';
import { jobIdFromArn, keys, outputFilePart, parseS3Uri, s3Uri } from '../core/keys.ts';
import type { DocumentRecord, IndexEntry, RejectedRecord, StagedChunk } from '../core/outcomes.ts';
import {
  type DocumentPages,
  fieldFailures,
  MAX_LISTED_REJECTIONS,
  REPORT_VERSION,
  type ReportAttempt,
  type ReportJob,
  type RunReportBody,
  renderReportHtml,
  reportHtmlKey,
  runCost,
} from '../core/report-html.ts';
import { SchemaRegistry } from '../core/validate.ts';
import { AlreadyExistsError, NotFoundError } from '../errors.ts';
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
  /** Records in each input file, in part order (`keys.jobInputFile`); their index lines are in that order. */
  files: number[];
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
  /**
   * Every document's records are in one input file: each output file is then a partition Collect
   * decides on its own (see `collect`).
   */
  aligned: boolean;
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

/** Staged documents claimed and read ahead of the writer: each claim is a round trip, not work. */
const PREFETCH_DOCUMENTS = 16;
/** A staged document larger than this is streamed when its turn comes instead of read ahead whole. */
const PREFETCH_MAX_BYTES = 1 << 20;
/** Claims of deferred documents released at once after planning. */
const DOCUMENT_CONCURRENCY = 16;

/**
 * Assemble: streams every staged chunk into JSONL batch input files (one request body per line,
 * recordId `[A-Za-z0-9]{11}`), with an index beside them, and plans jobs under the model's quotas.
 * Re-running it for the same run returns the existing plan.
 *
 * Nothing grows with the run but per-job facts: records go straight from the staged object to the
 * input and index writers (a few documents read ahead while their claims are taken), and releasing
 * the claims of deferred documents after planning reads the run's index back instead of
 * remembering its documents. Per document it costs one claim and one read (plus the registration
 * when deferring, for the document's age); the document record learns the run from Collect.
 *
 * Below the minimum, policy `defer` leaves a job's records staged until a run finds their oldest
 * document registered `batch.deferMaxAgeHours` ago (default 24), then sends them on-demand.
 */
export async function assemble(input: { runId: string; attempt?: number }, ctx: TaskContext): Promise<Plan> {
  const runId = runIdFromExecutionName(input.runId);
  const runAttempt = input.attempt ?? 1;
  const planKey = keys.plan(runId, runAttempt);
  if (await ctx.store.head(planKey)) return readJson<Plan>(ctx, planKey);

  const { config } = ctx;
  const modelId = config.model.id;
  const family = familyForModel(modelId, config.model.families);
  const planner = new JobPlanner(assemblyQuotas(config.quotas));
  // Only the `defer` policy needs to know how long the records have waited.
  const deferring = config.belowMinimum === 'defer';
  /** A document's age is measured from its registration; one that cannot be dated is not held back. */
  const registeredMs = async (docId: string): Promise<number> => {
    try {
      const t = Date.parse((await readJson<DocumentRecord>(ctx, keys.document(docId))).registeredAt);
      return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
    } catch (error) {
      if (error instanceof NotFoundError) return Number.NEGATIVE_INFINITY;
      throw error;
    }
  };
  async function* stagedObjects(): AsyncGenerator<{ docId: string; size: number }> {
    for await (const obj of ctx.store.list(keys.stagedPrefix)) {
      if (obj.key.endsWith('.jsonl'))
        yield { docId: obj.key.slice(keys.stagedPrefix.length, -'.jsonl'.length), size: obj.size };
    }
  }
  // Read ahead: the claim, the staged text when it is small (one GET; memory stays within
  // PREFETCH_DOCUMENTS × PREFETCH_MAX_BYTES), and the registration time when deferring.
  const taken = mapOrdered(stagedObjects(), PREFETCH_DOCUMENTS, async ({ docId, size }) => {
    if (!(await claim(ctx, docId, runId))) return undefined;
    const text = size <= PREFETCH_MAX_BYTES ? await ctx.store.getText(keys.staged(docId)) : undefined;
    return { docId, text, registered: deferring ? await registeredMs(docId) : undefined };
  });
  /** The staged lines as `ObjectStore.lines` yields them (no empty ones), from memory or streamed. */
  async function* stagedLines(docId: string, text: string | undefined): AsyncGenerator<string> {
    if (text === undefined) {
      yield* ctx.store.lines(keys.staged(docId));
      return;
    }
    yield* textLines(text);
  }

  let input_: BatchedLines | undefined;
  let index: BatchedLines | undefined;
  let documents = 0;
  const facts: JobFacts[] = [];
  for await (const doc of taken) {
    if (!doc) continue;
    documents++;
    let firstOfDocument = true;
    for await (const line of stagedLines(doc.docId, doc.text)) {
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
      const place = planner.place(Buffer.byteLength(record), firstOfDocument ? staged.chunks : undefined);
      if (place.newFile) {
        await input_?.close();
        input_ = new BatchedLines(
          ctx.store.openWriter(keys.jobInputFile(runId, runAttempt, place.job, place.part)),
        );
      }
      if (place.newJob) {
        await index?.close();
        index = new BatchedLines(ctx.store.openWriter(keys.jobIndex(runId, runAttempt, place.job)));
        facts.push({ records: 0, firstDocContinues: !firstOfDocument });
      }
      firstOfDocument = false;
      const job = facts[place.job];
      if (job && doc.registered !== undefined)
        job.oldestRegisteredMs = Math.min(job.oldestRegisteredMs ?? Number.POSITIVE_INFINITY, doc.registered);
      await input_?.add(record);
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
      await index?.add(`${JSON.stringify(entry)}\n`);
    }
  }
  await input_?.close();
  await index?.close();

  const planned = planner.jobs();
  const records = planned.reduce((n, j) => n + j.records, 0);
  const now = ctx.clock.now();
  const dispositions = jobDispositions(
    planned.map((j, i) => ({
      ...facts[i],
      records: j.records,
      firstDocContinues: facts[i]?.firstDocContinues ?? false,
    })),
    {
      minRecordsPerJob: config.quotas.minRecordsPerJob,
      belowMinimum: config.belowMinimum,
      nowMs: now.getTime(),
      maxAgeHours: deferMaxAgeHours(config),
    },
  );
  let deferred = 0;
  /** Records below the minimum that policy `defer` still sends now: past the maximum age, or sharing a document. */
  let undeferred = 0;
  const jobs: JobItem[] = [];
  for (const [i, j] of planned.entries()) {
    const disposition = dispositions[i] ?? 'batch';
    if (disposition === 'deferred') {
      deferred += j.records;
      continue;
    }
    if (disposition === 'on-demand' && deferring) undeferred += j.records;
    jobs.push({
      job: j.job,
      attempt: runAttempt,
      jobName: jobName(runId, runAttempt, j.job),
      mode: disposition,
      modelId,
      inputUri: s3Uri(ctx.store.bucket, keys.jobInputPrefix(runId, runAttempt, j.job)),
      outputUri: s3Uri(ctx.store.bucket, keys.outputPrefix(runId, runAttempt)),
      records: j.records,
      bytes: j.bytes,
      files: j.files.map((f) => f.records),
      clientRequestToken: `${runId}-a${runAttempt}-job-${j.job}`.replace(/[^a-zA-Z0-9-]/g, '-'),
      timeoutHours: config.batch.timeoutHours,
      maxPolls: Math.max(1, Math.ceil((config.batch.deadlineHours * 3600) / config.batch.pollSeconds)),
    });
  }

  // Deferred records wait for a later run: release their documents' claims so that run can take
  // them, reading the documents back from the index rather than remembering them. (Re-done
  // harmlessly if Assemble is retried: the plan below is written last.) The documents that run
  // keep their claim, which names this run until Collect writes their outcome.
  const releases = new BoundedRunner(DOCUMENT_CONCURRENCY);
  for (const [i, j] of planned.entries()) {
    if (dispositions[i] !== 'deferred') continue;
    let previous: string | undefined;
    for await (const line of ctx.store.lines(keys.jobIndex(runId, runAttempt, j.job))) {
      const { docId } = JSON.parse(line) as IndexEntry;
      // A document's records are consecutive in the index.
      if (docId !== previous) await releases.run(() => ctx.store.delete(keys.claim(docId)));
      previous = docId;
    }
  }
  await releases.drain();

  const plan: Plan = {
    runId,
    attempt: runAttempt,
    modelId,
    family: family.name,
    createdAt: now.toISOString(),
    documents,
    records,
    deferred,
    maxConcurrency: Math.max(1, config.quotas.maxConcurrentJobs),
    aligned: planner.aligned,
    jobs,
  };
  await ctx.store.put(planKey, json(plan));
  ctx.log.info('assembled', {
    runId,
    attempt: runAttempt,
    documents,
    records,
    jobs: jobs.length,
    deferred,
    ...(undeferred > 0 ? { undeferred } : {}),
  });
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
  let success = 0;
  let errors = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  const family = familyForModel(job.modelId, ctx.config.model.families);
  for await (const file of ctx.store.list(inPrefix)) {
    if (!file.key.endsWith('.jsonl')) continue;
    const name = file.key.slice(file.key.lastIndexOf('/') + 1);
    const writer = ctx.store.openWriter(`${outPrefix}${jobId}/${name}.out`);
    // Reading waits for a free slot: only the calls in flight hold their request bodies.
    const calls = new BoundedRunner(Math.max(1, ctx.config.onDemandConcurrency));
    for await (const line of ctx.store.lines(file.key)) {
      const { recordId: id, modelInput } = JSON.parse(line) as { recordId: string; modelInput: unknown };
      await calls.run(async () => {
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
      });
    }
    await calls.drain();
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

/** Outcome writes (document record, result or rejection, clean-up) in flight at once. */
const OUTCOME_CONCURRENCY = 32;
/** Scratch segments fetched ahead of the join (each is a few hundred KB at most on a large run). */
const SEGMENT_PREFETCH = 2;

/**
 * Collect: joins every output line to its index entry by recordId, parses and repairs the model's
 * answer, merges a document's chunks, validates the record and writes exactly one outcome per
 * document: `results/<type>/<docId>.json` or `rejected/<docId>.json`.
 *
 * It streams, in three passes; the only memory that grows with the run is a router of ~7 bytes a
 * record (a million records: 7 MB):
 * 1. the index is split by document into P partitions (segments under `collect-tmp/`, P from the
 *    plan's record count), keeping only recordId → partition in the router;
 * 2. every output line is routed to its record's partition (lines of no record are dropped, here
 *    or, for the rare one the router cannot rule out, in pass 3);
 * 3. one partition at a time (`PartitionDecider`), lines are joined to entries and interpreted,
 *    and each document is decided as soon as its last chunk arrives (then the rest, missing a
 *    chunk); its outcome is written meanwhile, a bounded number of writes at once. On a run of
 *    20,000 records or more and a machine with two cores or more, worker threads decide
 *    partitions, and so does this thread between reading the segments and writing the outcomes.
 * When Assemble kept every document inside one input file, each output file is a partition as it
 * stands (`filePartitions`, streamed in runs of whole lines) and passes 1 and 2 are skipped.
 * Raw lines are passed along, never re-serialized, so every decision is the one the whole run in
 * memory would give (test/integration/scale.test.ts compares them).
 *
 * Per document the store sees one call: its outcome written once (`If-None-Match`), or, for a
 * re-driven document, its staged text rewritten. The rest of a decided document's bookkeeping
 * (its record, its staged text and claim) is Release's, from the `decided.jsonl` list written here.
 */
export async function collect(
  input: {
    runId: string;
    attempt?: number;
    jobResults?: JobResult[];
    /**
     * Partition sizing (defaults from `core/batch/partition.ts`) and the number of worker threads
     * (0: none). Not set by the state machine: tests use it to spread a small run over many
     * partitions, segments and threads.
     */
    scratch?: { recordsPerPartition?: number; spillChars?: number; workers?: number };
  },
  ctx: TaskContext,
): Promise<CollectSummary> {
  const runId = runIdFromExecutionName(input.runId);
  const attempt = input.attempt ?? 1;
  const plan = await readJson<Plan>(ctx, keys.plan(runId, attempt));
  const family = familyForModel(plan.modelId, ctx.config.model.families);
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

  const expected = plan.jobs.reduce((n, j) => n + j.records, 0);
  const tmpPrefix = keys.collectTmpPrefix(runId, attempt);
  const removeScratch = async () => {
    const cleaner = new BoundedRunner(OUTCOME_CONCURRENCY);
    for await (const o of ctx.store.list(tmpPrefix)) await cleaner.run(() => ctx.store.delete(o.key));
    await cleaner.drain();
  };
  // An interrupted Collect of this attempt may have left segments (a retry rewrites the same keys
  // but could stop short of its predecessor's last ones): start clean so none outlives the run.
  await removeScratch();
  let passStarted = performance.now();
  const passDone = (pass: string, fields: Record<string, number>) => {
    const now = performance.now();
    ctx.log.debug('collect pass', { runId, attempt, pass, ms: Math.round(now - passStarted), ...fields });
    passStarted = now;
  };

  // The job id of each output file, by the number FILE_MARKER lines carry.
  const jobIds: string[] = [];
  const scratch = input.scratch ?? {};
  const spillForced = scratch.recordsPerPartition !== undefined || scratch.spillChars !== undefined;
  const split =
    (!spillForced && (await filePartitions(ctx, plan, jobIds))) ||
    (await spillPartitions(ctx, plan, expected, jobIds, scratch, passDone));
  const { partitions, feed } = split;
  if (split.byFile) passDone('files', { partitions });

  let results = 0;
  let rejected = 0;
  let redrive = 0;
  // The documents decided here, for Release: it records their status and deletes their staged
  // text and claim, in batches, once this list is whole. A retried Collect lists them all again,
  // the outcomes an earlier try wrote included.
  const decidedWriter = ctx.store.openWriter(keys.decided(runId, attempt));
  const decided = new BatchedLines(decidedWriter);
  const write = async (w: TaskWrite): Promise<void> => {
    if (w.kind === 'redrive') {
      await restage(ctx, w.docId, w.attempt, w.feedback);
      redrive++;
      return;
    }
    await putOnce(ctx, w.key, w.body);
    if (w.kind === 'result') results++;
    else rejected++;
  };
  const outcomes = new BoundedRunner(OUTCOME_CONCURRENCY);
  const apply = async (writes: readonly TaskWrite[]): Promise<void> => {
    for (const w of writes) {
      if (w.kind !== 'redrive')
        await decided.add(
          `${JSON.stringify({ docId: w.docId, kind: w.kind, key: w.key, sourceKey: w.sourceKey } satisfies DecidedDocument)}\n`,
        );
      await outcomes.run(() => write(w));
    }
  };

  // Pass 3: one partition at a time per thread, each document decided as soon as its last chunk
  // arrives; outcome writes overlap the parsing, a bounded number at once.
  const settings: DeciderSettings = {
    runId,
    modelId: plan.modelId,
    maxAttempts: ctx.config.batch.maxAttempts,
    jobIds,
    jobMessages,
  };
  const threads = scratch.workers ?? collectWorkers(expected);
  let tally: Tally;
  try {
    tally =
      threads > 0
        ? await decideInWorkers(threads, partitions, feed, settings, family, ctx, apply)
        : await decideHere(partitions, feed, settings, family, ctx, apply);
    await outcomes.drain();
    await decided.close();
  } catch (error) {
    await decidedWriter.abort();
    throw error;
  }
  const { records, errorRecords, tokens } = tally;
  passDone('join', { records });
  await removeScratch();

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
  ctx.log.info('collected', {
    runId,
    attempt,
    results,
    rejected,
    redrive,
    records,
    errorRecords,
    partitions,
    byFile: split.byFile,
  });
  return summary;
}

/** The partitions Collect decides, one after the other, and what each is fed with. */
interface Partitions {
  partitions: number;
  feed: PartitionFeed;
  /** One partition per output file (`filePartitions`), instead of the spill to scratch segments. */
  byFile: boolean;
}

/** A partition's index lines, then its output lines, as newline-terminated UTF-8 pieces in order. */
interface PartitionFeed {
  index(p: number): AsyncIterable<Uint8Array>;
  output(p: number): AsyncIterable<Uint8Array>;
}

/**
 * Passes 1 and 2 of `collect`: the index, then every output line, split by document into
 * partitions of about RECORDS_PER_PARTITION records, spilled as segments under `collect-tmp/`.
 */
async function spillPartitions(
  ctx: TaskContext,
  plan: Plan,
  expected: number,
  jobIds: string[],
  scratch: { recordsPerPartition?: number; spillChars?: number },
  passDone: (pass: string, fields: Record<string, number>) => void,
): Promise<Partitions> {
  const { runId, attempt } = plan;
  const partitions = partitionCount(expected, scratch.recordsPerPartition);
  const spillChars = scratch.spillChars ?? spillBudget(partitions);
  const segmentKey = (kind: 'index' | 'output', partition: number, segment: number) =>
    keys.collectTmpSegment(runId, attempt, kind, partition, segment);

  // Pass 1: the index, partitioned by document.
  const router = new RecordRouter(expected);
  const indexSpill = new PartitionSpill(
    partitions,
    (p, s, body) => ctx.store.put(segmentKey('index', p, s), body),
    spillChars,
  );
  for (const job of plan.jobs) {
    for await (const line of ctx.store.lines(keys.jobIndex(runId, attempt, job.job))) {
      const entry = indexLineKeys(line) ?? (JSON.parse(line) as IndexEntry);
      const partition = partitionOf(entry.docId, partitions);
      router.set(entry.recordId, partition);
      const written = indexSpill.add(partition, line);
      if (written) await written;
    }
  }
  await indexSpill.flush();
  passDone('index', { partitions, records: indexSpill.lines });

  // Pass 2: output lines, each to its record's partition. A partition's lines from one output
  // file follow a marker line naming the file (hence the job): a marker is written only when the
  // file changes, instead of a tag on every line.
  const outputSpill = new PartitionSpill(
    partitions,
    (p, s, body) => ctx.store.put(segmentKey('output', p, s), body),
    spillChars,
  );
  const markedFile = new Int32Array(partitions).fill(-1);
  let routed = 0;
  const outputPrefix = keys.outputPrefix(runId, attempt);
  for await (const obj of ctx.store.list(outputPrefix)) {
    if (!obj.key.endsWith('.jsonl.out')) continue;
    const file = jobIds.push(obj.key.slice(outputPrefix.length).split('/')[0] ?? '') - 1;
    for await (const line of ctx.store.lines(obj.key)) {
      let id: unknown = leadingRecordId(line);
      if (id === undefined) {
        try {
          const parsed: unknown = JSON.parse(line);
          id =
            typeof parsed === 'object' && parsed !== null
              ? (parsed as { recordId?: unknown }).recordId
              : undefined;
        } catch {
          continue; // a torn line belongs to no record; its record is reported missing below
        }
      }
      // A line of no record may be routed too (rarely): its partition's join drops it.
      const partition = typeof id === 'string' ? router.route(id) : undefined;
      if (partition === undefined) continue;
      if (markedFile[partition] !== file) {
        markedFile[partition] = file;
        const written = outputSpill.add(partition, `${FILE_MARKER}${file}`);
        if (written) await written;
      }
      const written = outputSpill.add(partition, line);
      if (written) await written;
      routed++;
    }
  }
  await outputSpill.flush();
  passDone('route', { lines: routed });

  const segments = (kind: 'index' | 'output', p: number) =>
    readAhead(
      Array.from({ length: (kind === 'index' ? indexSpill : outputSpill).segments(p) }, (_, s) =>
        segmentKey(kind, p, s),
      ),
      (k) => ctx.store.get(k),
    );
  return {
    partitions,
    feed: { index: (p) => segments('index', p), output: (p) => segments('output', p) },
    byFile: false,
  };
}

/** An output file Collect reads whole as (part of) a partition; larger ones go through the spill. */
const FILE_PARTITION_MAX_BYTES = 128 * 1024 * 1024;
/**
 * Bytes of an output file read and handed on at once. Whole files (tens of MB each when the model
 * input echo holds the document's text) were held by the reader, queued for a worker and decided
 * at the same time: several files' worth of memory, and large buffers that glibc's allocator keeps.
 */
const OUTPUT_RUN_BYTES = 1024 * 1024;

/**
 * When Assemble kept every document inside one input file (`plan.aligned`), each input file's
 * records, and so its output file's lines, are a partition already: its index lines are a slice of
 * the job's index, its output lines the file Bedrock wrote for it. Passes 1 and 2 are then not
 * needed. Undefined (spill instead) for a plan without that promise, or an output file Assemble
 * did not name or larger than FILE_PARTITION_MAX_BYTES.
 */
async function filePartitions(
  ctx: TaskContext,
  plan: Plan,
  jobIds: string[],
): Promise<Partitions | undefined> {
  if (!plan.aligned || !plan.jobs.every((j) => Array.isArray(j.files))) return undefined;
  const parts: { job: JobItem; part: number; outputs: string[] }[] = [];
  const partOf = new Map<string, number>();
  for (const job of plan.jobs) {
    for (const part of job.files.keys()) {
      partOf.set(`${job.job}/${part}`, parts.length);
      parts.push({ job, part, outputs: [] });
    }
  }
  const outputPrefix = keys.outputPrefix(plan.runId, plan.attempt);
  for await (const obj of ctx.store.list(outputPrefix)) {
    if (!obj.key.endsWith('.jsonl.out')) continue;
    const named = outputFilePart(obj.key);
    const p = named && partOf.get(`${named.job}/${named.part}`);
    if (p === undefined || obj.size > FILE_PARTITION_MAX_BYTES) return undefined;
    const file = jobIds.push(obj.key.slice(outputPrefix.length).split('/')[0] ?? '') - 1;
    parts[p]?.outputs.push(`${FILE_MARKER}${file}\n`, obj.key);
  }
  // A job's index is read as its partitions are fed, a slice for each, and let go after its last.
  const indexes = new Map<number, LineSlices>();
  const encoder = new TextEncoder();
  return {
    partitions: parts.length,
    byFile: true,
    feed: {
      async *index(p) {
        const { job, part } = parts[p] as (typeof parts)[number];
        let slices = indexes.get(job.job);
        if (!slices) {
          slices = new LineSlices(
            ctx.store.chunks(keys.jobIndex(plan.runId, plan.attempt, job.job)),
            job.files,
          );
          indexes.set(job.job, slices);
        }
        if (part === job.files.length - 1) indexes.delete(job.job);
        yield await slices.take(part);
      },
      async *output(p) {
        for (const item of (parts[p] as (typeof parts)[number]).outputs) {
          if (item.startsWith(FILE_MARKER)) yield encoder.encode(item);
          else yield* readingAhead(lineRuns(ctx.store.chunks(item), OUTPUT_RUN_BYTES), OUTPUT_RUNS_AHEAD);
        }
      },
    },
  };
}

/** Puts a document back in `staged/` for the next attempt of the same run, with what went wrong. */
async function restage(ctx: TaskContext, docId: string, attempt: number, feedback: string[]): Promise<void> {
  // Read whole (a document's chunks, which Assemble read whole too when small): a stream per
  // document was a fifth of a millisecond of the task's thread, the thread Collect waits on.
  const lines: string[] = [];
  for (const line of textLines(await ctx.store.getText(keys.staged(docId)))) {
    const staged = JSON.parse(line) as StagedChunk;
    lines.push(JSON.stringify({ ...staged, attempt, feedback } satisfies StagedChunk));
  }
  await ctx.store.put(keys.staged(docId), `${lines.join('\n')}\n`);
}

interface Tally {
  records: number;
  errorRecords: number;
  tokens: { input: number; output: number };
}

/** Records a run needs before Collect decides in worker threads: below it, starting them costs more. */
const WORKER_MIN_RECORDS = 20_000;

/**
 * Worker threads for Collect's decisions, on a machine with more than one core (a Lambda function
 * of 2,048 MB has two): one for each core but the one the task's own thread keeps, where it reads
 * the files, writes every outcome and, between those, decides partitions too; at most two, the
 * writes set the pace beyond. A worker on every core (as before) left three threads to two cores,
 * and each worker's heap was 60-90 MB of the peak.
 */
function collectWorkers(records: number): number {
  if (records < WORKER_MIN_RECORDS) return 0;
  return Math.min(2, availableParallelism() - 1);
}

/** Reads each key with at most SEGMENT_PREFETCH reads ahead of the one being worked on. */
function readAhead<T>(keysInOrder: readonly string[], read: (key: string) => Promise<T>): AsyncGenerator<T> {
  return mapOrdered(keysInOrder, SEGMENT_PREFETCH, read);
}

/** Pass 3 in the task's own thread: one partition after the other. */
async function decideHere(
  partitions: number,
  feed: PartitionFeed,
  settings: DeciderSettings,
  family: ModelFamily,
  ctx: TaskContext,
  apply: (writes: readonly TaskWrite[]) => Promise<void>,
): Promise<Tally> {
  const tally: Tally = { records: 0, errorRecords: 0, tokens: { input: 0, output: 0 } };
  for (let p = 0; p < partitions; p++)
    await decidePartitionHere(p, feed, settings, family, ctx, apply, tally);
  return tally;
}

/**
 * One partition decided in the task's own thread, `turnBytes` of output at a time: between them,
 * other work gets its turn of the event loop.
 */
async function decidePartitionHere(
  p: number,
  feed: PartitionFeed,
  settings: DeciderSettings,
  family: ModelFamily,
  ctx: TaskContext,
  apply: (writes: readonly TaskWrite[]) => Promise<void>,
  tally: Tally,
  turnBytes = Number.POSITIVE_INFINITY,
): Promise<void> {
  const out: OutcomeWrite[] = [];
  const decider = new PartitionDecider(settings, family, ctx.schemas);
  for await (const bytes of feed.index(p)) decider.addIndexBytes(bytes);
  for await (const bytes of feed.output(p)) {
    for (const slice of linePieces(bytes, turnBytes)) {
      decider.addOutputBytes(slice, out);
      await apply(out);
      out.length = 0;
      if (turnBytes < Number.POSITIVE_INFINITY) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  decider.finish(out);
  await apply(out);
  addTally(tally, decider);
}

function addTally(tally: Tally, add: Tally): void {
  tally.records += add.records;
  tally.errorRecords += add.errorRecords;
  tally.tokens.input += add.tokens.input;
  tally.tokens.output += add.tokens.output;
}

/** What a Collect worker thread is started with (its `workerData`). */
interface CollectWorkerData {
  role: typeof COLLECT_WORKER;
  schemas: Record<string, JsonSchema>;
  families: Config['model']['families'];
  settings: Omit<DeciderSettings, 'jobMessages'> & { jobMessages: [number, string][] };
}

/** A segment for a worker (its bytes, handed over), or the end of its partition. */
type WorkerWork = { op: 'index' | 'output'; bytes: Uint8Array } | { op: 'finish' };
type WorkerRequest = WorkerWork & { seq: number };
type WorkerReply = {
  seq: number;
  writes?: TaskWrite[];
  tally?: Tally;
  error?: { name: string; message: string; stack?: string };
};

const COLLECT_WORKER = 'docbatch-collect-decider';
/**
 * Young generation of a worker, MB. V8 lets it grow to 128 MB on 64-bit under a steady allocation
 * rate; a worker's garbage (parsed lines) dies young, so a small one costs little time and saves
 * that memory.
 */
const WORKER_YOUNG_GENERATION_MB = 16;
/**
 * Old generation of a worker, MB. V8 lets an old generation grow between full collections by a
 * factor it scales with this limit: 1.3 at 256 MB, up to 4 at 2 GB (64-bit). A worker's live heap
 * is about 10 MB (its partition's index and the documents being decided; lines wait as bytes
 * outside the heap), so at 256 MB it ran a full collection every 150 ms or so: 59 in a 1M-line
 * run, whose concurrent marking kept V8's helper threads busy 2.8-3.4 s. At 2 GB: 20 collections,
 * 2.0-2.6 s, for a peak RSS of 252-261 MB against 234-240. (Unbounded, with the larger live heaps
 * of earlier versions, a worker's heap grew by 100-200 MB before a collection.)
 */
const WORKER_OLD_GENERATION_MB = 2048;
/**
 * Node options Collect's process should run with (the Lambda's NODE_OPTIONS, the benchmark's
 * flags): its own thread allocates steadily (file reads, outcome bodies, the partitions it
 * decides), under which V8 grows the young generation to 128 MB. 4 MB semi-spaces keep it small;
 * 1M lines: peak RSS 277-286 MB against 291-309 with 8 MB ones, the time within the machine's noise.
 */
export const COLLECT_NODE_OPTIONS = ['--max-semi-space-size=4'] as const;
/**
 * Requests (segments of at most about a MB, ends of partitions) handed to a worker before its
 * answer to the first of them is awaited: enough that it has the start of its next partition while
 * it decides the end of one, and work for the stretches this thread spends writing outcomes and
 * deciding its own. With 8 the worker sat idle a fifth of the time (a CPU profile of 1M lines);
 * 16 (and two runs read ahead) took 1M lines from 11.0-14.3 s to 10.1-10.7 s (one run of four at
 * 14.1) for 0-10 MB of peak RSS.
 */
const WORKER_REQUESTS_AHEAD = 16;
/** Runs of an output file read ahead of the one being handed on. */
const OUTPUT_RUNS_AHEAD = 2;

/**
 * Bytes of output the task's own thread decides before it lets other work in: the workers'
 * answers, and the reads that feed the workers (each read's completion waits for such a turn).
 * 32 KB, about a millisecond: with 256 KB turns the worker was left waiting for its reads.
 */
const HERE_BYTES_PER_TURN = 32 * 1024;

/**
 * Pass 3 in worker threads and in this one: each worker decides one partition at a time (parsing,
 * joining, validating and serializing its outcomes) from segment bytes this thread reads and
 * hands over, and this thread writes the outcomes they answer with. In between, this thread takes
 * partitions of its own, a few pieces at a time, so that one worker and this thread keep two cores
 * busy. Partitions go to whichever is free first. The workers run this very module (see the end of
 * the file).
 */
async function decideInWorkers(
  threads: number,
  partitions: number,
  feed: PartitionFeed,
  settings: DeciderSettings,
  family: ModelFamily,
  ctx: TaskContext,
  apply: (writes: readonly TaskWrite[]) => Promise<void>,
): Promise<Tally> {
  const data: CollectWorkerData = {
    role: COLLECT_WORKER,
    schemas: Object.fromEntries(ctx.schemas.types().map((t) => [t, ctx.schemas.schema(t)])),
    families: ctx.config.model.families,
    settings: { ...settings, jobIds: [...settings.jobIds], jobMessages: [...settings.jobMessages] },
  };
  const tally: Tally = { records: 0, errorRecords: 0, tokens: { input: 0, output: 0 } };
  const workers = Array.from(
    { length: Math.min(threads, partitions) },
    () =>
      new WorkerChannel(
        new Worker(new URL(import.meta.url), {
          workerData: data,
          resourceLimits: {
            maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
            maxOldGenerationSizeMb: WORKER_OLD_GENERATION_MB,
          },
        }),
      ),
  );
  let next = 0;
  // A worker's requests stay queued across its partitions' ends, so that it starts the next one
  // while this thread, busy deciding or writing, has yet to read its answer to the last.
  const serve = async (worker: WorkerChannel): Promise<void> => {
    const answers: Promise<void>[] = [];
    const handle = async (reply: WorkerReply) => {
      if (reply.writes) await apply(reply.writes);
      if (reply.tally) addTally(tally, reply.tally);
    };
    const send = async (request: WorkerWork) => {
      // An answer's outcomes are written as soon as it comes, not when its turn to be awaited
      // comes: held that long, 16 answers' outcome bodies (about 4 MB) outlived the young
      // generation's collections and were promoted.
      const handled = worker.request(request).then(handle);
      // Awaited in order below: until then a failure must not count as unhandled.
      handled.catch(() => {});
      answers.push(handled);
      if (answers.length > WORKER_REQUESTS_AHEAD) await answers.shift();
    };
    while (next < partitions) {
      const p = next++;
      for await (const bytes of feed.index(p)) await send({ op: 'index', bytes });
      for await (const bytes of feed.output(p)) await send({ op: 'output', bytes });
      await send({ op: 'finish' });
    }
    while (answers.length > 0) await answers.shift();
  };
  try {
    await Promise.all([
      ...workers.map(serve),
      (async () => {
        // Started after the workers' first requests, so they have work before this thread does.
        await new Promise<void>((resolve) => setImmediate(resolve));
        while (next < partitions)
          await decidePartitionHere(next++, feed, settings, family, ctx, apply, tally, HERE_BYTES_PER_TURN);
      })(),
    ]);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
  return tally;
}

/** Requests to one worker and their answers, in order. */
class WorkerChannel {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  #seq = 0;
  #failure: Error | undefined;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: WorkerReply) => {
      const waiting = this.#waiting.get(reply.seq);
      this.#waiting.delete(reply.seq);
      if (!waiting) return;
      if (reply.error) waiting.reject(Object.assign(new Error(reply.error.message), reply.error));
      else waiting.resolve(reply);
    });
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => this.#fail(new Error(`a Collect worker thread exited (code ${code})`)));
  }

  request(request: WorkerWork): Promise<WorkerReply> {
    if (this.#failure) return Promise.reject(this.#failure);
    const seq = this.#seq++;
    const answer = new Promise<WorkerReply>((resolve, reject) => this.#waiting.set(seq, { resolve, reject }));
    // Awaited in order by the caller: until then a rejection must not count as unhandled.
    answer.catch(() => {});
    if (request.op === 'finish') this.#worker.postMessage({ ...request, seq });
    else {
      // Only a buffer of its own can be handed over; a view into a larger one is copied.
      const { bytes } = request;
      const own =
        bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
          ? bytes
          : new Uint8Array(bytes);
      this.#worker.postMessage({ ...request, bytes: own, seq }, [own.buffer as ArrayBuffer]);
    }
    return answer;
  }

  async close(): Promise<void> {
    this.#failure ??= new Error('the Collect worker thread was closed');
    await this.#worker.terminate();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const { reject } of this.#waiting.values()) reject(this.#failure);
    this.#waiting.clear();
  }
}

/** The worker side of `decideInWorkers`: a `PartitionDecider` fed by messages. */
function serveDecisions(port: MessagePort, data: CollectWorkerData): void {
  const schemas = new SchemaRegistry(data.schemas);
  const settings: DeciderSettings = { ...data.settings, jobMessages: new Map(data.settings.jobMessages) };
  const family = familyForModel(settings.modelId, data.families);
  let decider = new PartitionDecider(settings, family, schemas);
  port.on('message', (request: WorkerRequest) => {
    try {
      const writes: OutcomeWrite[] = [];
      let tally: Tally | undefined;
      if (request.op === 'index') decider.addIndexBytes(request.bytes);
      else if (request.op === 'output') decider.addOutputBytes(request.bytes, writes);
      else {
        decider.finish(writes);
        const { records, errorRecords, tokens } = decider;
        tally = { records, errorRecords, tokens };
        decider = new PartitionDecider(settings, family, schemas);
      }
      const packed = packBodies(writes);
      port.postMessage(
        {
          seq: request.seq,
          ...(writes.length > 0 ? { writes: packed.writes } : {}),
          ...(tally ? { tally } : {}),
        } satisfies WorkerReply,
        packed.buffers,
      );
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({
        seq: request.seq,
        error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
      } satisfies WorkerReply);
    }
  });
}

const BODY_ENCODER = new TextEncoder();

/**
 * A worker's outcome writes with their bodies as UTF-8 bytes, views into buffers that move to the
 * task's thread with the answer (`buffers`, for the transfer list). As strings, each body was
 * copied into the message, made again on the task's heap and encoded again to be written; many
 * outlived a young-generation collection there while the answer's writes went through. In a 1M-line
 * run, what the sampling heap profiler saw of the task's allocations outlive one fell from 199 to
 * 171 MB, and what its young-generation collections promoted from 150 to 104 MB.
 */
function packBodies(writes: readonly OutcomeWrite[]): { writes: TaskWrite[]; buffers: ArrayBuffer[] } {
  let chars = 0;
  for (const w of writes) if (w.kind !== 'redrive') chars += w.body.length;
  const buffers: ArrayBuffer[] = [];
  let arena = new Uint8Array(0);
  let at = 0;
  const packed = writes.map((w): TaskWrite => {
    if (w.kind === 'redrive') return w;
    let { read, written } = BODY_ENCODER.encodeInto(w.body, arena.subarray(at));
    if (read < w.body.length) {
      // Outcomes are mostly ASCII: a buffer with room for the characters left and an eighth more,
      // at least three bytes a character for this one.
      arena = new Uint8Array(Math.max(w.body.length * 3, chars + (chars >> 3)));
      buffers.push(arena.buffer);
      at = 0;
      ({ written } = BODY_ENCODER.encodeInto(w.body, arena));
    }
    chars -= w.body.length;
    const body = arena.subarray(at, at + written);
    at += written;
    return { ...w, body };
  });
  return { writes: packed, buffers };
}

/** An outcome write as the task's thread gets it: from a worker, with its body as UTF-8 bytes. */
type TaskWrite =
  | OutcomeWrite
  | (Omit<Extract<OutcomeWrite, { kind: 'result' | 'rejected' }>, 'body'> & { body: Uint8Array });

/**
 * Writes an outcome once: a second Collect of the same run finds it there and leaves it. True when
 * this call wrote it.
 */
async function putOnce(ctx: TaskContext, key: string, body: string | Uint8Array): Promise<boolean> {
  try {
    await ctx.store.put(key, body, { ifNoneMatch: true });
    return true;
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    return false;
  }
}

/** A line of `decided.jsonl`: a document Collect wrote the outcome of. */
export interface DecidedDocument {
  docId: string;
  kind: 'result' | 'rejected';
  /** The outcome's key. */
  key: string;
  /** The source key the run's index had for the document. */
  sourceKey: string;
}

export interface ReleaseSummary {
  runId: string;
  attempt: number;
  /** Documents whose record now names their outcome and this run, their staged text and claim deleted. */
  released: number;
  /** Outcomes that gained keys the document had arrived under meanwhile (the same bytes uploaded again). */
  sourcesAdded: number;
}

/** Keys deleted per `deleteMany` call: S3 DeleteObjects' maximum. */
const RELEASE_DELETE_BATCH = 1000;

/**
 * Release: finishes what Collect decided, document by document from its `decided.jsonl`: the
 * document record learns its status and run (and an outcome learns the keys the document was
 * uploaded under meanwhile), then its staged text and claim are deleted, a thousand keys a
 * request. Kept out of Collect so that Collect's time goes to the run's output, and so that a
 * failure here is retried without parsing that output again. Idempotent: a retry finds the
 * records as they should be and deletes keys already gone.
 */
export async function release(
  input: { runId: string; attempt?: number },
  ctx: TaskContext,
): Promise<ReleaseSummary> {
  const runId = runIdFromExecutionName(input.runId);
  const attempt = input.attempt ?? 1;
  let released = 0;
  let sourcesAdded = 0;
  const updates = new BoundedRunner(OUTCOME_CONCURRENCY);
  let deletions: string[] = [];
  const deleteBatch = async () => {
    const batch = deletions;
    deletions = [];
    if (batch.length > 0) await ctx.store.deleteMany(batch);
  };
  for await (const line of ctx.store.lines(keys.decided(runId, attempt))) {
    const d = JSON.parse(line) as DecidedDocument;
    await updates.run(async () => {
      const updated = await updateDocument(ctx, d.docId, { status: d.kind, runId });
      const sources = updated?.sources;
      if (sources && !(sources.length === 1 && sources[0] === d.sourceKey)) {
        if (await addSourcesToOutcome(ctx, d.key, sources)) sourcesAdded++;
      }
      // Only now: until its record names the outcome, the staged text is what the document has.
      deletions.push(keys.staged(d.docId), keys.claim(d.docId));
      released++;
      if (deletions.length >= RELEASE_DELETE_BATCH) await deleteBatch();
    });
  }
  await updates.drain();
  await deleteBatch();
  const summary: ReleaseSummary = { runId, attempt, released, sourcesAdded };
  ctx.log.info('released', { ...summary });
  return summary;
}

/**
 * `reports/<runId>.json`. Its shape is defined in core beside the HTML that renders it
 * (src/core/report-html.ts), since core code cannot import from tasks.
 */
export type RunReport = RunReportBody;

/**
 * Report: `reports/<runId>.json`, the run in numbers with every attempt included, and
 * `reports/<runId>.html`, the same for people. It reads the run's plans, Collect summaries and job
 * manifests, then only this run's documents, found through its index files (never a listing of the
 * bucket): each registration (pages, text layer) and, for a rejection, the rejected record.
 */
export async function report(
  input: { runId: string },
  ctx: TaskContext,
): Promise<{
  runId: string;
  results: number;
  rejected: number;
  attempts: number;
  report: string;
  html: string;
}> {
  const runId = runIdFromExecutionName(input.runId);
  const first = await readJson<Plan>(ctx, keys.plan(runId, 1));
  const now = ctx.clock.now();
  const plans: Plan[] = [first];
  while (await ctx.store.head(keys.plan(runId, plans.length + 1)))
    plans.push(await readJson<Plan>(ctx, keys.plan(runId, plans.length + 1)));
  // A missing or torn object is a gap in the report, not a failed run; storage errors (a missing
  // permission, an outage) still fail the task, which is retried or alarms.
  const readIfThere = async <T>(key: string): Promise<T | undefined> => {
    if (!(await ctx.store.head(key))) return undefined;
    try {
      return JSON.parse(await ctx.store.getText(key)) as T;
    } catch (error) {
      if (error instanceof SyntaxError) return undefined;
      throw error;
    }
  };

  let results = 0;
  let rejected = 0;
  let redriven = 0;
  let errorRecords = 0;
  let records = 0;
  const tokens = { input: 0, output: 0 };
  const jobs: ReportJob[] = [];
  const perAttempt: ReportAttempt[] = [];
  for (const [i, plan] of plans.entries()) {
    const attempt = i + 1;
    records += plan.records;
    const c = await readIfThere<CollectSummary>(keys.collectSummary(runId, attempt));
    if (c) {
      results += c.results;
      rejected += c.rejected;
      redriven += c.redrive;
      errorRecords += c.errorRecords;
      tokens.input += c.tokens.input;
      tokens.output += c.tokens.output;
    }
    const end = plans[i + 1]?.createdAt ?? now.toISOString();
    perAttempt.push({
      attempt,
      plannedAt: plan.createdAt,
      durationMs: Math.max(0, Date.parse(end) - Date.parse(plan.createdAt)),
      documents: plan.documents,
      records: plan.records,
      deferred: plan.deferred,
      jobs: plan.jobs.length,
      collected: c !== undefined,
      results: c?.results ?? 0,
      rejected: c?.rejected ?? 0,
      redriven: c?.redrive ?? 0,
      errorRecords: c?.errorRecords ?? 0,
      tokens: c?.tokens ?? { input: 0, output: 0 },
    });
    const jobResults = new Map((c?.jobs ?? []).map((r) => [r.job, r]));
    for (const j of plan.jobs) {
      const r = jobResults.get(j.job);
      const jobId = r?.jobId ?? (r?.jobArn ? jobIdFromArn(r.jobArn) : undefined);
      // Bedrock's own count of the job's tokens, for the price of its mode.
      const manifest = jobId
        ? await readIfThere<{ inputTokenCount?: number; outputTokenCount?: number }>(
            `${keys.outputPrefix(runId, attempt)}${jobId}/manifest.json.out`,
          )
        : undefined;
      jobs.push({
        attempt,
        job: j.job,
        mode: j.mode,
        status: r?.status ?? 'Unknown',
        records: j.records,
        ...(jobId ? { jobId } : {}),
        ...(r?.message ? { message: r.message } : {}),
        ...(typeof manifest?.inputTokenCount === 'number'
          ? { tokens: { input: manifest.inputTokenCount, output: manifest.outputTokenCount ?? 0 } }
          : {}),
      });
    }
  }

  // The run's documents: every attempt re-submits a subset of the first one's.
  const typeOf = new Map<string, string>();
  for (const j of first.jobs)
    for await (const line of ctx.store.lines(keys.jobIndex(runId, 1, j.job))) {
      const entry = JSON.parse(line) as IndexEntry;
      typeOf.set(entry.docId, entry.type);
    }
  const perType = new Map<string, { documents: number; results: number; rejections: RejectedRecord[] }>();
  const pages = new Map<string, DocumentPages>();
  let unknownDocuments = 0;
  const visit = async ([docId, type]: [string, string]): Promise<void> => {
    const t = perType.get(type) ?? { documents: 0, results: 0, rejections: [] };
    perType.set(type, t);
    t.documents++;
    const doc = await readIfThere<DocumentRecord>(keys.document(docId));
    if (!doc) {
      unknownDocuments++;
      return;
    }
    const n = doc.pages ?? 0;
    // Register's route (`textLayerPlan`): "prefer" reads a PDF from its text layer when every page's
    // is complete; "only" reads every PDF it lets through from it, mixed pages included (their
    // image text skipped, so `textLayerPages` does not count them); "never" always OCRs.
    const textLayer =
      doc.mediaType === 'application/pdf' &&
      n > 0 &&
      (ctx.config.ocr.textLayer === 'only' ||
        (ctx.config.ocr.textLayer === 'prefer' && doc.textLayerPages === n));
    const route = `${type}\n${textLayer}`;
    const p = pages.get(route) ?? { type, textLayer, pages: 0, documents: 0 };
    p.pages += n;
    p.documents = (p.documents ?? 0) + 1;
    pages.set(route, p);
    if (doc.status === 'result') t.results++;
    else if (doc.status === 'rejected') {
      const rejection = await readIfThere<RejectedRecord>(keys.rejected(docId));
      if (rejection?.runId === runId) t.rejections.push(rejection);
    }
  };
  // Sixteen documents at a time: enough to hide the store's latency, few enough for any quota.
  const entries = [...typeOf];
  for (let i = 0; i < entries.length; i += 16) await Promise.all(entries.slice(i, i + 16).map(visit));
  const allRejections = [...perType.values()].flatMap((t) => t.rejections);
  const { pages: pageTotals, cost } = runCost(ctx.config, first.modelId, tokens, jobs, [...pages.values()]);
  const body: RunReport = {
    reportVersion: REPORT_VERSION,
    runId,
    modelId: first.modelId,
    createdAt: now.toISOString(),
    startedAt: first.createdAt,
    durationMs: Math.max(0, now.getTime() - Date.parse(first.createdAt)),
    documents: first.documents,
    records,
    deferred: first.deferred,
    attempts: plans.length,
    results,
    rejected,
    pending: Math.max(0, typeOf.size - results - rejected),
    redriven,
    errorRecords,
    tokens,
    jobs,
    perAttempt,
    byType: [...perType.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, t]) => ({
        type,
        documents: t.documents,
        results: t.results,
        rejected: t.rejections.length,
        ...fieldFailures(t.documents, t.rejections),
      })),
    rejectedDocuments: allRejections
      .map((r) => ({
        docId: r.docId,
        type: r.type,
        source: r.source.key,
        stage: r.stage,
        reasons: r.reasons,
      }))
      .sort((a, b) => a.source.localeCompare(b.source))
      .slice(0, MAX_LISTED_REJECTIONS),
    pages: { ...pageTotals, unknownDocuments },
    cost,
  };
  await ctx.store.put(keys.report(runId), json(body), { contentType: 'application/json' });
  await ctx.store.put(reportHtmlKey(runId), renderReportHtml(body), {
    contentType: 'text/html; charset=utf-8',
  });
  ctx.log.info('reported', { runId, results, rejected, attempts: body.attempts });
  return {
    runId,
    results,
    rejected,
    attempts: body.attempts,
    report: keys.report(runId),
    html: reportHtmlKey(runId),
  };
}

// A Collect worker thread runs this module: it serves decisions instead of exporting tasks.
if (!isMainThread && parentPort && (workerData as { role?: unknown } | null)?.role === COLLECT_WORKER)
  serveDecisions(parentPort, workerData as CollectWorkerData);
