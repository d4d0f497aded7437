/**
 * Line-item tables for the offline rules model: Markdown tables (how the linearizer renders
 * detected tables) and plain lines ending in amounts under a column header, read down to the
 * first subtotal/total line.
 */

import type { Doc } from './rules-layout.ts';
import { markdownCells } from './rules-layout.ts';
import { type AmountToken, findAmounts, labelPattern, labelWords } from './rules-parse.ts';

export type ColumnRole = 'text' | 'quantity' | 'price' | 'amount' | 'number';

/** One property of the item schema, as the table reader needs it. */
export interface ColumnSpec {
  key: string;
  role: ColumnRole;
  integer: boolean;
  labels: string[];
}

// Column words every table uses for the same thing, whatever the schema calls the property.
const ROLE_WORDS: Record<Exclude<ColumnRole, 'number'>, string[]> = {
  text: [
    'description',
    'desc',
    'item',
    'items',
    'product',
    'service',
    'details',
    'particulars',
    'article',
    'designation',
  ],
  quantity: ['quantity', 'qty', 'qté', 'menge', 'units', 'hours', 'hrs', 'pcs'],
  price: ['unit price', 'price', 'rate', 'unit cost', 'u/p', 'u price', 's/price', 'each', 'rsp', 'unit'],
  amount: ['amount', 'amt', 'line total', 'total', 'sum', 'betrag', 'montant'],
};

/** Which column word family a property belongs to, from its name, title and labels. */
export function columnRole(name: string, numeric: boolean, labels: readonly string[]): ColumnRole {
  const words = new Set([...labelWords(name), ...labels.flatMap((l) => labelWords(l))]);
  if (!numeric) return 'text';
  if (words.has('quantity') || words.has('qty') || words.has('count')) return 'quantity';
  if (words.has('price') || words.has('rate') || words.has('cost')) return 'price';
  if (words.has('amount') || words.has('total') || words.has('sum')) return 'amount';
  return 'number';
}

function columnLabels(col: ColumnSpec): string[] {
  const extra = col.role === 'number' ? [] : ROLE_WORDS[col.role];
  return [...col.labels, ...extra];
}

const STOP_ROW_RE =
  /(?<![\p{L}])(sub[\s\-.]*total|total|tax|vat|gst|balance|amount\s+due|shipping|freight|discount|rounding|grand|net\s+amount|summary)(?![\p{L}])/iu;

/** Where a header line names each column: the earliest label match per column. */
function headerPositions(line: string, columns: readonly ColumnSpec[]): Map<string, number> {
  const found = new Map<string, number>();
  const used: [number, number][] = [];
  // Longest labels first so `unit price` is not read as `price` for one column and `unit` for another.
  const all = columns
    .flatMap((col) => columnLabels(col).map((label) => ({ col, label })))
    .sort((a, b) => b.label.length - a.label.length);
  for (const { col, label } of all) {
    if (found.has(col.key)) continue;
    const re = labelPattern(label);
    if (!re) continue;
    for (const m of line.matchAll(re)) {
      const start = m.index;
      const end = start + m[0].length;
      if (used.some(([a, b]) => start < b && end > a)) continue;
      used.push([start, end]);
      found.set(col.key, start);
      break;
    }
  }
  return found;
}

function isHeader(line: string, columns: readonly ColumnSpec[]): Map<string, number> | undefined {
  if (findAmounts(line, { decimalComma: false, usContext: false }).some((a) => a.monetary)) return undefined;
  const pos = headerPositions(line, columns);
  const numericCols = columns.filter((c) => c.role !== 'text' && pos.has(c.key));
  return pos.size >= 2 && numericCols.length >= 1 ? pos : undefined;
}

function toNumber(token: AmountToken | undefined, col: ColumnSpec): number | undefined {
  if (!token) return undefined;
  if (col.integer && !Number.isInteger(token.value)) return undefined;
  return token.value;
}

