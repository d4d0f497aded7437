/**
 * The offline stand-in for asynchronous Textract text detection. It takes and returns the exact
 * PascalCase shapes of the Step Functions AWS SDK integration
 * (`arn:aws:states:::aws-sdk:textract:startDocumentTextDetection` / `getDocumentTextDetection`),
 * fails with the same error names, and writes the same OutputConfig layout, so the state machine
 * and everything downstream run unchanged against it.
 *
 * Pages with a usable PDF text layer are read from it (free, exact); every other page is rendered
 * by mupdf and read by the configured OCR engine (`ocr.localEngine`: PP-OCR through onnxruntime by
 * default, or tesseract.js). Textract reads everything printed on a page, text shown as a
 * picture included, so on a text-layer page every image the text layer does not cover (a logo, a
 * company footer pasted in as a picture) is rendered alone and OCR'd too, its lines joining the
 * text layer's at their place on the page.
 */
import { randomBytes } from 'node:crypto';
import { checkLimits, sniffMediaType, type UncoveredImage } from '../../../core/documents.ts';
import {
  type Block,
  paginateBlocks,
  TEXTRACT_MAX_BLOCKS_PER_PAGE,
  type TextractGetResponse,
} from '../../../core/ocr/textract.ts';
import { ConfigError, DocumentRejectedError, errorMessage, InvalidKeyError } from '../../../errors.ts';
import type { Logger, ObjectStore } from '../../../ports.ts';
import { type PositionedLine, pageBlocks, type RatioBox } from '../../documents/blocks.ts';
import { type MupdfReader, PageRenderer } from '../../documents/mupdf-reader.ts';
import {
  TextractIdempotentParameterMismatchError,
  TextractInvalidJobIdError,
  TextractInvalidParameterError,
  TextractInvalidS3ObjectError,
  TextractThroughputExceededError,
} from './errors.ts';
import type { OcrEngine } from './ocr-engine.ts';
/** Textract's folder when OutputConfig has no S3Prefix. */
export const DEFAULT_OUTPUT_PREFIX = 'textract_output';

export interface StartDocumentTextDetectionInput {
  DocumentLocation?: { S3Object?: { Bucket?: string; Name?: string; Version?: string } };
  ClientRequestToken?: string;
  JobTag?: string;
  OutputConfig?: { S3Bucket?: string; S3Prefix?: string };
  /** Accepted and ignored: no SNS offline, the state machine polls. */
  NotificationChannel?: { SNSTopicArn?: string; RoleArn?: string };
  /** Accepted and ignored: outputs are written unencrypted offline. */
  KMSKeyId?: string;
}

export interface StartDocumentTextDetectionOutput {
  JobId: string;
}

export interface GetDocumentTextDetectionInput {
  JobId?: string;
  MaxResults?: number;
  NextToken?: string;
}

export interface LocalTextractFaults {
  /** Throw a throttling error on the first N start calls. */
  throttleStart?: number;
  /** Every job ends FAILED. */
  failJobs?: boolean;
}

export interface LocalTextractOptions {
  store: ObjectStore;
  reader: MupdfReader;
  /** Reads pages without a usable text layer; its `version` is the outputs' `DetectDocumentTextModelVersion`. */
  engine: OcrEngine;
  faults?: LocalTextractFaults;
  /** Told about failed jobs (the job's StatusMessage carries the same text). */
  logger?: Logger;
}

/** Reads a job's blocks by index range, from memory or from the job's OutputConfig objects. */
interface BlockSource {
  readonly count: number;
  slice(start: number, end: number): Promise<Block[]>;
}

interface Job {
  readonly id: string;
  /** The normalized request, to detect a ClientRequestToken reused for another request. */
  readonly fingerprint: string;
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  statusMessage?: string;
  pages: number;
  blocks?: BlockSource;
}

interface StartRequest {
  bucket: string;
  key: string;
  version?: string;
  jobTag?: string;
  token?: string;
  output?: { prefix: string };
}

