/**
 * Amazon Bedrock batch inference on one machine. Methods take and return the PascalCase
 * shapes of the Step Functions AWS SDK integration (`arn:aws:states:::aws-sdk:bedrock:…`), so
 * the same ASL drives this emulator offline and Bedrock in AWS; errors carry the names that
 * integration raises (`Bedrock.ValidationException` …).
 *
 * A job advances one step per `getModelInvocationJob` call (after `ticksPerStatus` calls in
 * a status): Submitted → Validating → Scheduled → InProgress → Completed. Validation reads
 * every input line (streamed) and fails the whole job as Bedrock does; processing answers
 * each record with the rules model and writes `<output>/<jobId>/<file>.jsonl.out` plus
 * `manifest.json.out`. Job state lives in memory: one emulator per process.
 */

import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { DocbatchError, RetryableError } from '../../../errors.ts';
import type { ObjectStore } from '../../../ports.ts';
import type { RecordError } from './anthropic-response.ts';
import { answerModelInput } from './family-responses.ts';

export class BedrockValidationException extends DocbatchError {
  constructor(message: string) {
    super(message);
    this.name = 'Bedrock.ValidationException';
  }
}

export class BedrockResourceNotFoundException extends DocbatchError {
  constructor(message: string) {
    super(message);
    this.name = 'Bedrock.ResourceNotFoundException';
  }
}

export class BedrockThrottlingException extends RetryableError {
  constructor(message = 'Too many requests, please wait before trying again.') {
    super(message);
    this.name = 'Bedrock.ThrottlingException';
  }
}

export type JobStatus =
  | 'Submitted'
  | 'InProgress'
  | 'Completed'
  | 'Failed'
  | 'Stopping'
  | 'Stopped'
  | 'PartiallyCompleted'
  | 'Expired'
  | 'Validating'
  | 'Scheduled';

const TERMINAL: ReadonlySet<JobStatus> = new Set([
  'Completed',
  'Failed',
  'Stopped',
  'PartiallyCompleted',
  'Expired',
]);

export interface InputDataConfig {
  S3InputDataConfig: { S3Uri: string; S3InputFormat?: string; S3BucketOwner?: string };
}

export interface OutputDataConfig {
  S3OutputDataConfig: { S3Uri: string; S3EncryptionKeyId?: string; S3BucketOwner?: string };
}

export interface CreateModelInvocationJobInput {
  JobName: string;
  RoleArn: string;
  ModelId: string;
  InputDataConfig: InputDataConfig;
  OutputDataConfig: OutputDataConfig;
  ClientRequestToken?: string;
  TimeoutDurationInHours?: number;
  Tags?: { Key: string; Value: string }[];
  ModelInvocationType?: string;
  VpcConfig?: unknown;
}

export interface JobIdentifierInput {
  JobIdentifier: string;
}

export interface GetModelInvocationJobOutput {
  JobArn: string;
  JobName: string;
  ModelId: string;
  ClientRequestToken?: string;
  RoleArn: string;
  Status: JobStatus;
  Message?: string;
  SubmitTime: string;
  LastModifiedTime: string;
  EndTime?: string;
  InputDataConfig: InputDataConfig;
  OutputDataConfig: OutputDataConfig;
  TimeoutDurationInHours: number;
  JobExpirationTime: string;
  ModelInvocationType?: string;
  TotalRecordCount?: number;
  ProcessedRecordCount?: number;
  SuccessRecordCount?: number;
  ErrorRecordCount?: number;
}

export interface Manifest {
  totalRecordCount: number;
  processedRecordCount: number;
  successRecordCount: number;
  errorRecordCount: number;
  inputTokenCount: number;
  outputTokenCount: number;
}

export interface BatchFaults {
  /** How every job ends instead of Completed. Failed/Expired write nothing; PartiallyCompleted/Stopped about half. */
  terminalStatus?: 'Failed' | 'Stopped' | 'Expired' | 'PartiallyCompleted';
  /** Records answered with a per-record error 500 instead of a model output. */
  failRecordIds?: string[];
  /** The first N `createModelInvocationJob` calls throw `Bedrock.ThrottlingException`. */
  throttleCreate?: number;
  /** Write output lines in a shuffled (deterministic per job) order, as Bedrock may. */
  shuffle?: boolean;
}