function cleanDescription(s: string): string {
  return s
    .replace(/^\s*(\d{6,}|[-*•])\s+/u, '')
    .replace(/[\s:;,*|x×@=-]+$/iu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function hasWords(s: string): boolean {
  return (s.match(/\p{L}/gu) ?? []).length >= 2;
}

/** Rows of Markdown tables whose header names at least one text and one numeric column. */
function markdownItems(doc: Doc, columns: readonly ColumnSpec[]): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  let header: (ColumnSpec | undefined)[] | undefined;
  let stopped = false;
  for (const line of doc.lines) {
    const cells = markdownCells(line);
    if (!cells) {
      header = undefined;
      stopped = false;
      continue;
    }
    if (!header) {
      const mapped = cells.map((cell) => {
        const pos = headerPositions(cell, columns);
        return columns.find((c) => pos.has(c.key));
      });
      const hasText = mapped.some((c) => c?.role === 'text');
      const hasNumber = mapped.some((c) => c !== undefined && c.role !== 'text');
      if (hasText && hasNumber) header = mapped;
      continue;
    }
    if (stopped) continue;
    const firstText = cells.find((c) => c.length > 0) ?? '';
    if (STOP_ROW_RE.test(firstText) && findAmounts(firstText, doc.ctx).length === 0) {
      stopped = true;
      continue;
    }
    const item: Record<string, unknown> = {};
    header.forEach((col, i) => {
      const cell = cells[i] ?? '';
      if (!col || cell === '') return;
      if (col.role === 'text') {
        const text = cleanDescription(cell);
        if (text) item[col.key] = text;
      } else {
        const tokens = findAmounts(cell, doc.ctx);
        const value = toNumber(tokens[tokens.length - 1], col);
        if (value !== undefined) item[col.key] = value;
      }
    });
    const textCol = columns.find((c) => c.role === 'text');
    if (textCol && item[textCol.key] === undefined) continue;
    if (Object.keys(item).length > 0) items.push(item);
  }
  return items;
}

/** The amounts ending a line and the text before them (`Widget A  2 x 10.00  20.00`). */
function splitRow(line: string, doc: Doc): { text: string; numbers: AmountToken[] } {
  const tokens = findAmounts(line, doc.ctx);
  const numbers: AmountToken[] = [];
  let cut = line.length;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i];
    if (!t) break;
    const gap = line.slice(t.end, cut);
    // Between trailing numbers only separators, units and tax codes may appear.
    if (!/^[\s x×@*=()/]*(?:\p{L}{1,3}\.?)?[\s x×@*=()/]*$/iu.test(gap)) break;
    numbers.unshift(t);
    cut = t.start;
  }
  return { text: line.slice(0, cut), numbers };
}

/** Assign a row's trailing numbers to the numeric columns, in header order when known. */
function assignNumbers(
  numbers: readonly AmountToken[],
  numericCols: readonly ColumnSpec[],
  item: Record<string, unknown>,
): void {
  if (numbers.length === 0 || numericCols.length === 0) return;
  if (numbers.length >= numericCols.length) {
    // Extra leading numbers are codes or discount columns the schema does not ask for.
    const tail = numbers.slice(numbers.length - numericCols.length);
    numericCols.forEach((col, i) => {
      const v = toNumber(tail[i], col);
      if (v !== undefined) item[col.key] = v;
    });
    return;
  }
  const amount = numericCols.find((c) => c.role === 'amount') ?? numericCols[numericCols.length - 1];
  const last = numbers[numbers.length - 1];
  if (amount && last) {
    const v = toNumber(last, amount);
    if (v !== undefined) item[amount.key] = v;
  }
  const first = numbers[0];
  if (numbers.length >= 2 && first) {
    const qty = numericCols.find((c) => c.role === 'quantity');
    const price = numericCols.find((c) => c.role === 'price');
    const target = !first.monetary && qty ? qty : (price ?? qty);
    if (target && target !== amount) {
      const v = toNumber(first, target);
      if (v !== undefined) item[target.key] = v;
    }
  }
}

/** Plain-text rows under a column header line, down to the first total-like line. */
function plainItems(doc: Doc, columns: readonly ColumnSpec[]): Record<string, unknown>[] {
  const textCol = columns.find((c) => c.role === 'text');
  const lines = doc.lines;
  let start = -1;
  let order: ColumnSpec[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (markdownCells(line)) continue;
    const pos = isHeader(line, columns);
    if (pos) {
      start = i + 1;
      order = columns
        .filter((c) => c.role !== 'text' && pos.has(c.key))
        .sort((a, b) => (pos.get(a.key) ?? 0) - (pos.get(b.key) ?? 0));
      break;
    }
  }
  if (start < 0) return [];
  // Numeric properties the header does not name can still be filled by position.
  const numericCols = order.length > 0 ? order : columns.filter((c) => c.role !== 'text');
  const items: Record<string, unknown>[] = [];
  let pendingText: string | undefined;
  let misses = 0;
  for (let i = start; i < lines.length && misses < 4; i++) {
    const line = lines[i] ?? '';
    if (STOP_ROW_RE.test(line)) break;
    const { text, numbers } = splitRow(line, doc);
    const monetary = numbers.some((n) => n.monetary);
    if (!monetary) {
      // A description printed on its own line, above (or instead of beside) its amounts.
      if (hasWords(line)) pendingText = line;
      misses++;
      continue;
    }
    misses = 0;
    const item: Record<string, unknown> = {};
    let description = cleanDescription(text);
    if (!hasWords(description) && pendingText) description = cleanDescription(pendingText);
    pendingText = undefined;
    if (textCol && hasWords(description)) item[textCol.key] = description;
    assignNumbers(numbers, numericCols, item);
    if (textCol && item[textCol.key] === undefined) continue;
    items.push(item);
  }
  return items;
}

/**
 * Line items for an array-of-objects property. Markdown tables win when present; otherwise
 * plain rows under a header. Rows without a description are dropped rather than invented
 * when the item schema has a text column. Empty result: no table recognized.
 */
export function extractItems(doc: Doc, columns: readonly ColumnSpec[]): Record<string, unknown>[] {
  const md = markdownItems(doc, columns);
  return md.length > 0 ? md : plainItems(doc, columns);
}