const TOKEN_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const JOB_TAG_PATTERN = /^[a-zA-Z0-9_.\-:]{1,64}$/;
const JOB_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

const UNSUPPORTED_FORMAT = 'Request has unsupported document format';

/** A document Textract would accept the request for but not finish: the job ends FAILED. */
class JobFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobFailure';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TextractInvalidParameterError(`${field} must be a string`);
  return value;
}

/** A member of a JSON object from the state machine, whatever the declared type says. */
function field(obj: unknown, name: string): unknown {
  return isRecord(obj) ? obj[name] : undefined;
}

function validateStart(input: StartDocumentTextDetectionInput, bucket: string): StartRequest {
  if (!isRecord(input)) throw new TextractInvalidParameterError('Request has invalid parameters');
  const location = field(input, 'DocumentLocation');
  if (!isRecord(location)) throw new TextractInvalidParameterError('DocumentLocation is required');
  const s3 = field(location, 'S3Object');
  if (!isRecord(s3)) throw new TextractInvalidParameterError('DocumentLocation.S3Object is required');
  const sourceBucket = optionalString(field(s3, 'Bucket'), 'DocumentLocation.S3Object.Bucket');
  const key = optionalString(field(s3, 'Name'), 'DocumentLocation.S3Object.Name');
  if (!sourceBucket || !key) {
    throw new TextractInvalidParameterError('DocumentLocation.S3Object needs a Bucket and a Name');
  }
  const version = optionalString(field(s3, 'Version'), 'DocumentLocation.S3Object.Version');
  const token = optionalString(field(input, 'ClientRequestToken'), 'ClientRequestToken');
  if (token !== undefined && !TOKEN_PATTERN.test(token)) {
    throw new TextractInvalidParameterError('ClientRequestToken must be 1-64 characters of [a-zA-Z0-9-_]');
  }
  const jobTag = optionalString(field(input, 'JobTag'), 'JobTag');
  if (jobTag !== undefined && !JOB_TAG_PATTERN.test(jobTag)) {
    throw new TextractInvalidParameterError('JobTag must be 1-64 characters of [a-zA-Z0-9_.-:]');
  }
  const request: StartRequest = { bucket: sourceBucket, key };
  if (version !== undefined) request.version = version;
  if (token !== undefined) request.token = token;
  if (jobTag !== undefined) request.jobTag = jobTag;
  const output = field(input, 'OutputConfig');
  if (output !== undefined) {
    if (!isRecord(output)) throw new TextractInvalidParameterError('OutputConfig must be an object');
    const outBucket = optionalString(field(output, 'S3Bucket'), 'OutputConfig.S3Bucket');
    if (!outBucket) throw new TextractInvalidParameterError('OutputConfig.S3Bucket is required');
    if (outBucket !== bucket) {
      throw new ConfigError(
        `LocalTextract writes output only to its own bucket ${JSON.stringify(bucket)}, not ${JSON.stringify(outBucket)}`,
      );
    }
    // A trailing '/' would make an empty key segment, which the local store refuses.
    // ⚠ What real Textract does with a trailing '/' is not documented.
    const prefix = (optionalString(field(output, 'S3Prefix'), 'OutputConfig.S3Prefix') ?? '').replace(
      /\/+$/,
      '',
    );
    request.output = { prefix: prefix || DEFAULT_OUTPUT_PREFIX };
  }
  return request;
}

function encodeNextToken(jobId: string, offset: number): string {
  return Buffer.from(JSON.stringify({ j: jobId, o: offset }), 'utf8').toString('base64url');
}

function decodeNextToken(token: string, jobId: string): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const offset = field(parsed, 'o');
    if (
      field(parsed, 'j') === jobId &&
      typeof offset === 'number' &&
      Number.isInteger(offset) &&
      offset > 0
    ) {
      return offset;
    }
  } catch {
    // Falls through to the error below: a token is opaque, whatever is wrong with it.
  }
  throw new TextractInvalidParameterError('NextToken is invalid for this JobId');
}

