import { type Config, textractFeaturesFor } from '../config.ts';
import { chunkPages } from '../core/chunk.ts';
import {
  checkIntegrity,
  checkLimits,
  type DocumentInfo,
  describeContent,
  imageTextPages,
  sniffMediaType,
  TEXTRACT_LIMITS,
} from '../core/documents.ts';
import { docIdFromSha256, sha256Hex } from '../core/ids.ts';
import { keys, typeFromIncomingKey } from '../core/keys.ts';
import { linearizePages } from '../core/ocr/linearize.ts';
import { type Block, paginateBlocks, type TextractGetResponse } from '../core/ocr/textract.ts';
import type { DocumentRecord, RejectedRecord, Source, StagedChunk } from '../core/outcomes.ts';
import { AlreadyExistsError, DocumentRejectedError, NotFoundError, type Reason } from '../errors.ts';
import { json, readJson, type TaskContext } from './context.ts';

export type Route = 'text-layer' | 'ocr' | 'duplicate' | 'rejected';

/** The compact document summary that travels through the ingest state machine. */
export interface DocSummary {
  docId: string;
  type: string;
  bucket: string;
  source: Source;
  mediaType?: string;
  pages?: number;
  route: Route;
  reasons?: Reason[];
  /** Textract AnalyzeDocument features for this type (config `ocr.textractFeatures`); none → text detection. */
  features?: string[];
  /**
   * Route text-layer under `ocr.textLayer` "only": the 1-based pages whose images hold text the
   * text layer lacks, read without it (ExtractTextLayer records them as a warning).
   */
  imageTextPages?: number[];
}

/** How a document's text would be read, decided from what the reader found and the `ocr` config. */
export interface TextLayerPlan {
  route: 'text-layer' | 'ocr';
  /** Pages whose own text can stand in for OCR: usable, and no image on them holds text it lacks. */
  textLayerPages: number;
  /** Pages with a usable text layer, complete or not. */
  usablePages: number;
  /** 1-based pages with a usable text layer that misses text shown in an image ("mixed" pages). */
  imageTextPages: number[];
  /** NO_TEXT_LAYER under "only" when some page has no usable text layer at all. */
  reasons: Reason[];
}

/**
 * The text-layer decision Register makes (and `docbatch estimate` repeats). "prefer" reads a PDF
 * from its text layer only when every page's text layer is complete: one scanned or mixed page
 * and Textract reads the whole document, as it would the image's text. "only" never pays for
 * Textract: it rejects a document with a page lacking a usable text layer, and reads a mixed page
 * from its text layer, its image text skipped (reported in `imageTextPages`). "never" always OCRs.
 */
export function textLayerPlan(info: DocumentInfo, ocr: Config['ocr']): TextLayerPlan {
  const pdf = info.mediaType === 'application/pdf' && info.pages > 0;
  const usablePages = pdf ? info.textLayer.filter(Boolean).length : 0;
  const mixed = pdf ? imageTextPages(info, ocr.imageTextMinCoverage) : [];
  const textLayerPages = usablePages - mixed.length;
  const reasons: Reason[] = [];
  if (ocr.textLayer === 'only' && usablePages < info.pages) {
    reasons.push({
      code: 'NO_TEXT_LAYER',
      message: `ocr.textLayer is "only" but ${info.pages - usablePages} of ${info.pages} pages have no usable text layer`,
    });
  }
  const route =
    ocr.textLayer === 'only' || (ocr.textLayer === 'prefer' && pdf && textLayerPages === info.pages)
      ? 'text-layer'
      : 'ocr';
  return { route, textLayerPages, usablePages, imageTextPages: mixed, reasons };
}

function rejectedSummary(base: Omit<DocSummary, 'route'>, reasons: Reason[]): DocSummary {
  return { ...base, route: 'rejected', reasons };
}

