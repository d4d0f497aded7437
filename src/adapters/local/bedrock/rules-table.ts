/**
 * Line-item tables for the offline rules model: Markdown tables (how the linearizer renders
 * detected tables; a table repeated on the next page adds its rows) and plain lines ending in
 * amounts under a column header, read down to the first subtotal/total line.
 *
 * Plain rows printed as cells (two or more spaces between columns) are read cell by cell:
 * the number cells ending the row are its figures, matched to the header's captions from the
 * right; the cells before them are the description, less a leading position number and text
 * printed under a numeric caption. A plain table survives page furniture between its rows
 * (footers, "Continued on page 2") and resumes at the header printed again. Column captions
 * are recognised in English, Dutch, German, French and Spanish.
 */

import { type Cell, markdownCells } from './rules-cells.ts';
import type { Doc } from './rules-layout.ts';
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
    'désignation',
    'libellé',
    'omschrijving',
    'beschreibung',
    'bezeichnung',
    'artikel',
    'descripción',
    'descrizione',
  ],
  quantity: [
    'quantity',
    'qty',
    'qté',
    'quantité',
    'menge',
    'anzahl',
    'aantal',
    'hoeveelheid',
    'cantidad',
    'units',
    'hours',
    'hrs',
    'pcs',
  ],
  price: [
    'unit price',
    'price',
    'rate',
    'unit cost',
    'u/p',
    'u price',
    's/price',
    'each',
    'rsp',
    'unit',
    'prix unitaire',
    'prix',
    'einzelpreis',
    'preis',
    'prijs',
    'precio',
  ],
  amount: [
    'amount',
    'amt',
    'line total',
    'total',
    'sum',
    'betrag',
    'zeilenbetrag',
    'gesamt',
    'montant',
    'bedrag',
    'totaal',
    'importe',
    // A price "including tax" in the last column is what the line costs in total.
    'price incl vat',
    'price incl tax',
    'prijs incl btw',
    'preis inkl mwst',
    'prix ttc',
  ],
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

// Lines that end the item rows: totals, taxes and charges, as English, Dutch, German and
// French invoices print them.
const STOP_ROW_RE =
  /(?<![\p{L}])(sub[\s\-.]*total|total|tax|vat|gst|balance|amount\s+due|shipping|freight|discount|rounding|grand|net\s+amount|summary|sub[\s\-.]*totaal|totaal|btw|te\s+betalen|zwischensumme|summe|gesamtbetrag|mwst|ust|sous[\s-]*total|tva|montant\s+(?:ht|ttc))(?![\p{L}])/iu;

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
      const token = tail[i];
      const v = token && fitsColumn(token, col) ? toNumber(token, col) : undefined;
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
    if (target && target !== amount && fitsColumn(first, target)) {
      const v = toNumber(first, target);
      if (v !== undefined) item[target.key] = v;
    }
  }
}

/** A currency-marked amount is a price or an amount, never a count. */
function fitsColumn(token: AmountToken, col: ColumnSpec): boolean {
  return !(col.role === 'quantity' && token.currency !== undefined);
}

/** A cell holding one number and nothing else but a unit or tax code (`12`, `€ 1,249.00`, `1 PCS`), or a rate (`21 %`). */
function cellNumber(text: string, doc: Doc): AmountToken | 'rate' | undefined {
  if (/^[-+]?\d+(?:[.,]\d+)?\s?%$/.test(text)) return 'rate';
  const tokens = findAmounts(text, doc.ctx);
  const t = tokens[0];
  if (tokens.length !== 1 || !t) return undefined;
  const around = `${text.slice(0, t.start)} ${text.slice(t.end)}`;
  return /^[\s()x×@*=/]*(?:\p{L}{1,3}\.?)?[\s()]*$/u.test(around) ? t : undefined;
}

interface CellRow {
  cells: readonly Cell[];
  /** Trailing number cells, left to right, with their cell index. */
  numbers: { value: AmountToken | 'rate'; index: number }[];
}

/** A row read cell by cell: the run of number cells at its end are its figures. */
function readCellRow(cells: readonly Cell[], doc: Doc): CellRow {
  const numbers: CellRow['numbers'] = [];
  for (let k = cells.length - 1; k >= 0; k--) {
    const value = cellNumber(cells[k]?.text ?? '', doc);
    if (value === undefined) break;
    numbers.unshift({ value, index: k });
  }
  return { cells, numbers };
}