export interface LocalBedrockBatchOptions {
  store: ObjectStore;
  region?: string;
  accountId?: string;
  /** Minimum records per job (Bedrock quota; 100 for most models). */
  minRecordsPerJob?: number;
  /** Per-model minimum, by model id as passed to CreateModelInvocationJob. */
  minRecordsByModel?: Record<string, number>;
  /** `getModelInvocationJob` calls a job stays in each non-terminal status; 0 runs it to the end at once. */
  ticksPerStatus?: number;
  faults?: BatchFaults;
  now?: () => Date;
}

interface InputFile {
  key: string;
  /** Path of the output object under `<output>/<jobId>/`. */
  outName: string;
}

interface Job {
  id: string;
  arn: string;
  request: CreateModelInvocationJobInput;
  status: JobStatus;
  message?: string;
  submitTime: Date;
  lastModified: Date;
  endTime?: Date;
  ticks: number;
  files: InputFile[];
  counts?: Manifest;
  /** Records were answered and output written (once per job, even if stopped afterwards). */
  processed: boolean;
  /** Reached InProgress: a stop from now on leaves partial output. */
  started: boolean;
  /** Serializes polls of one job so two callers never advance it twice at once. */
  lock: Promise<unknown>;
}

const JOB_NAME_RE = /^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9+\-.]){0,63}$/;
const ROLE_ARN_RE = /^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/;
const TOKEN_RE = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
const DEFAULT_TIMEOUT_HOURS = 24;
const INTERNAL_ERROR: RecordError = {
  errorCode: 500,
  errorMessage: 'The system encountered an unexpected error during processing. Try your request again.',
};