/** Reads `documents/<docId>.json`, or `undefined` when the document was never registered. */
async function readDocument(ctx: TaskContext, docId: string): Promise<DocumentRecord | undefined> {
  try {
    return await readJson<DocumentRecord>(ctx, keys.document(docId));
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/**
 * A document needs no more ingest when it is staged or its outcome object exists. A status of
 * result/rejected without its object means a writer died between the two writes: not settled.
 */
async function isSettled(ctx: TaskContext, doc: DocumentRecord): Promise<boolean> {
  if (doc.status === 'staged') return true;
  const outcome = outcomeKey(doc);
  return outcome !== undefined && (await ctx.store.head(outcome)) !== undefined;
}

/** The outcome object of a document that has one, by its status. */
function outcomeKey(doc: DocumentRecord): string | undefined {
  if (doc.status === 'result') return keys.result(doc.type, doc.docId);
  if (doc.status === 'rejected') return keys.rejected(doc.docId);
  return undefined;
}

const union = (a: readonly string[], b: readonly string[]) => [...a, ...b.filter((k) => !a.includes(k))];

/**
 * Adds keys to the `sources` of an outcome already written (`results/…` or `rejected/…`), so the
 * outcome lists every key its bytes arrived under, including one that arrived after it was
 * written. Writes nothing when every key is there already; returns whether it wrote.
 */
export async function addSourcesToOutcome(
  ctx: TaskContext,
  key: string,
  sources: readonly string[],
): Promise<boolean> {
  let outcome: { sources?: string[] };
  try {
    outcome = await readJson<{ sources?: string[] }>(ctx, key);
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
  const merged = union(outcome.sources ?? [], sources);
  if (merged.length === (outcome.sources ?? []).length) return false;
  await ctx.store.put(key, json({ ...outcome, sources: merged }));
  return true;
}

/**
 * Records that `key` carries the bytes of an already registered document: in
 * `documents/<docId>.json` and, when the document has its outcome, in the outcome too. A key
 * already listed costs reads only (a re-delivered event or a re-upload writes nothing).
 */
async function addSource(ctx: TaskContext, docId: string, key: string): Promise<DocumentRecord | undefined> {
  const doc = await updateDocument(ctx, docId, {}, [key]);
  const outcome = doc && outcomeKey(doc);
  if (doc && outcome) await addSourcesToOutcome(ctx, outcome, doc.sources);
  return doc;
}

/**
 * Register: hash, sniff and inspect the upload before anything is spent on it, record it under
 * `documents/`, and choose the route. Re-delivered events and re-uploads of the same bytes end
 * here as duplicates (their key added to the document's sources).
 */
export async function register(
  input: { bucket: string; key: string },
  ctx: TaskContext,
): Promise<DocSummary> {
  const { key } = input;
  const type = typeFromIncomingKey(key) ?? '';

  // An object beyond the largest size Textract takes is refused from its size alone: hashing a
  // multi-gigabyte upload would only exhaust the function's memory. Its id comes from its key.
  const object = await ctx.store.head(key);
  const oversized = object !== undefined && object.size > TEXTRACT_LIMITS.maxPdfTiffBytes;
  const bytes = oversized ? new Uint8Array() : await ctx.store.get(key);
  const sha256 = oversized ? '' : sha256Hex(bytes);
  const docId = docIdFromSha256(oversized ? sha256Hex(`key:${key}`) : sha256);
  let base = { docId, type, bucket: input.bucket, source: { key, sha256 } };

  const existing = await readDocument(ctx, docId);
  if (existing) {
    const doc = (await addSource(ctx, docId, key)) ?? existing;
    if (await isSettled(ctx, doc)) return { ...base, type: doc.type, source: doc.source, route: 'duplicate' };
    // Not settled: another execution for these bytes is under way, or one died mid-way (a crash,
    // a failed OCR retry). Carry on as the document's first upload, so every later step sends
    // the same request (Textract's ClientRequestToken = docId must come with the same object, or
    // Textract refuses it) and converges on the same job and staged text.
    base = { ...base, type: doc.type, source: doc.source };
  }

  const reasons: Reason[] = [];
  if (!type)
    reasons.push({
      code: 'BAD_KEY',
      message: `uploads belong under incoming/<type>/<name>; received "${key}"`,
    });
  else if (!ctx.schemas.has(type)) {
    reasons.push({
      code: 'UNKNOWN_TYPE',
      message: `no schema for document type "${type}"; known types: ${ctx.schemas.types().join(', ')}`,
    });
  }
  if (oversized) {
    reasons.push({
      code: 'TOO_LARGE',
      message: `${object?.size} bytes exceeds the ${TEXTRACT_LIMITS.maxPdfTiffBytes}-byte limit of any accepted document type; it was not read`,
    });
    return rejectedSummary(base, reasons);
  }
  if (bytes.byteLength === 0) {
    reasons.push({ code: 'EMPTY', message: 'the file is empty (0 bytes)' });
    return rejectedSummary(base, reasons);
  }
  const mediaType = sniffMediaType(bytes);
  if (!mediaType) {
    reasons.push({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: `the content is ${describeContent(bytes)}, not a PDF, PNG, JPEG or TIFF`,
    });
    return rejectedSummary(base, reasons);
  }
  let info: Awaited<ReturnType<TaskContext['reader']['inspect']>>;
  try {
    info = await ctx.reader.inspect(bytes, mediaType);
  } catch (error) {
    if (error instanceof DocumentRejectedError)
      return rejectedSummary({ ...base, mediaType }, [
        ...reasons,
        ...error.reasons,
        ...checkIntegrity(bytes, mediaType),
      ]);
    throw error;
  }
  reasons.push(...checkIntegrity(bytes, mediaType), ...checkLimits(bytes.byteLength, info));
  const plan = textLayerPlan(info, ctx.config.ocr);
  reasons.push(...plan.reasons);
  const summary = { ...base, mediaType, pages: info.pages };
  if (reasons.length > 0) return rejectedSummary(summary, reasons);

  if (!existing) {
    const now = ctx.clock.now().toISOString();
    const doc: DocumentRecord = {
      docId,
      type,
      source: base.source,
      sources: [key],
      size: bytes.byteLength,
      mediaType,
      pages: info.pages,
      // Complete pages only: a mixed page's text layer cannot stand in for OCR (the report and
      // `docbatch status` count a document whose every page is complete as read from its text).
      textLayerPages: plan.textLayerPages,
      status: 'registered',
      registeredAt: now,
      updatedAt: now,
    };
    try {
      await ctx.store.put(keys.document(docId), json(doc), { ifNoneMatch: true });
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      // Another execution registered the same bytes a moment ago (the same event delivered twice,
      // or the same file under another name): it owns the document; this key joins its sources.
      const winner = await addSource(ctx, docId, key);
      return {
        ...summary,
        ...(winner ? { type: winner.type, source: winner.source } : {}),
        route: 'duplicate',
      };
    }
  }
  if (plan.route === 'text-layer') {
    if (plan.imageTextPages.length === 0) return { ...summary, route: 'text-layer' };
    ctx.log.warn('image text skipped: ocr.textLayer is "only"', {
      docId,
      pages: plan.imageTextPages.length,
    });
    return { ...summary, route: 'text-layer', imageTextPages: plan.imageTextPages };
  }
  return { ...summary, route: 'ocr', features: textractFeaturesFor(ctx.config, base.type) };
}

/** Writes blocks in Textract's OutputConfig layout so the Chunk task reads one format whatever produced it. */
export async function writeOcrOutput(
  ctx: TaskContext,
  docId: string,
  jobId: string,
  blocks: Block[],
  pages: number,
  warnings: NonNullable<TextractGetResponse['Warnings']> = [],
): Promise<void> {
  const prefix = keys.ocrJobPrefix(docId, jobId);
  const responses = paginateBlocks(blocks, pages, {
    JobStatus: 'SUCCEEDED',
    DetectDocumentTextModelVersion: 'text-layer',
    // As Textract does, every output page repeats the job's warnings.
    ...(warnings.length > 0 ? { Warnings: warnings } : {}),
  });
  for (const [i, response] of responses.entries())
    await ctx.store.put(`${prefix}${i + 1}`, JSON.stringify(response));
  await ctx.store.put(`${prefix}.s3_access_check`, '');
}

export const TEXT_LAYER_JOB_ID = 'text-layer';

/**
 * The warning on a text-layer read that left text in images unread (`ocr.textLayer` "only"); Chunk
 * records it on the document as `ocrWarnings`, as it records Textract's own warnings.
 */
export const IMAGE_TEXT_SKIPPED = 'IMAGE_TEXT_SKIPPED';

/** ExtractTextLayer: a digital PDF's own text, as Textract-shaped pages, at no OCR cost. */
export async function extractTextLayer(
  input: DocSummary,
  ctx: TaskContext,
): Promise<{ JobId: string; Pages: number }> {
  const bytes = await ctx.store.get(input.source.key);
  const blocks = await ctx.reader.textLayerBlocks(bytes);
  const pages = input.pages ?? Math.max(1, ...blocks.map((b) => b.Page ?? 1));
  const skipped = input.imageTextPages ?? [];
  await writeOcrOutput(
    ctx,
    input.docId,
    TEXT_LAYER_JOB_ID,
    blocks,
    pages,
    skipped.length > 0 ? [{ ErrorCode: IMAGE_TEXT_SKIPPED, Pages: skipped }] : [],
  );
  return { JobId: TEXT_LAYER_JOB_ID, Pages: pages };
}

/** Reads `<prefix>1`, `<prefix>2`, … in numeric order (not lexicographic: 10 comes after 9). */
export async function readOcrOutput(ctx: TaskContext, prefix: string): Promise<Block[]> {
  return (await readOcrJob(ctx, prefix)).blocks;
}

export interface OcrWarning {
  code: string;
  pages: number[];
}

/**
 * The job's blocks, and what Textract said about them: a PARTIAL_SUCCESS job names the pages it
 * could not read in `Warnings`, which each output page repeats; they are kept once per code.
 */
export async function readOcrJob(
  ctx: TaskContext,
  prefix: string,
): Promise<{ blocks: Block[]; status?: string; warnings: OcrWarning[] }> {
  const numbered: { n: number; key: string }[] = [];
  for await (const obj of ctx.store.list(prefix)) {
    const name = obj.key.slice(prefix.length);
    if (/^\d+$/.test(name)) numbered.push({ n: Number(name), key: obj.key });
  }
  numbered.sort((a, b) => a.n - b.n);
  const blocks: Block[] = [];
  const warnings = new Map<string, Set<number>>();
  let status: string | undefined;
  for (const { key } of numbered) {
    const page = JSON.parse(await ctx.store.getText(key)) as TextractGetResponse;
    status = page.JobStatus ?? status;
    for (const w of page.Warnings ?? []) {
      const code = w.ErrorCode ?? 'WARNING';
      const seen = warnings.get(code) ?? new Set<number>();
      for (const p of w.Pages ?? []) seen.add(p);
      warnings.set(code, seen);
    }
    for (const b of page.Blocks ?? []) blocks.push(b);
  }
  return {
    blocks,
    ...(status ? { status } : {}),
    warnings: [...warnings].map(([code, pages]) => ({ code, pages: [...pages].sort((a, b) => a - b) })),
  };
}

/** Chunk: OCR output → text in reading order → chunks under the token budget → `staged/<docId>.jsonl`. */
export async function chunk(
  input: DocSummary & { ocr: { JobId: string } },
  ctx: TaskContext,
): Promise<{ docId: string; chunks: number; tokens: number }> {
  const {
    blocks,
    status: ocrStatus,
    warnings,
  } = await readOcrJob(ctx, keys.ocrJobPrefix(input.docId, input.ocr.JobId));
  const pages = linearizePages(blocks).filter((p) => p.text.trim().length > 0);
  if (pages.length === 0) {
    throw new DocumentRejectedError([{ code: 'NO_TEXT', message: 'OCR found no text in the document' }]);
  }
  const chunks = chunkPages(pages, ctx.config.chunk.maxTokens);
  const tokens = chunks.reduce((n, c) => n + c.tokens, 0);
  const doc = await readDocument(ctx, input.docId);
  if (doc && doc.status !== 'registered') {
    // Another execution for the same bytes (an event delivered twice) staged the document first,
    // and a batch may already have taken it: staging it again would submit it twice.
    return { docId: input.docId, chunks: chunks.length, tokens };
  }
  const lines = chunks.map((c) => {
    const staged: StagedChunk = {
      docId: input.docId,
      type: input.type,
      source: input.source,
      chunk: c.index,
      chunks: chunks.length,
      pageStart: c.pageStart,
      pageEnd: c.pageEnd,
      tokens: c.tokens,
      text: c.text,
    };
    return JSON.stringify(staged);
  });
  await ctx.store.put(keys.staged(input.docId), `${lines.join('\n')}\n`);
  await updateDocument(ctx, input.docId, {
    status: 'staged',
    ...(ocrStatus ? { ocrStatus } : {}),
    ...(warnings.length > 0 ? { ocrWarnings: warnings } : {}),
  });
  return { docId: input.docId, chunks: chunks.length, tokens };
}

/**
 * Applies `patch` to `documents/<docId>.json` and adds `addSources` to its sources; returns the
 * record as written, or `undefined` when the document was never registered. Writes nothing when
 * nothing changes, so a repeated step leaves the object (and its timestamp) alone.
 *
 * A read-modify-write: two writers racing on one document can lose an update. The writers are few
 * (Register adding a key, each stage setting the status) and mostly ordered by the state machines;
 * the outcome files re-check `sources` after writing (see `addSourcesToOutcome`).
 */
export async function updateDocument(
  ctx: TaskContext,
  docId: string,
  patch: Partial<DocumentRecord>,
  addSources: readonly string[] = [],
): Promise<DocumentRecord | undefined> {
  const doc = await readDocument(ctx, docId);
  if (!doc) return undefined;
  const sources = union(doc.sources, addSources);
  const changed =
    sources.length !== doc.sources.length ||
    Object.entries(patch).some(([k, v]) => (doc as unknown as Record<string, unknown>)[k] !== v);
  if (!changed) return doc;
  const updated: DocumentRecord = { ...doc, ...patch, sources, updatedAt: ctx.clock.now().toISOString() };
  await ctx.store.put(keys.document(docId), json(updated));
  return updated;
}

interface QuarantineInput extends Partial<DocSummary> {
  detail?: { bucket?: { name?: string }; object?: { key?: string } };
  error?: { Error?: string; Cause?: unknown };
  textract?: { JobStatus?: string; Response?: TextractGetResponse };
}

/** A caught error's Cause, readable: Lambda wraps the message in a JSON envelope. */
function causeText(cause: unknown): string {
  if (typeof cause !== 'string') return JSON.stringify(cause ?? '');
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not a Lambda envelope: the text is the message
  }
  return cause;
}

/**
 * Quarantine: the one exit for a document ingest cannot finish. Whatever stage failed, the upload
 * ends as `rejected/<docId>.json` with machine-readable reasons, traceable to its bytes.
 */
export async function quarantine(
  input: QuarantineInput,
  ctx: TaskContext,
): Promise<{ docId: string; reasons: Reason[] }> {
  const key = input.source?.key ?? input.detail?.object?.key ?? '';
  let sha256 = input.source?.sha256;
  if (sha256 === undefined) {
    try {
      sha256 = sha256Hex(await ctx.store.get(key));
    } catch {
      // unreadable or missing object, or a key the store refuses: trace it by its key instead
      sha256 = '';
    }
  }
  const docId = input.docId ?? docIdFromSha256(sha256 || sha256Hex(`key:${key}`));
  const reasons: Reason[] = [...(input.reasons ?? [])];
  if (input.textract?.JobStatus === 'FAILED') {
    reasons.push({
      code: 'TEXTRACT_FAILED',
      message: input.textract.Response?.StatusMessage ?? 'Textract reported the job FAILED',
    });
  }
  if (input.error) {
    const code = input.error.Error ?? 'Error';
    const message = causeText(input.error.Cause);
    if (code === 'DocumentRejected' && message) {
      for (const part of message.split('; ')) {
        const i = part.indexOf(': ');
        reasons.push(
          i > 0 ? { code: part.slice(0, i), message: part.slice(i + 2) } : { code, message: part },
        );
      }
    } else {
      reasons.push({ code, message: message || `${code} was raised` });
    }
  }
  if (reasons.length === 0) reasons.push({ code: 'UNKNOWN', message: 'ingest ended without a reason' });
  const type = input.type || typeFromIncomingKey(key) || '';
  const source = { key, sha256 };
  const now = ctx.clock.now().toISOString();

  const registered = await readDocument(ctx, docId);
  if (registered && (registered.status === 'staged' || registered.status === 'result')) {
    // Another execution for the same bytes got the document further (an event delivered twice
    // whose copies ended differently): it keeps its one outcome, and this failure adds none.
    await addSource(ctx, docId, key);
    return { docId, reasons };
  }
  // The document record first, so that a second name for the same bytes quarantined at the same
  // moment finds it and joins its sources instead of writing its own.
  let doc = await updateDocument(ctx, docId, { status: 'rejected' }, [key]);
  if (!doc) {
    const fresh: DocumentRecord = {
      docId,
      type,
      source,
      sources: [key],
      size: 0,
      status: 'rejected',
      registeredAt: now,
      updatedAt: now,
    };
    try {
      await ctx.store.put(keys.document(docId), json(fresh), { ifNoneMatch: true });
      doc = fresh;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      doc = (await updateDocument(ctx, docId, { status: 'rejected' }, [key])) ?? fresh;
    }
  }
  const rejection: RejectedRecord = {
    docId,
    type,
    source,
    sources: union([key], doc.sources),
    stage: 'ingest',
    reasons,
  };
  try {
    await ctx.store.put(keys.rejected(docId), json(rejection), { ifNoneMatch: true });
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    // Rejected already (an event delivered twice, or the same bytes under another name).
    await addSourcesToOutcome(ctx, keys.rejected(docId), rejection.sources);
  }
  return { docId, reasons };
}