/**
 * The description of a cell row: the cells before its figures, less those printed under a
 * numeric caption (`Rs 1939 x 1 Night` under `RATE`) when the row lines up with its header. A
 * short integer opening the row before the description is the position number (`1  Espresso
 * machine …`), not part of it.
 */
function rowDescription(row: CellRow, headerCols: readonly (ColumnSpec | undefined)[] | undefined): string {
  const firstNumber = row.numbers[0]?.index ?? row.cells.length;
  const shift = headerCols ? headerCols.length - row.cells.length : 0;
  const texts: string[] = [];
  row.cells.slice(0, firstNumber).forEach((c, k) => {
    const col = headerCols?.[k + shift];
    if (c.text === '' || (col !== undefined && col.role !== 'text')) return;
    texts.push(c.text);
  });
  while (texts.length > 1 && /^\d{1,3}\.?$/.test(texts[0] ?? '')) texts.shift();
  // An article number in a cell of its own before the description (`E103184  Onderhoudsset`)
  // identifies the product; it is not part of what the line says was sold.
  if (texts.length > 1 && ARTICLE_CODE_RE.test(texts[0] ?? '') && hasWords(texts.slice(1).join(' ')))
    texts.shift();
  return texts.join(' ');
}

/** One token mixing letters and digits, or a long digit run: a product code, not a word. */
const ARTICLE_CODE_RE = /^(?=[^\s]*\d)(?=[^\s]*\p{L}|\d{5,}$)[\p{L}\d][\p{L}\d\-_./]{3,}$/u;

/**
 * Counts printed before the description (`1  2  Widget`: position, then quantity) line up with
 * the header's cells from the left, where the description has not yet shifted anything.
 */
function leadingQuantity(
  row: CellRow,
  headerCols: readonly (ColumnSpec | undefined)[],
  item: Record<string, unknown>,
  doc: Doc,
): void {
  for (let k = 0; k < row.cells.length; k++) {
    const text = row.cells[k]?.text ?? '';
    if (!/^\d+(?:[.,]\d+)?$/.test(text)) return;
    const col = headerCols[k];
    if (col?.role !== 'quantity' || item[col.key] !== undefined) continue;
    const value = toNumber(findAmounts(text, doc.ctx)[0], col);
    if (value !== undefined) item[col.key] = value;
  }
}

/**
 * Assign a row's number cells to the columns named by the header's cells, aligned from the
 * right (descriptions may span or split cells on the left; figures line up on the right).
 * False when the alignment does not hold — a rate or a count under a price caption — and the
 * caller falls back to assigning by order.
 */
function assignByCells(
  row: CellRow,
  headerCols: readonly (ColumnSpec | undefined)[],
  item: Record<string, unknown>,
): boolean {
  const shift = headerCols.length - row.cells.length;
  const out: Record<string, unknown> = {};
  for (const { value, index } of row.numbers) {
    const h = index + shift;
    if (h < 0 || h >= headerCols.length) return false;
    const col = headerCols[h];
    if (col === undefined) continue;
    if (col.role === 'text' || value === 'rate' || !fitsColumn(value, col)) return false;
    const v = toNumber(value, col);
    if (v === undefined) return false;
    if (out[col.key] === undefined) out[col.key] = v;
  }
  if (Object.keys(out).length === 0) return false;
  Object.assign(item, out);
  return true;
}

interface Header {
  /** Numeric columns the header names, in printed order. */
  order: ColumnSpec[];
  /** The column each header cell names, when the header prints its captions as separate cells. */
  cellCols: (ColumnSpec | undefined)[] | undefined;
  keys: string;
}

function readHeader(doc: Doc, i: number, columns: readonly ColumnSpec[]): Header | undefined {
  const line = doc.lines[i] ?? '';
  if (markdownCells(line)) return undefined;
  const pos = isHeader(line, columns);
  if (!pos) return undefined;
  const order = columns
    .filter((c) => c.role !== 'text' && pos.has(c.key))
    .sort((a, b) => (pos.get(a.key) ?? 0) - (pos.get(b.key) ?? 0));
  const cells = doc.cells[i] ?? [];
  const cellCols =
    cells.length >= 2
      ? cells.map((cell) => {
          const p = headerPositions(cell.text, columns);
          return columns.find((c) => p.has(c.key));
        })
      : undefined;
  return { order, cellCols, keys: [...pos.keys()].sort().join(',') };
}

/**
 * Plain-text rows under a column header line, down to the first total line. The table pauses
 * at page furniture — a footer naming VAT or totals without an amount, or four lines without
 * an amount — and resumes where its header is printed again (a table continued on the next
 * page); a total-like line with an amount ends it.
 */
