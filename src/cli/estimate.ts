/**
 * What a set of documents would cost before anything is spent: pages, how their text would be read
 * (the PDF's own text layer, free, or Textract), the model requests Assemble would build for them,
 * their tokens and price, and the batch jobs the quotas imply. Reads the documents with mupdf only.
 */
import { readFile } from 'node:fs/promises';
import type { MupdfReader } from '../adapters/documents/mupdf-reader.ts';
import { type Config, defaultQuotas, textractFeaturesFor } from '../config.ts';
import { assemblyQuotas, JobPlanner } from '../core/batch/planner.ts';
import { chunkPages, estimateTokens } from '../core/chunk.ts';
import { checkIntegrity, checkLimits, sniffMediaType } from '../core/documents.ts';
import { familyForModel, type JsonSchema, type ModelFamily } from '../core/families/index.ts';
import { maxTokensFor } from '../core/families/prompt.ts';
import { docIdFromSha256, sha256Hex } from '../core/ids.ts';
import { linearizePages } from '../core/ocr/linearize.ts';
import {
  EXAMPLE_MODEL_IDS,
  type ModelPrice,
  priceFor,
  type TextractFeature,
  type TokenCost,
  textractCost,
  tokenCost,
} from '../core/pricing.ts';
import type { SchemaRegistry } from '../core/validate.ts';
import { DocumentRejectedError, type Reason } from '../errors.ts';
import { textLayerPlan } from '../tasks/ingest.ts';
import type { InputDocument } from './pipeline.ts';

/**
 * Tokens of document text per OCR'd page when nothing better is known: a dense invoice or form
 * page. Text-layer pages of the same type in the same estimate replace it with their own average.
 */
export const DEFAULT_OCR_TOKENS_PER_PAGE = 400;

/**
 * The typical answer: the record's JSON is about this share of the `max_tokens` budget, which is
 * sized generously on purpose (a budget too small truncates the answer and costs a re-drive).
 * On the samples with the offline rules model: 0.36 over all three records (0.08 for a short
 * receipt, 0.56 for an invoice with line items), so it is a figure for many documents, not one.
 */
export const TYPICAL_OUTPUT_SHARE = 0.35;

export interface TokenSplit {
  /** System prompt, tool definition (the type's schema) and the wrapper around the text. */
  prompt: number;
  /** The document's own text (page markers included). */
  content: number;
  total: number;
}

export interface DocumentEstimate {
  source: string;
  type: string;
  docId?: string;
  mediaType?: string;
  pages: number;
  /** Pages whose text layer is complete (usable, and no image on them holds text it lacks). */
  textLayerPages: number;
  ocrPages: number;
  /**
   * 1-based pages whose usable text layer misses text shown in an image (`ocr.imageTextMinCoverage`):
   * Textract pages under "prefer", pages read without their image text under "only".
   */
  imageTextPages?: number[];
  route: 'text-layer' | 'ocr' | 'rejected';
  /** Reasons the document would be refused before anything is spent on it. */
  reasons?: Reason[];
  /** True when the content is an estimate (OCR pages: text unknown until Textract reads it). */
  estimated: boolean;
  chunks: number;
  input: TokenSplit;
  output: { typical: number; max: number };
  textractFeatures: TextractFeature[];
  textractUsd: number;
  /** The request lines Assemble would write, in bytes (sizes jobs against the quotas). */
  recordBytes: number[];
}

export interface JobEstimate {
  job: number;
  records: number;
  bytes: number;
  mode: 'batch' | 'on-demand' | 'deferred';
}

export interface CostLine {
  model: string;
  name: string;
  /** Tokens at the typical output. */
  typical: TokenCost;
  /** Tokens at the output upper bound (`max_tokens` on every record). */
  max: TokenCost;
  /**
   * The cost that applies under the quotas: batch where jobs reach the minimum; below it, on-demand
   * (belowMinimum "on-demand") or batch later (belowMinimum "defer": the records wait for a larger run).
   */
  expected: number;
  belowMinimum: boolean;
  deferred: boolean;
}

