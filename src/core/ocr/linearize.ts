/**
 * Textract responses → the text an LLM reads: pages in reading order (LAYOUT blocks when
 * present, else geometry with column detection), tables as Markdown, key-values as
 * `key: value`, checkboxes as `[x]` / `[ ]`. Every WORD of the response is printed exactly once
 * (table cells and merged cells may repeat a word by design, never drop one).
 *
 * AnalyzeExpense and AnalyzeID responses are read through their documents' Blocks (the page's
 * LINE/WORD text); their SummaryFields, LineItemGroups and IdentityDocumentFields are not
 * rendered: the LLM sees the page text and extracts the fields itself. An expense response
 * that carries only those fields and no Blocks (older API versions) therefore yields no text.
 */
import { isObject, relatedIds, str, textOf, typeOf } from './block-index.ts';
import { type LinearizeOptions, type PageText, renderPages } from './render.ts';
import type { Block, TextractGetResponse } from './textract.ts';

export type { LinearizeOptions, PageText } from './render.ts';

/** AnalyzeExpense / GetExpenseAnalysis and AnalyzeID responses: blocks live inside each document. */
export interface TextractDocumentsResponse {
  ExpenseDocuments?: { Blocks?: Block[] }[];
  IdentityDocuments?: { Blocks?: Block[] }[];
}

export type TextractInput =
  | TextractGetResponse
  | TextractDocumentsResponse
  | readonly (TextractGetResponse | TextractDocumentsResponse)[]
  | readonly Block[];

function pushBlocks(list: unknown, out: unknown[]): void {
  if (!Array.isArray(list)) return;
  for (const b of list as unknown[]) if (isObject(b)) out.push(b);
}

function collectResponse(r: Record<string, unknown>, out: unknown[]): void {
  pushBlocks(r['Blocks'], out);
  for (const key of ['ExpenseDocuments', 'IdentityDocuments']) {
    const docs = r[key];
    if (!Array.isArray(docs)) continue;
    for (const doc of docs as unknown[]) if (isObject(doc)) pushBlocks(doc['Blocks'], out);
  }
}

/**
 * Accepts one Get/Analyze response, a list of Get pages (async output, in order), a merged
 * object, AnalyzeExpense/AnalyzeID responses, or a bare block list. Blocks repeated under the
 * same Id (overlapping pages or documents) are kept once. Responses without blocks
 * (IN_PROGRESS, FAILED) yield none.
 */
export function collectBlocks(input: TextractInput): Block[] {
  const raw: unknown[] = [];
  const value: unknown = input;
  if (Array.isArray(value)) {
    for (const el of value as unknown[]) {
      if (!isObject(el)) continue;
      if ('BlockType' in el) raw.push(el);
      else collectResponse(el, raw);
    }
  } else if (isObject(value)) {
    collectResponse(value, raw);
  }
  const seen = new Set<string>();
  const out: Block[] = [];
  for (const b of raw as Block[]) {
    const id = str(b.Id);
    if (id !== undefined) {
      if (seen.has(id)) continue;
      seen.add(id);
    }
    out.push(b);
  }
  return out;
}

/**
 * Blocks → text per page, in reading order, without page markers; pages ascending, only those
 * with text. Never throws: should the structured rendering fail on input nobody foresaw, the
 * pages fall back to their lines in response order, so the document still gets its text.
 */
export function linearizePages(blocks: readonly Block[], options: LinearizeOptions = {}): PageText[] {
  try {
    return renderPages(blocks, options);
  } catch {
    return fallbackPages(blocks);
  }
}

/** Pages joined as `--- page N ---\n<text>`, separated by a newline. */
export function linearize(blocks: readonly Block[], options: LinearizeOptions = {}): string {
  return linearizePages(blocks, options)
    .map((p) => `--- page ${p.page} ---\n${p.text}`)
    .join('\n');
}

export function linearizeResponsePages(input: TextractInput, options: LinearizeOptions = {}): PageText[] {
  return linearizePages(collectBlocks(input), options);
}

export function linearizeResponse(input: TextractInput, options: LinearizeOptions = {}): string {
  return linearize(collectBlocks(input), options);
}

function fallbackPages(blocks: readonly unknown[]): PageText[] {
  const byPage = new Map<number, string[]>();
  for (const b of blocks) {
    if (!isObject(b)) continue;
    const block = b as Block;
    // WORDs, and the LINEs that list none: nothing to resolve, and every word gets printed.
    const type = typeOf(block);
    if (type !== 'WORD' && !(type === 'LINE' && relatedIds(block, 'CHILD').length === 0)) continue;
    const text = textOf(block);
    if (text === undefined) continue;
    const page =
      typeof block.Page === 'number' && Number.isInteger(block.Page) && block.Page >= 1 ? block.Page : 1;
    const list = byPage.get(page);
    if (list) list.push(text);
    else byPage.set(page, [text]);
  }
  return [...byPage.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([page, words]) => ({ page, text: words.join(' ') }));
}