function memorySource(blocks: Block[]): BlockSource {
  return { count: blocks.length, slice: async (start, end) => blocks.slice(start, end) };
}

/**
 * Pages through the OutputConfig objects instead of keeping every job's blocks in memory: an
 * offline run over thousands of documents would otherwise hold all their blocks at once.
 */
function storeSource(store: ObjectStore, keys: string[], sizes: number[]): BlockSource {
  const count = sizes.reduce((a, b) => a + b, 0);
  let cached: { index: number; blocks: Block[] } | undefined;
  const load = async (index: number): Promise<Block[]> => {
    if (cached?.index !== index) {
      const key = keys[index];
      if (key === undefined) return [];
      const page = JSON.parse(await store.getText(key)) as TextractGetResponse;
      cached = { index, blocks: page.Blocks ?? [] };
    }
    return cached.blocks;
  };
  return {
    count,
    async slice(start, end) {
      const out: Block[] = [];
      let first = 0;
      for (const [index, size] of sizes.entries()) {
        const last = first + size;
        if (last > start && first < end) {
          const blocks = await load(index);
          out.push(...blocks.slice(Math.max(start - first, 0), Math.min(end, last) - first));
        }
        first = last;
      }
      return out;
    },
  };
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(lanes);
}

/**
 * The lines of one page's PAGE/LINE/WORD blocks, each word's box mapped through `place` (region
 * ratios → page ratios), so blocks from several sources can be rebuilt as one page.
 */
export function positionedLines(
  blocks: readonly Block[],
  place: (box: RatioBox) => RatioBox = (b) => b,
): PositionedLine[] {
  const words = new Map<string, Block>();
  for (const b of blocks) if (b.BlockType === 'WORD' && b.Id) words.set(b.Id, b);
  const lines: PositionedLine[] = [];
  for (const line of blocks) {
    if (line.BlockType !== 'LINE') continue;
    const ids = line.Relationships?.find((r) => r.Type === 'CHILD')?.Ids ?? [];
    const lineWords = ids.flatMap((id) => {
      const w = words.get(id);
      const bb = w?.Geometry?.BoundingBox;
      if (!w?.Text || !bb) return [];
      const left = bb.Left ?? 0;
      const top = bb.Top ?? 0;
      const box = { left, top, right: left + (bb.Width ?? 0), bottom: top + (bb.Height ?? 0) };
      return [{ text: w.Text, confidence: w.Confidence ?? 0, box: place(box) }];
    });
    if (lineWords.length > 0)
      lines.push({
        words: lineWords,
        ...(line.Confidence === undefined ? {} : { confidence: line.Confidence }),
      });
  }
  return lines;
}

/** Overlapping image boxes joined into one, so no part of the page is OCR'd twice. */
export function mergeBoxes(images: readonly UncoveredImage[]): RatioBox[] {
  let boxes: RatioBox[] = images.map(({ left, top, right, bottom }) => ({ left, top, right, bottom }));
  let merged = true;
  while (merged) {
    merged = false;
    const out: RatioBox[] = [];
    for (const box of boxes) {
      const other = out.find(
        (o) => box.left < o.right && o.left < box.right && box.top < o.bottom && o.top < box.bottom,
      );
      if (!other) {
        out.push({ ...box });
        continue;
      }
      other.left = Math.min(other.left, box.left);
      other.top = Math.min(other.top, box.top);
      other.right = Math.max(other.right, box.right);
      other.bottom = Math.max(other.bottom, box.bottom);
      merged = true;
    }
    boxes = out;
  }
  return boxes;
}

/** What one OCR call reads: a whole page, or one image region of a text-layer page. */
type OcrWork = { page: number; region?: RatioBox };