export interface Estimate {
  modelId: string;
  family: string;
  pricesDate: string;
  ocrTokensPerPage: { default: number; byType: Record<string, number> };
  documents: DocumentEstimate[];
  totals: {
    documents: number;
    rejected: number;
    pages: number;
    textLayerPages: number;
    ocrPages: number;
    records: number;
    input: TokenSplit;
    output: { typical: number; max: number };
    textractUsd: number;
  };
  jobs: JobEstimate[];
  quotas: { minRecordsPerJob: number; maxRecordsPerJob: number };
  /** The configured model's price, when the table has one. */
  cost?: CostLine;
  /** What the same tokens would cost on real models (shown when the configured one is free or unpriced). */
  comparison: CostLine[];
  warnings: string[];
}

/**
 * What a model reads of a request: the system prompt, the message text and the tool definitions,
 * counted the way the offline model reports usage (real tokenizers differ; see the command's notes).
 */
export function promptText(body: Record<string, unknown>): string {
  const textOf = (content: unknown): string => {
    if (typeof content === 'string') return content;
    if (Array.isArray(content))
      return content
        .map((c) => (c && typeof c === 'object' ? textOf((c as Record<string, unknown>)['text']) : ''))
        .join('');
    return '';
  };
  const messages = Array.isArray(body['messages']) ? (body['messages'] as Record<string, unknown>[]) : [];
  return (
    textOf(body['system']) +
    messages.map((m) => textOf(m['content'])).join('') +
    (body['tools'] === undefined ? '' : JSON.stringify(body['tools']))
  );
}

interface ChunkText {
  index: number;
  count: number;
  pageStart: number;
  pageEnd: number;
  text: string;
  tokens: number;
}

/** The request Assemble would send for one chunk (attempt 1), its tokens split, and its JSONL line size. */
function requestFor(
  family: ModelFamily,
  type: string,
  schema: JsonSchema,
  c: ChunkText,
): { input: TokenSplit; maxTokens: number; bytes: number } {
  const maxTokens = maxTokensFor(schema, c.tokens, 1);
  const build = (text: string) =>
    family.buildRequest({
      type,
      schema,
      text,
      chunk: { index: c.index, count: c.count, pageStart: c.pageStart, pageEnd: c.pageEnd },
      maxTokens,
    });
  const body = build(c.text);
  const total = estimateTokens(promptText(body));
  const prompt = estimateTokens(promptText(build('')));
  const line = `${JSON.stringify({ recordId: 'x'.repeat(11), modelInput: body })}\n`;
  return { input: { prompt, content: total - prompt, total }, maxTokens, bytes: Buffer.byteLength(line) };
}

const add = (a: TokenSplit, b: TokenSplit): TokenSplit => ({
  prompt: a.prompt + b.prompt,
  content: a.content + b.content,
  total: a.total + b.total,
});
const ZERO: TokenSplit = { prompt: 0, content: 0, total: 0 };

function rejectedEstimate(
  input: InputDocument,
  reasons: Reason[],
  extra: Partial<DocumentEstimate> = {},
): DocumentEstimate {
  return {
    source: input.display,
    type: input.type,
    pages: 0,
    textLayerPages: 0,
    ocrPages: 0,
    route: 'rejected',
    reasons,
    estimated: false,
    chunks: 0,
    input: ZERO,
    output: { typical: 0, max: 0 },
    textractFeatures: [],
    textractUsd: 0,
    recordBytes: [],
    ...extra,
  };
}

interface Inspected {
  input: InputDocument;
  estimate?: DocumentEstimate;
  /** For OCR documents: what is needed to estimate once the per-page averages are known. */
  pending?: {
    pages: number;
    textLayerPages: number;
    imageTextPages?: number[];
    docId: string;
    mediaType: string;
  };
}