function plainItems(doc: Doc, columns: readonly ColumnSpec[]): Record<string, unknown>[] {
  const textCol = columns.find((c) => c.role === 'text');
  const lines = doc.lines;
  let start = -1;
  let header: Header | undefined;
  for (let i = 0; i < lines.length && !header; i++) {
    header = readHeader(doc, i, columns);
    start = i + 1;
  }
  if (!header) return [];
  // Numeric properties the header does not name can still be filled by position.
  const numericCols = header.order.length > 0 ? header.order : columns.filter((c) => c.role !== 'text');
  const items: Record<string, unknown>[] = [];
  let pendingText: string | undefined;
  // Lines without figures after a row: the rest of its description, or the next row's description.
  let continuation: string[] = [];
  let misses = 0;
  let paused = false;
  let sinceHeader = 0;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const again = readHeader(doc, i, columns);
    if (again && again.keys === header.keys) {
      paused = false;
      misses = 0;
      sinceHeader = 0;
      pendingText = undefined;
      continue;
    }
    if (paused) continue;
    if (STOP_ROW_RE.test(line)) {
      extendLast(items, textCol, continuation);
      continuation = [];
      if (findAmounts(line, doc.ctx).some((a) => a.monetary)) break;
      // Before the first row, a caption line wrapping under the header (`Ohne MwSt.`) is part of it.
      if (sinceHeader > 0) paused = true;
      continue;
    }
    // A row of two or more cells is read cell by cell when its last cells hold its amounts;
    // otherwise (OCR lines joined with single spaces) by the numbers ending the line.
    const cells = doc.cells[i] ?? [];
    const read = cells.length >= 2 ? readCellRow(cells, doc) : undefined;
    const cellRow = read?.numbers.some((n) => n.value !== 'rate' && n.value.monetary) ? read : undefined;
    const headerCols = cellRow ? header.cellCols : undefined;
    const { text, numbers } = cellRow
      ? {
          text: rowDescription(cellRow, headerCols),
          numbers: cellRow.numbers.flatMap((n) => (n.value === 'rate' ? [] : [n.value])),
        }
      : splitRow(line, doc);
    const monetary = numbers.some((n) => n.monetary);
    if (!monetary) {
      // A description printed on its own line, above (or instead of beside) its amounts.
      if (hasWords(line)) pendingText = line;
      const single = cells.length <= 1 && !PAGE_FURNITURE_RE.test(line);
      if (single && items.length > 0 && continuation.length < MAX_CONTINUATION_LINES && line.trim()) {
        continuation.push(line.trim());
        continue;
      }
      if (++misses >= 4) {
        paused = true;
        extendLast(items, textCol, continuation);
        continuation = [];
      }
      continue;
    }
    misses = 0;
    const item: Record<string, unknown> = {};
    let description = cleanDescription(text);
    if (!hasWords(description) && pendingText) description = cleanDescription(pendingText);
    else extendLast(items, textCol, continuation);
    continuation = [];
    pendingText = undefined;
    if (textCol && hasWords(description)) item[textCol.key] = description;
    const aligned =
      cellRow !== undefined && headerCols !== undefined && assignByCells(cellRow, headerCols, item);
    if (!aligned) assignNumbers(numbers, numericCols, item);
    if (textCol && item[textCol.key] === undefined) continue;
    if (cellRow && header.cellCols) leadingQuantity(cellRow, header.cellCols, item, doc);
    items.push(item);
    sinceHeader++;
  }
  extendLast(items, textCol, continuation);
  return items;
}

/** Lines wrapped under a row's description (a service period, a serial number) belong to it. */
const MAX_CONTINUATION_LINES = 4;
/** Page breaks and their notes end a row's wrapped lines: the next page's text is not the row's. */
const PAGE_FURNITURE_RE =
  /^-{2,}\s*page\b|\b(?:continued|fortsetzung|vervolg|suite)\b|\b(?:page|seite|pagina|blz|p)\.?\s*\d+\s*(?:of|von|van|de|\/)\s*\d+/iu;

function extendLast(
  items: Record<string, unknown>[],
  textCol: ColumnSpec | undefined,
  lines: readonly string[],
): void {
  const last = items[items.length - 1];
  if (!textCol || !last || lines.length === 0) return;
  const more = lines.map(cleanDescription).filter(Boolean);
  if (more.length > 0) last[textCol.key] = [last[textCol.key], ...more].join('\n');
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
