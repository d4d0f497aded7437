import { chunkPages } from '../core/chunk.ts';
import { checkLimits, sniffMediaType } from '../core/documents.ts';
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
}

/** Names that look like a document but are not one we accept, for a message a person can act on. */
function describeUnknownBytes(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 512)).toString('latin1').trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'an HTML page';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'a ZIP container (an Office document?)';
  if (bytes[0] === 0xd0 && bytes[1] === 0xcf) return 'a legacy Office document';
  if ([...head].every((c) => c === '\t' || c === '\n' || c === '\r' || (c >= ' ' && c <= '~')))
    return 'plain text';
  return 'unrecognised binary data';
}

function rejectedSummary(base: Omit<DocSummary, 'route'>, reasons: Reason[]): DocSummary {
  return { ...base, route: 'rejected', reasons };
}

/**
 * Register: hash, sniff and inspect the upload before anything is spent on it, record it under
 * `documents/`, and choose the route. Re-delivered events and re-uploads of the same bytes end
 * here as duplicates.
 */
export async function register(
  input: { bucket: string; key: string },
  ctx: TaskContext,
): Promise<DocSummary> {
  const { key } = input;
  const bytes = await ctx.store.get(key);
  const sha256 = sha256Hex(bytes);
  const docId = docIdFromSha256(sha256);
  const type = typeFromIncomingKey(key) ?? '';
  const base = { docId, type, bucket: input.bucket, source: { key, sha256 } };
  const now = ctx.clock.now().toISOString();

  const existing = await ctx.store.head(keys.document(docId));
  if (existing) {
    const doc = await readJson<DocumentRecord>(ctx, keys.document(docId));
    if (!doc.sources.includes(key)) {
      doc.sources.push(key);
      doc.updatedAt = now;
      await ctx.store.put(keys.document(docId), json(doc));
    }
    // A document still 'registered' never got past ingest (a crash, a failed OCR retry): carry on.
    if (doc.status !== 'registered')
      return { ...base, type: doc.type, source: doc.source, route: 'duplicate' };
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
  if (bytes.byteLength === 0) {
    reasons.push({ code: 'EMPTY', message: 'the file is empty (0 bytes)' });
    return rejectedSummary(base, reasons);
  }
  const mediaType = sniffMediaType(bytes);
  if (!mediaType) {
    reasons.push({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: `the content is ${describeUnknownBytes(bytes)}, not a PDF, PNG, JPEG or TIFF`,
    });
    return rejectedSummary(base, reasons);
  }
  let info: Awaited<ReturnType<TaskContext['reader']['inspect']>>;
  try {
    info = await ctx.reader.inspect(bytes, mediaType);
  } catch (error) {
    if (error instanceof DocumentRejectedError)
      return rejectedSummary({ ...base, mediaType }, [...reasons, ...error.reasons]);
    throw error;
  }
  reasons.push(...checkLimits(bytes.byteLength, info));
  const textPages = info.textLayer.filter(Boolean).length;
  const allText = mediaType === 'application/pdf' && info.pages > 0 && textPages === info.pages;
  const mode = ctx.config.ocr.textLayer;
  if (mode === 'only' && !allText) {
    reasons.push({
      code: 'NO_TEXT_LAYER',
      message: `ocr.textLayer is "only" but ${info.pages - textPages} of ${info.pages} pages have no usable text layer`,
    });
  }
  const summary = { ...base, mediaType, pages: info.pages };
  if (reasons.length > 0) return rejectedSummary(summary, reasons);

  const doc: DocumentRecord = {
    docId,
    type,
    source: base.source,
    sources: [key],
    size: bytes.byteLength,
    mediaType,
    pages: info.pages,
    textLayerPages: textPages,
    status: 'registered',
    registeredAt: now,
    updatedAt: now,
  };
  if (!existing) {
    try {
      await ctx.store.put(keys.document(docId), json(doc), { ifNoneMatch: true });
    } catch (error) {
      // Another execution registered the same bytes a moment ago: it owns the document.
      if (error instanceof AlreadyExistsError) return { ...summary, route: 'duplicate' };
      throw error;
    }
  }
  return { ...summary, route: allText && mode !== 'never' ? 'text-layer' : 'ocr' };
}

/** Writes blocks in Textract's OutputConfig layout so the Chunk task reads one format whatever produced it. */
export async function writeOcrOutput(
  ctx: TaskContext,
  docId: string,
  jobId: string,
  blocks: Block[],
  pages: number,
): Promise<void> {
  const prefix = keys.ocrJobPrefix(docId, jobId);
  const responses = paginateBlocks(blocks, pages, {
    JobStatus: 'SUCCEEDED',
    DetectDocumentTextModelVersion: 'text-layer',
  });
  for (const [i, response] of responses.entries())
    await ctx.store.put(`${prefix}${i + 1}`, JSON.stringify(response));
  await ctx.store.put(`${prefix}.s3_access_check`, '');
}

export const TEXT_LAYER_JOB_ID = 'text-layer';

/** ExtractTextLayer: a digital PDF's own text, as Textract-shaped pages, at no OCR cost. */
export async function extractTextLayer(
  input: DocSummary,
  ctx: TaskContext,
): Promise<{ JobId: string; Pages: number }> {
  const bytes = await ctx.store.get(input.source.key);
  const blocks = await ctx.reader.textLayerBlocks(bytes);
  const pages = input.pages ?? Math.max(1, ...blocks.map((b) => b.Page ?? 1));
  await writeOcrOutput(ctx, input.docId, TEXT_LAYER_JOB_ID, blocks, pages);
  return { JobId: TEXT_LAYER_JOB_ID, Pages: pages };
}

/** Reads `<prefix>1`, `<prefix>2`, … in numeric order (not lexicographic: 10 comes after 9). */
export async function readOcrOutput(ctx: TaskContext, prefix: string): Promise<Block[]> {
  const numbered: { n: number; key: string }[] = [];
  for await (const obj of ctx.store.list(prefix)) {
    const name = obj.key.slice(prefix.length);
    if (/^\d+$/.test(name)) numbered.push({ n: Number(name), key: obj.key });
  }
  numbered.sort((a, b) => a.n - b.n);
  const blocks: Block[] = [];
  for (const { key } of numbered) {
    const page = JSON.parse(await ctx.store.getText(key)) as TextractGetResponse;
    for (const b of page.Blocks ?? []) blocks.push(b);
  }
  return blocks;
}

/** Chunk: OCR output → text in reading order → chunks under the token budget → `staged/<docId>.jsonl`. */
export async function chunk(
  input: DocSummary & { ocr: { JobId: string } },
  ctx: TaskContext,
): Promise<{ docId: string; chunks: number; tokens: number }> {
  const blocks = await readOcrOutput(ctx, keys.ocrJobPrefix(input.docId, input.ocr.JobId));
  const pages = linearizePages(blocks).filter((p) => p.text.trim().length > 0);
  if (pages.length === 0) {
    throw new DocumentRejectedError([{ code: 'NO_TEXT', message: 'OCR found no text in the document' }]);
  }
  const chunks = chunkPages(pages, ctx.config.chunk.maxTokens);
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
  await updateDocument(ctx, input.docId, { status: 'staged' });
  return { docId: input.docId, chunks: chunks.length, tokens: chunks.reduce((n, c) => n + c.tokens, 0) };
}

export async function updateDocument(
  ctx: TaskContext,
  docId: string,
  patch: Partial<DocumentRecord>,
): Promise<void> {
  try {
    const doc = await readJson<DocumentRecord>(ctx, keys.document(docId));
    await ctx.store.put(
      keys.document(docId),
      json({ ...doc, ...patch, updatedAt: ctx.clock.now().toISOString() }),
    );
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
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
  if (!sha256) {
    try {
      sha256 = sha256Hex(await ctx.store.get(key));
    } catch {
      // unreadable or missing object: trace it by its key instead
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
  const rejection: RejectedRecord = {
    docId,
    type,
    source: { key, sha256 },
    sources: [key],
    stage: 'ingest',
    reasons,
  };
  try {
    await ctx.store.put(keys.rejected(docId), json(rejection), { ifNoneMatch: true });
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
  const now = ctx.clock.now().toISOString();
  if (await ctx.store.head(keys.document(docId))) await updateDocument(ctx, docId, { status: 'rejected' });
  else {
    const doc: DocumentRecord = {
      docId,
      type,
      source: { key, sha256 },
      sources: [key],
      size: 0,
      status: 'rejected',
      registeredAt: now,
      updatedAt: now,
    };
    await ctx.store.put(keys.document(docId), json(doc));
  }
  return { docId, reasons };
}