export interface EstimateOptions {
  config: Config;
  schemas: SchemaRegistry;
  reader: MupdfReader;
  /** Tokens per OCR page instead of the per-type averages and the default. */
  ocrTokensPerPage?: number;
}

/**
 * Estimates every input the way the pipeline would treat it: Register's checks (media type, limits,
 * type, text-layer policy), the text layer linearized and chunked exactly as Chunk does, OCR pages
 * at a per-page average, and Assemble's requests for the configured model family.
 */
export async function estimateDocuments(
  inputs: readonly InputDocument[],
  options: EstimateOptions,
): Promise<Estimate> {
  const { config, schemas, reader } = options;
  const family = familyForModel(config.model.id, config.model.families);
  const inspected: Inspected[] = [];
  const perType = new Map<string, { pages: number; tokens: number }>();

  for (const input of inputs) {
    const bytes = await readFile(input.path);
    const docId = docIdFromSha256(sha256Hex(bytes));
    const reasons: Reason[] = [];
    if (!schemas.has(input.type))
      reasons.push({
        code: 'UNKNOWN_TYPE',
        message: `no schema for document type "${input.type}"; known types: ${schemas.types().join(', ')}`,
      });
    const mediaType = bytes.byteLength === 0 ? undefined : sniffMediaType(bytes);
    if (!mediaType) {
      reasons.push(
        bytes.byteLength === 0
          ? { code: 'EMPTY', message: 'the file is empty (0 bytes)' }
          : { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'the content is not a PDF, PNG, JPEG or TIFF' },
      );
      inspected.push({ input, estimate: rejectedEstimate(input, reasons, { docId }) });
      continue;
    }
    let info: Awaited<ReturnType<MupdfReader['inspect']>>;
    try {
      info = await reader.inspect(bytes, mediaType);
    } catch (error) {
      if (!(error instanceof DocumentRejectedError)) throw error;
      inspected.push({
        input,
        estimate: rejectedEstimate(input, [...reasons, ...error.reasons], { docId, mediaType }),
      });
      continue;
    }
    reasons.push(...checkIntegrity(bytes, mediaType), ...checkLimits(bytes.byteLength, info));
    // Register's own decision, so a mixed page (text in an image) counts as a Textract page here too.
    const plan = textLayerPlan(info, config.ocr);
    reasons.push(...plan.reasons);
    const base = {
      docId,
      mediaType,
      pages: info.pages,
      textLayerPages: plan.textLayerPages,
      ...(plan.imageTextPages.length > 0 ? { imageTextPages: plan.imageTextPages } : {}),
    };
    if (reasons.length > 0) {
      inspected.push({ input, estimate: rejectedEstimate(input, reasons, base) });
      continue;
    }
    if (plan.route === 'ocr') {
      inspected.push({ input, pending: { ...base } });
      continue;
    }

    // The text layer: exactly the text Chunk would stage.
    const blocks = await reader.textLayerBlocks(bytes);
    const pages = linearizePages(blocks).filter((p) => p.text.trim().length > 0);
    const chunks = chunkPages(pages, config.chunk.maxTokens);
    const schema = schemas.schema(input.type);
    let tokens = ZERO;
    let max = 0;
    const recordBytes: number[] = [];
    for (const c of chunks) {
      const r = requestFor(family, input.type, schema, { ...c, count: chunks.length });
      tokens = add(tokens, r.input);
      max += r.maxTokens;
      recordBytes.push(r.bytes);
    }
    const t = perType.get(input.type) ?? { pages: 0, tokens: 0 };
    perType.set(input.type, {
      pages: t.pages + info.pages,
      tokens: t.tokens + chunks.reduce((n, c) => n + c.tokens, 0),
    });
    inspected.push({
      input,
      estimate: {
        source: input.display,
        type: input.type,
        ...base,
        ocrPages: 0,
        route: 'text-layer',
        estimated: false,
        chunks: chunks.length,
        input: tokens,
        output: { typical: Math.ceil(max * TYPICAL_OUTPUT_SHARE), max },
        textractFeatures: [],
        textractUsd: 0,
        recordBytes,
      },
    });
  }

  const byType: Record<string, number> = {};
  for (const [type, t] of perType) byType[type] = Math.round(t.tokens / Math.max(1, t.pages));
  const tokensPerPage = (type: string) =>
    options.ocrTokensPerPage ?? byType[type] ?? DEFAULT_OCR_TOKENS_PER_PAGE;

  const documents: DocumentEstimate[] = [];
  for (const item of inspected) {
    if (item.estimate) {
      documents.push(item.estimate);
      continue;
    }
    const { input } = item;
    const p = item.pending;
    if (!p) continue;
    // OCR pages: placeholder text of the expected length, packed into chunks as Chunk packs pages.
    const perPage = tokensPerPage(input.type);
    const pages = Array.from({ length: p.pages }, (_, i) => ({
      page: i + 1,
      text: 'x'.repeat(Math.max(0, perPage * 4 - `--- page ${i + 1} ---\n`.length)),
    }));
    const chunks = chunkPages(pages, config.chunk.maxTokens);
    const schema = schemas.schema(input.type);
    let tokens = ZERO;
    let max = 0;
    const recordBytes: number[] = [];
    for (const c of chunks) {
      const r = requestFor(family, input.type, schema, { ...c, count: chunks.length });
      tokens = add(tokens, r.input);
      max += r.maxTokens;
      recordBytes.push(r.bytes);
    }
    const features = textractFeaturesFor(config, input.type);
    documents.push({
      source: input.display,
      type: input.type,
      docId: p.docId,
      mediaType: p.mediaType,
      pages: p.pages,
      textLayerPages: p.textLayerPages,
      ...(p.imageTextPages ? { imageTextPages: p.imageTextPages } : {}),
      ocrPages: p.pages,
      route: 'ocr',
      estimated: true,
      chunks: chunks.length,
      input: tokens,
      output: { typical: Math.ceil(max * TYPICAL_OUTPUT_SHARE), max },
      textractFeatures: features,
      textractUsd: textractCost(config.prices.textract, p.pages, features),
      recordBytes,
    });
  }

  // Jobs, exactly as Assemble's planner would cut them under the model's quotas.
  const planner = new JobPlanner(assemblyQuotas(config.quotas));
  for (const d of documents)
    for (const [i, b] of d.recordBytes.entries())
      planner.place(b, i === 0 ? d.recordBytes.length : undefined);
  const min = config.quotas.minRecordsPerJob;
  const jobs: JobEstimate[] = planner.jobs().map((j) => ({
    job: j.job,
    records: j.records,
    bytes: j.bytes,
    mode: j.records >= min ? 'batch' : config.belowMinimum === 'defer' ? 'deferred' : 'on-demand',
  }));

  const sum = (f: (d: DocumentEstimate) => number) => documents.reduce((n, d) => n + f(d), 0);
  const totals: Estimate['totals'] = {
    documents: documents.length,
    rejected: documents.filter((d) => d.route === 'rejected').length,
    pages: sum((d) => d.pages),
    textLayerPages: sum((d) => (d.route === 'text-layer' ? d.pages : 0)),
    ocrPages: sum((d) => d.ocrPages),
    records: sum((d) => d.chunks),
    input: documents.reduce((t, d) => add(t, d.input), ZERO),
    output: { typical: sum((d) => d.output.typical), max: sum((d) => d.output.max) },
    textractUsd: sum((d) => d.textractUsd),
  };

  const onDemandShare = (minimum: number, planned: readonly JobEstimate[]) => {
    const records = planned.reduce((n, j) => n + j.records, 0);
    const below = planned.filter((j) => j.records < minimum).reduce((n, j) => n + j.records, 0);
    return records === 0 ? 0 : below / records;
  };
  const costLine = (modelId: string, price: ModelPrice, minimum: number): CostLine => {
    const typical = tokenCost(price, { input: totals.input.total, output: totals.output.typical });
    const max = tokenCost(price, { input: totals.input.total, output: totals.output.max });
    const plannedJobs = planner.jobs().map((j) => ({ ...j, mode: 'batch' as const }));
    const below = onDemandShare(minimum, plannedJobs);
    const deferred = below > 0 && config.belowMinimum === 'defer';
    const share = deferred ? 0 : below;
    return {
      model: modelId,
      name: price.name,
      typical,
      max,
      expected: typical.batch * (1 - share) + typical.onDemand * share,
      belowMinimum: below > 0,
      deferred,
    };
  };

  const warnings: string[] = [];
  const price = priceFor(config.prices, config.model.id);
  const cost = price ? costLine(config.model.id, price, min) : undefined;
  if (!price)
    warnings.push(
      `no price for model "${config.model.id}" in the price table of ${config.prices.date}; add prices.models[${JSON.stringify(config.model.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))}] = {"inputPerMillion": …, "outputPerMillion": …} to docbatch.config.json`,
    );
  const belowMin = jobs.filter((j) => j.mode !== 'batch');
  if (belowMin.length > 0) {
    const records = belowMin.reduce((n, j) => n + j.records, 0);
    warnings.push(
      config.belowMinimum === 'defer'
        ? `${records} records in ${belowMin.length} job(s) below the minimum of ${min} records per batch job for ${config.model.id}: with belowMinimum "defer" they stay staged until a run has ${min}`
        : `${records} records in ${belowMin.length} job(s) below the minimum of ${min} records per batch job for ${config.model.id}: they would run on-demand at the full price (belowMinimum "on-demand"); set belowMinimum to "defer" to wait for a larger run`,
    );
  }
  // Under "never" every page goes to Textract anyway: nothing to say about images then.
  const mixed = documents.filter((d) => d.route !== 'rejected' && d.imageTextPages);
  if (mixed.length > 0 && config.ocr.textLayer !== 'never') {
    const pages = mixed.reduce((n, d) => n + (d.imageTextPages?.length ?? 0), 0);
    const share = `${Math.round(config.ocr.imageTextMinCoverage * 100)} %`;
    warnings.push(
      config.ocr.textLayer === 'only'
        ? `${pages} page(s) in ${mixed.length} document(s) show text in an image (≥ ${share} of the page, none of it in the text layer): ocr.textLayer "only" reads their text layer and leaves the image text unread`
        : `${pages} page(s) in ${mixed.length} document(s) show text in an image (≥ ${share} of the page, none of it in the text layer): those documents go to Textract, which reads the images too (ocr.imageTextMinCoverage)`,
    );
  }
  if (totals.ocrPages > 0)
    warnings.push(
      `${totals.ocrPages} OCR page(s): their text is unknown until Textract reads it, so their tokens are estimated at ${
        options.ocrTokensPerPage !== undefined
          ? `${options.ocrTokensPerPage} tokens per page (--ocr-tokens-per-page)`
          : 'the text-layer average of the same type in this estimate, else 400 tokens per page'
      }`,
    );

  // A free or unpriced model says nothing about money: show what real models would cost.
  const comparison: CostLine[] = [];
  if (!price || (price.inputPerMillion === 0 && price.outputPerMillion === 0)) {
    for (const [name, modelId] of Object.entries(EXAMPLE_MODEL_IDS)) {
      const p = priceFor(config.prices, modelId);
      if (p) comparison.push(costLine(modelId, { ...p, name }, defaultQuotas(modelId).minRecordsPerJob));
    }
  }

  return {
    modelId: config.model.id,
    family: family.name,
    pricesDate: config.prices.date,
    ocrTokensPerPage: { default: options.ocrTokensPerPage ?? DEFAULT_OCR_TOKENS_PER_PAGE, byType },
    documents,
    totals,
    jobs,
    quotas: { minRecordsPerJob: min, maxRecordsPerJob: config.quotas.maxRecordsPerJob },
    ...(cost ? { cost } : {}),
    comparison,
    warnings,
  };
}