export class LocalTextract {
  readonly #store: ObjectStore;
  readonly #reader: MupdfReader;
  readonly #engine: OcrEngine;
  readonly #faults: LocalTextractFaults;
  readonly #logger: Logger | undefined;
  readonly #jobs = new Map<string, Job>();
  readonly #tokens = new Map<string, string>();
  readonly #running = new Set<Promise<void>>();
  #startCalls = 0;
  #closed = false;

  constructor(options: LocalTextractOptions) {
    this.#store = options.store;
    this.#reader = options.reader;
    this.#engine = options.engine;
    this.#faults = options.faults ?? {};
    this.#logger = options.logger;
  }

  /** Validates the request, starts the job in the background and returns its JobId at once. */
  async startDocumentTextDetection(
    input: StartDocumentTextDetectionInput,
  ): Promise<StartDocumentTextDetectionOutput> {
    return this.#start(input, []);
  }

  async #start(
    input: StartDocumentTextDetectionInput,
    features: string[],
  ): Promise<StartDocumentTextDetectionOutput> {
    if (this.#closed) throw new ConfigError('LocalTextract is closed');
    this.#startCalls += 1;
    if (this.#startCalls <= (this.#faults.throttleStart ?? 0)) {
      throw new TextractThroughputExceededError(
        `Provisioned rate exceeded (LocalTextract fault: throttleStart, call ${this.#startCalls})`,
      );
    }
    const request = validateStart(input, this.#store.bucket);
    const fingerprint = JSON.stringify([
      request.bucket,
      request.key,
      request.version,
      request.jobTag,
      request.output,
      features,
    ]);

    const repeated = this.#repeatedJob(request.token, fingerprint);
    if (repeated) return { JobId: repeated.id };

    if (request.bucket !== this.#store.bucket) throw this.#missingObject();
    let exists: boolean;
    try {
      exists = (await this.#store.head(request.key)) !== undefined;
    } catch (error) {
      if (error instanceof InvalidKeyError) throw this.#missingObject();
      throw error;
    }
    if (!exists) throw this.#missingObject();

    // Checked again after the await, and no await from here on: two concurrent calls with one
    // token must not both create a job.
    const raced = this.#repeatedJob(request.token, fingerprint);
    if (raced) return { JobId: raced.id };
    const job: Job = { id: randomBytes(32).toString('hex'), fingerprint, status: 'IN_PROGRESS', pages: 0 };
    this.#jobs.set(job.id, job);
    if (request.token !== undefined) this.#tokens.set(request.token, job.id);
    const run = this.#run(job, request).finally(() => this.#running.delete(run));
    this.#running.add(run);
    return { JobId: job.id };
  }

  /**
   * StartDocumentAnalysis with the same job contract. Offline, OCR reads text only: the job
   * produces PAGE/LINE/WORD blocks (no TABLE, KEY_VALUE_SET or QUERY blocks), which the linearizer
   * and everything downstream take exactly as they take a real analysis. FeatureTypes is checked as
   * Textract checks it, and a feature set is part of the job's identity for its token.
   */
  async startDocumentAnalysis(
    input: StartDocumentTextDetectionInput & { FeatureTypes?: unknown },
  ): Promise<StartDocumentTextDetectionOutput> {
    const features = isRecord(input) ? field(input, 'FeatureTypes') : undefined;
    const allowed = new Set(['TABLES', 'FORMS', 'QUERIES', 'SIGNATURES', 'LAYOUT']);
    if (!Array.isArray(features) || features.length === 0 || !features.every((f) => allowed.has(String(f)))) {
      throw new TextractInvalidParameterError(
        `FeatureTypes must be a non-empty list of ${[...allowed].join(', ')} (received ${JSON.stringify(features)})`,
      );
    }
    const { FeatureTypes: _features, ...request } = input;
    return this.#start(request, [...features].map(String).sort());
  }

  /** GetDocumentAnalysis: the same paging and statuses as text detection. */
  async getDocumentAnalysis(input: GetDocumentTextDetectionInput): Promise<TextractGetResponse> {
    return this.getDocumentTextDetection(input);
  }

  /** Job status, then (once SUCCEEDED) its blocks, `MaxResults` (default and at most 1,000) at a time. */
  async getDocumentTextDetection(input: GetDocumentTextDetectionInput): Promise<TextractGetResponse> {
    if (!isRecord(input)) throw new TextractInvalidParameterError('Request has invalid parameters');
    const jobId = field(input, 'JobId');
    if (typeof jobId !== 'string' || !JOB_ID_PATTERN.test(jobId)) {
      throw new TextractInvalidParameterError('JobId must be 1-64 characters of [a-zA-Z0-9-_]');
    }
    const job = this.#jobs.get(jobId);
    if (!job) throw new TextractInvalidJobIdError(`Request has invalid Job Id: ${jobId}`);
    const maxResults = field(input, 'MaxResults') ?? TEXTRACT_MAX_BLOCKS_PER_PAGE;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1) {
      throw new TextractInvalidParameterError('MaxResults must be a positive integer');
    }
    const nextToken = field(input, 'NextToken');
    if (nextToken !== undefined && typeof nextToken !== 'string') {
      throw new TextractInvalidParameterError('NextToken must be a string');
    }

    if (job.status === 'IN_PROGRESS') return { JobStatus: 'IN_PROGRESS' };
    if (job.status === 'FAILED') {
      return { JobStatus: 'FAILED', StatusMessage: job.statusMessage ?? 'Internal server error' };
    }

    const source = job.blocks ?? memorySource([]);
    const start = nextToken === undefined ? 0 : decodeNextToken(nextToken, job.id);
    // Textract returns at most 1,000 blocks whatever MaxResults asks for.
    const end = Math.min(start + Math.min(maxResults, TEXTRACT_MAX_BLOCKS_PER_PAGE), source.count);
    const response: TextractGetResponse = {
      DocumentMetadata: { Pages: job.pages },
      JobStatus: 'SUCCEEDED',
      Blocks: await source.slice(start, end),
      DetectDocumentTextModelVersion: this.#engine.version,
    };
    if (end < source.count) response.NextToken = encodeNextToken(job.id, end);
    return response;
  }

  /** Resolves once no job is running (jobs started meanwhile are waited for too). */
  async whenIdle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  /** Refuses new jobs, waits for running ones, then terminates the OCR engine. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.whenIdle();
    await this.#engine.terminate();
  }

  /** The job an earlier request with this ClientRequestToken started, if any. */
  #repeatedJob(token: string | undefined, fingerprint: string): Job | undefined {
    if (token === undefined) return undefined;
    const jobId = this.#tokens.get(token);
    const job = jobId === undefined ? undefined : this.#jobs.get(jobId);
    if (job && job.fingerprint !== fingerprint) {
      throw new TextractIdempotentParameterMismatchError(
        'ClientRequestToken was already used for a request with different parameters',
      );
    }
    return job;
  }

  #missingObject(): TextractInvalidS3ObjectError {
    return new TextractInvalidS3ObjectError(
      'Unable to get object metadata from S3. Check object key, region and/or access permissions.',
    );
  }

  /** Never rejects: every failure ends the job FAILED with a StatusMessage, as Textract reports it. */
  async #run(job: Job, request: StartRequest): Promise<void> {
    try {
      const outputDir = request.output ? `${request.output.prefix}/${job.id}` : undefined;
      // Textract proves it can write before doing any work.
      if (outputDir) await this.#store.put(`${outputDir}/.s3_access_check`, '');
      if (this.#faults.failJobs) {
        throw new JobFailure('Internal server error (LocalTextract fault: failJobs)');
      }
      const { blocks, pages } = await this.#detect(request.key);
      if (outputDir) {
        const responses = paginateBlocks(blocks, pages, {
          JobStatus: 'SUCCEEDED',
          DetectDocumentTextModelVersion: this.#engine.version,
        });
        const keys: string[] = [];
        for (const [i, response] of responses.entries()) {
          const key = `${outputDir}/${i + 1}`;
          await this.#store.put(key, JSON.stringify(response), { contentType: 'application/json' });
          keys.push(key);
        }
        job.blocks = storeSource(
          this.#store,
          keys,
          responses.map((r) => r.Blocks?.length ?? 0),
        );
      } else {
        job.blocks = memorySource(blocks);
      }
      job.pages = pages;
      job.status = 'SUCCEEDED';
    } catch (error) {
      job.status = 'FAILED';
      job.statusMessage = statusMessage(error);
      this.#logger?.warn('local Textract job failed', {
        jobId: job.id,
        key: request.key,
        error: job.statusMessage,
      });
    }
  }

  async #detect(key: string): Promise<{ blocks: Block[]; pages: number }> {
    const bytes = await this.#store.get(key);
    const mediaType = sniffMediaType(bytes);
    if (!mediaType) throw new JobFailure(UNSUPPORTED_FORMAT);
    const info = await this.#reader.inspect(bytes, mediaType);
    const reasons = checkLimits(bytes.length, info);
    if (reasons.length > 0) throw new DocumentRejectedError(reasons);

    const perPage: Block[][] = Array.from({ length: info.pages }, () => []);
    const textPages = info.textLayer.flatMap((usable, i) => (usable ? [i + 1] : []));
    if (textPages.length > 0) {
      for (const block of await this.#reader.textLayerBlocks(bytes, textPages)) {
        perPage[(block.Page ?? 1) - 1]?.push(block);
      }
    }
    const work: OcrWork[] = [];
    for (let page = 1; page <= info.pages; page++) {
      if (!info.textLayer[page - 1]) work.push({ page });
      // Every uncovered image, whatever its size (ocr.imageTextMinCoverage only decides whether a
      // document needs Textract at all): Textract reads a logo's text as it reads any other.
      else
        for (const region of mergeBoxes(info.uncoveredImages?.[page - 1] ?? [])) work.push({ page, region });
    }
    if (work.length > 0) {
      /** Per work item, in `work`'s order (not the order OCR calls finish in): the output is deterministic. */
      const regionLines: PositionedLine[][] = work.map(() => []);
      const renderer = new PageRenderer(bytes, mediaType);
      try {
        // As many renders in flight as the engine takes: they wait in memory only briefly.
        await forEachLimit([...work.keys()], this.#engine.size, async (i) => {
          const { page, region } = work[i] as OcrWork;
          if (!region) {
            perPage[page - 1] = await this.#engine.readPage(renderer, page - 1);
            return;
          }
          const blocks = await this.#engine.readPage(renderer, page - 1, region);
          const w = region.right - region.left;
          const h = region.bottom - region.top;
          regionLines[i] = positionedLines(blocks, (b) => ({
            left: region.left + b.left * w,
            top: region.top + b.top * h,
            right: region.left + b.right * w,
            bottom: region.top + b.bottom * h,
          }));
        });
      } finally {
        renderer.close();
      }
      // One page, one set of block ids: the text layer's lines, then the images' in region order.
      for (const page of new Set(work.filter((w) => w.region).map((w) => w.page))) {
        const extra = work.flatMap((w, i) => (w.page === page ? (regionLines[i] ?? []) : []));
        if (extra.length === 0) continue;
        perPage[page - 1] = pageBlocks(page, [...positionedLines(perPage[page - 1] ?? []), ...extra]);
      }
    }
    return { blocks: perPage.flat(), pages: info.pages };
  }
}

function statusMessage(error: unknown): string {
  if (error instanceof JobFailure) return error.message;
  if (error instanceof DocumentRejectedError) {
    return `${UNSUPPORTED_FORMAT}: ${error.reasons.map((r) => `${r.code}: ${r.message}`).join('; ')}`;
  }
  return `Internal server error: ${errorMessage(error)}`;
}