function jobId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** A small deterministic PRNG (mulberry32) so shuffled output is reproducible per job. */
function shuffled<T>(items: readonly T[], seed: string): T[] {
  let state = [...seed].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0, 2166136261);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export class LocalBedrockBatch {
  readonly #store: ObjectStore;
  readonly #region: string;
  readonly #accountId: string;
  readonly #minRecords: number;
  readonly #minByModel: Record<string, number>;
  readonly #ticksPerStatus: number;
  readonly #faults: BatchFaults;
  readonly #now: () => Date;
  readonly #jobs = new Map<string, Job>();
  readonly #byToken = new Map<string, string>();
  #creates = 0;

  constructor(options: LocalBedrockBatchOptions) {
    this.#store = options.store;
    this.#region = options.region ?? 'us-east-1';
    this.#accountId = options.accountId ?? '123456789012';
    this.#minRecords = options.minRecordsPerJob ?? 100;
    this.#minByModel = options.minRecordsByModel ?? {};
    this.#ticksPerStatus = options.ticksPerStatus ?? 1;
    this.#faults = options.faults ?? {};
    this.#now = options.now ?? (() => new Date());
  }

  async createModelInvocationJob(input: CreateModelInvocationJobInput): Promise<{ JobArn: string }> {
    this.#creates++;
    if (this.#creates <= (this.#faults.throttleCreate ?? 0)) throw new BedrockThrottlingException();
    this.#validateCreate(input);
    const token = input.ClientRequestToken;
    const existing = token === undefined ? undefined : this.#byToken.get(token);
    if (existing !== undefined) {
      const job = this.#jobs.get(existing);
      if (job) return { JobArn: job.arn };
    }
    const id = jobId();
    const now = this.#now();
    const job: Job = {
      id,
      arn: `arn:aws:bedrock:${this.#region}:${this.#accountId}:model-invocation-job/${id}`,
      request: structuredClone(input),
      status: 'Submitted',
      submitTime: now,
      lastModified: now,
      ticks: 0,
      files: [],
      processed: false,
      started: false,
      lock: Promise.resolve(),
    };
    this.#jobs.set(id, job);
    if (token !== undefined) this.#byToken.set(token, id);
    return { JobArn: job.arn };
  }

  async getModelInvocationJob(input: JobIdentifierInput): Promise<GetModelInvocationJobOutput> {
    const job = this.#find(input?.JobIdentifier);
    return this.#locked(job, async () => {
      if (this.#ticksPerStatus <= 0) {
        while (!TERMINAL.has(job.status)) await this.#advance(job);
        return this.#describe(job);
      }
      const snapshot = this.#describe(job);
      if (!TERMINAL.has(job.status)) {
        job.ticks++;
        if (job.ticks >= this.#ticksPerStatus) await this.#advance(job);
      }
      return snapshot;
    });
  }

  async stopModelInvocationJob(input: JobIdentifierInput): Promise<Record<string, never>> {
    const job = this.#find(input?.JobIdentifier);
    return this.#locked(job, async () => {
      if (TERMINAL.has(job.status)) {
        throw new BedrockValidationException(
          `The job ${job.arn} is in status ${job.status} and cannot be stopped.`,
        );
      }
      if (job.status !== 'Stopping') this.#setStatus(job, 'Stopping');
      return {};
    });
  }

  async #locked<T>(job: Job, fn: () => Promise<T>): Promise<T> {
    const run = job.lock.then(fn, fn);
    job.lock = run.catch(() => undefined);
    return run;
  }

  #find(identifier: unknown): Job {
    if (typeof identifier !== 'string' || identifier.length === 0) {
      throw new BedrockValidationException(
        "1 validation error detected: Value at 'jobIdentifier' failed to satisfy constraint: Member must not be null",
      );
    }
    const id = identifier.startsWith('arn:') ? (identifier.split('/').pop() ?? '') : identifier;
    const job = this.#jobs.get(id);
    if (!job || (identifier.startsWith('arn:') && identifier !== job.arn)) {
      throw new BedrockResourceNotFoundException(
        `The specified job ${identifier} was not found. Check the job identifier and try again.`,
      );
    }
    return job;
  }

  #validateCreate(input: CreateModelInvocationJobInput): void {
    const problems: string[] = [];
    const name = input?.JobName;
    if (typeof name !== 'string' || name.length > 63 || !JOB_NAME_RE.test(name)) {
      problems.push(
        `Value ${JSON.stringify(name)} at 'jobName' failed to satisfy constraint: Member must have length less than or equal to 63 and satisfy regular expression pattern: [a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\\+\\-\\.]){0,63}`,
      );
    }
    if (typeof input?.RoleArn !== 'string' || !ROLE_ARN_RE.test(input.RoleArn)) {
      problems.push(
        `Value ${JSON.stringify(input?.RoleArn)} at 'roleArn' failed to satisfy constraint: Member must be an IAM role ARN`,
      );
    }
    if (typeof input?.ModelId !== 'string' || input.ModelId.length === 0 || input.ModelId.length > 2048) {
      problems.push(
        `Value ${JSON.stringify(input?.ModelId)} at 'modelId' failed to satisfy constraint: Member must not be empty`,
      );
    }
    const timeout = input?.TimeoutDurationInHours;
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 24 || timeout > 168)) {
      problems.push(
        `Value ${JSON.stringify(timeout)} at 'timeoutDurationInHours' failed to satisfy constraint: Member must have value between 24 and 168`,
      );
    }
    const token = input?.ClientRequestToken;
    if (token !== undefined && (typeof token !== 'string' || token.length > 256 || !TOKEN_RE.test(token))) {
      problems.push(
        `Value ${JSON.stringify(token)} at 'clientRequestToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9])*`,
      );
    }
    const format = input?.InputDataConfig?.S3InputDataConfig?.S3InputFormat;
    if (format !== undefined && format !== 'JSONL') {
      problems.push(
        `Value ${JSON.stringify(format)} at 's3InputFormat' failed to satisfy constraint: Member must satisfy enum value set: [JSONL]`,
      );
    }
    const type = input?.ModelInvocationType;
    if (type !== undefined && type !== 'InvokeModel') {
      // Bedrock accepts Converse too; this emulator answers native InvokeModel bodies only.
      problems.push(
        `ModelInvocationType ${JSON.stringify(type)} is not supported by the local Bedrock emulator (only InvokeModel)`,
      );
    }
    for (const [field, uri] of [
      ['inputDataConfig.s3InputDataConfig.s3Uri', input?.InputDataConfig?.S3InputDataConfig?.S3Uri],
      ['outputDataConfig.s3OutputDataConfig.s3Uri', input?.OutputDataConfig?.S3OutputDataConfig?.S3Uri],
    ] as const) {
      const problem = this.#uriProblem(uri);
      if (problem) problems.push(`${field}: ${problem}`);
    }
    if (problems.length > 0) {
      throw new BedrockValidationException(
        `${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`,
      );
    }
  }

  #uriProblem(uri: unknown): string | undefined {
    if (typeof uri !== 'string') return 'an S3 URI (s3://bucket/key) is required';
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
    if (!m) return `${JSON.stringify(uri)} is not an S3 URI (s3://bucket/key)`;
    if (m[1] !== this.#store.bucket) {
      return `bucket ${JSON.stringify(m[1])} is not the emulator's bucket ${JSON.stringify(this.#store.bucket)}`;
    }
    return undefined;
  }

  /** The object key (or prefix) an `s3://bucket/key` URI names, without a trailing slash. */
  #keyOf(uri: string): string {
    return uri.replace(/^s3:\/\/[^/]+\/?/, '').replace(/\/+$/, '');
  }

  #setStatus(job: Job, status: JobStatus, message?: string): void {
    job.status = status;
    job.ticks = 0;
    job.lastModified = this.#now();
    if (message !== undefined) job.message = message;
    if (TERMINAL.has(status)) job.endTime = job.lastModified;
  }

  async #advance(job: Job): Promise<void> {
    switch (job.status) {
      case 'Submitted':
        this.#setStatus(job, 'Validating');
        return;
      case 'Validating': {
        const problem = await this.#validateInput(job);
        if (problem) this.#setStatus(job, 'Failed', problem);
        else this.#setStatus(job, 'Scheduled');
        return;
      }
      case 'Scheduled':
        if (this.#faults.terminalStatus === 'Expired') {
          this.#setStatus(
            job,
            'Expired',
            `The job did not start within its timeout of ${this.#timeoutHours(job)} hours and expired.`,
          );
        } else {
          this.#setStatus(job, 'InProgress');
          job.started = true;
        }
        return;
      case 'InProgress': {
        const fault = this.#faults.terminalStatus;
        if (fault === 'Failed') {
          this.#setStatus(
            job,
            'Failed',
            'The job failed because of an internal error (emulated fault). No output was written.',
          );
        } else if (fault === 'PartiallyCompleted') {
          await this.#process(job, 0.5);
          this.#setStatus(job, 'PartiallyCompleted', 'Some records were not processed (emulated fault).');
        } else if (fault === 'Stopped') {
          await this.#process(job, 0.5);
          this.#setStatus(job, 'Stopping');
        } else {
          await this.#process(job, 1);
          this.#setStatus(job, 'Completed');
        }
        return;
      }
      case 'Stopping': {
        // Records already answered when the stop arrived are kept (and billed), as in Bedrock.
        if (job.started && !job.processed) await this.#process(job, 0.5);
        this.#setStatus(job, 'Stopped', 'The job was stopped.');
        return;
      }
      default:
        return;
    }
  }

  #timeoutHours(job: Job): number {
    return job.request.TimeoutDurationInHours ?? DEFAULT_TIMEOUT_HOURS;
  }

  #minRecordsFor(modelId: string): number {
    return this.#minByModel[modelId] ?? this.#minRecords;
  }

  /** Lists and checks the input; returns the failure message, if any. */
  async #validateInput(job: Job): Promise<string | undefined> {
    const uri = job.request.InputDataConfig.S3InputDataConfig.S3Uri;
    const base = this.#keyOf(uri);
    const files: InputFile[] = [];
    const single = base !== '' && !uri.endsWith('/') ? await this.#store.head(base) : undefined;
    if (single) {
      files.push({ key: base, outName: posix.basename(base) });
    } else {
      const prefix = base === '' ? '' : `${base}/`;
      for await (const info of this.#store.list(prefix)) {
        if (info.key.endsWith('/')) continue;
        files.push({ key: info.key, outName: info.key.slice(prefix.length) });
      }
    }
    if (files.length === 0) return `No input files were found at ${uri}.`;
    const wrong = files.find((f) => !f.key.endsWith('.jsonl'));
    if (wrong)
      return `The input file s3://${this.#store.bucket}/${wrong.key} does not have the .jsonl extension; batch inference input must be JSONL files.`;
    let total = 0;
    for (const file of files) {
      let lineNo = 0;
      for await (const line of this.#store.lines(file.key)) {
        lineNo++;
        if (line.trim() === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          return `Invalid JSON at s3://${this.#store.bucket}/${file.key} record #${lineNo}: each line must be a JSON object {"recordId": ..., "modelInput": {...}}.`;
        }
        if (
          typeof parsed !== 'object' ||
          parsed === null ||
          Array.isArray(parsed) ||
          typeof (parsed as Record<string, unknown>)['recordId'] !== 'string' ||
          typeof (parsed as Record<string, unknown>)['modelInput'] !== 'object' ||
          (parsed as Record<string, unknown>)['modelInput'] === null
        ) {
          return `Invalid record at s3://${this.#store.bucket}/${file.key} record #${lineNo}: each line must be a JSON object with a string "recordId" and an object "modelInput".`;
        }
        total++;
      }
    }
    const min = this.#minRecordsFor(job.request.ModelId);
    if (total < min)
      return `The number of records (${total}) is below the minimum of ${min} required for this model`;
    job.files = files;
    job.counts = {
      totalRecordCount: total,
      processedRecordCount: 0,
      successRecordCount: 0,
      errorRecordCount: 0,
      inputTokenCount: 0,
      outputTokenCount: 0,
    };
    return undefined;
  }

  /** Answers records (the first `share` of them) and writes the output files and manifest. */
  async #process(job: Job, share: number): Promise<void> {
    const counts = job.counts;
    if (!counts || job.processed) return;
    job.processed = true;
    const limit = share >= 1 ? counts.totalRecordCount : Math.ceil(counts.totalRecordCount * share);
    const failIds = new Set(this.#faults.failRecordIds ?? []);
    const outPrefix =
      `${this.#keyOf(job.request.OutputDataConfig.S3OutputDataConfig.S3Uri)}/${job.id}`.replace(/^\//, '');
    let seen = 0;
    for (const file of job.files) {
      const out: string[] = [];
      for await (const line of this.#store.lines(file.key)) {
        if (line.trim() === '') continue;
        if (seen >= limit) break;
        seen++;
        const { recordId, modelInput } = JSON.parse(line) as { recordId: string; modelInput: unknown };
        const answer = failIds.has(recordId)
          ? { error: INTERNAL_ERROR }
          : answerModelInput(job.request.ModelId, modelInput);
        counts.processedRecordCount++;
        if ('error' in answer) {
          counts.errorRecordCount++;
          out.push(JSON.stringify({ recordId, modelInput, error: answer.error }));
        } else {
          counts.successRecordCount++;
          counts.inputTokenCount += answer.usage.input;
          counts.outputTokenCount += answer.usage.output;
          out.push(JSON.stringify({ recordId, modelInput, modelOutput: answer.modelOutput }));
        }
      }
      if (out.length === 0) continue;
      const lines = this.#faults.shuffle ? shuffled(out, `${job.id}/${file.key}`) : out;
      await this.#store.put(`${outPrefix}/${file.outName}.out`, `${lines.join('\n')}\n`, {
        contentType: 'application/jsonl',
      });
    }
    const manifest: Manifest = { ...counts };
    await this.#store.put(`${outPrefix}/manifest.json.out`, `${JSON.stringify(manifest)}\n`, {
      contentType: 'application/json',
    });
  }

  #describe(job: Job): GetModelInvocationJobOutput {
    const r = job.request;
    const hours = this.#timeoutHours(job);
    const out: GetModelInvocationJobOutput = {
      JobArn: job.arn,
      JobName: r.JobName,
      ModelId: r.ModelId,
      RoleArn: r.RoleArn,
      Status: job.status,
      SubmitTime: job.submitTime.toISOString(),
      LastModifiedTime: job.lastModified.toISOString(),
      InputDataConfig: structuredClone(r.InputDataConfig),
      OutputDataConfig: structuredClone(r.OutputDataConfig),
      TimeoutDurationInHours: hours,
      JobExpirationTime: new Date(job.submitTime.getTime() + hours * 3_600_000).toISOString(),
    };
    if (r.ClientRequestToken !== undefined) out.ClientRequestToken = r.ClientRequestToken;
    if (r.ModelInvocationType !== undefined) out.ModelInvocationType = r.ModelInvocationType;
    if (job.message !== undefined) out.Message = job.message;
    if (job.endTime) out.EndTime = job.endTime.toISOString();
    if (job.counts) {
      out.TotalRecordCount = job.counts.totalRecordCount;
      out.ProcessedRecordCount = job.counts.processedRecordCount;
      out.SuccessRecordCount = job.counts.successRecordCount;
      out.ErrorRecordCount = job.counts.errorRecordCount;
    }
    return out;
  }
}
