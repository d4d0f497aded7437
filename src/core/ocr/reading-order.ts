/**
 * Reading order from geometry alone: visual rows read left to right, and multi-column stretches
 * of a page read column by column.
 *
 * Column detection looks for a vertical gutter (a strip no item crosses) shared by consecutive
 * rows. A gutter alone is not enough: receipts and invoices put labels on the left and amounts
 * on the right with a wide gap between them, and forms put fields side by side: reading those
 * column by column would separate every label from its amount, every first name from its last
 * name. So a stretch is only split when most items on both sides read like running text
 * (several words, mostly letters, not a form field), which prose columns do and label/amount
 * layouts do not.
 */
import type { Box } from './block-index.ts';

export interface Positioned {
  box: Box;
  text: string;
  /** Rendered over several lines (a Markdown table): never shares a row with other items. */
  multiline: boolean;
  /** A form field (`key: value`): never counts as running text when looking for columns. */
  field?: boolean;
}

export interface ReadingOrderOptions {
  /** Read multi-column stretches column by column (default true). */
  columns?: boolean;
}

/** The narrowest strip between columns that counts as a gutter, as a ratio of the page width. */
const MIN_GUTTER = 0.015;
/** A vertical gap of this many line heights ends a column stretch. */
const MAX_ROW_GAP_LINES = 3;
/** Gutters inside columns inside columns: deeper nesting is read row by row. */
const MAX_DEPTH = 4;

function height(b: Box): number {
  return Math.max(b.bottom - b.top, 1e-6);
}

function centre(b: Box): number {
  return (b.top + b.bottom) / 2;
}

// Centres within half the smaller height: a tall item (a logo, a two-line key-value) does not
// pull the separate lines printed beside it into one row.
function sameRow(a: Box, b: Box): boolean {
  return Math.abs(centre(a) - centre(b)) < 0.5 * Math.min(height(a), height(b));
}

function stacked(a: Box, b: Box): boolean {
  const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  return overlap > 0.3 * Math.min(a.right - a.left, b.right - b.left);
}

/** Visual rows, top to bottom, each read left to right. */
export function clusterRows<T extends Positioned>(items: readonly T[]): T[][] {
  const sorted = items.slice().sort((a, b) => centre(a.box) - centre(b.box) || a.box.left - b.box.left);
  const rows: T[][] = [];
  for (const item of sorted) {
    const row = rows.at(-1);
    const first = row?.[0];
    const last = row?.at(-1);
    // Against the last item too, so a row survives the slope of a skewed scan; but two items
    // stacked one above the other are never on the same row, however the slope chains them.
    const joins =
      row &&
      first &&
      last &&
      !first.multiline &&
      !item.multiline &&
      (sameRow(first.box, item.box) || sameRow(last.box, item.box)) &&
      !row.some((other) => stacked(other.box, item.box));
    if (row && joins) row.push(item);
    else rows.push([item]);
  }
  for (const row of rows) row.sort((a, b) => a.box.left - b.box.left);
  return rows;
}

/** Items in reading order, grouped in visual rows (what one output line holds). */
export function readingOrder<T extends Positioned>(
  items: readonly T[],
  options: ReadingOrderOptions = {},
): T[][] {
  if (options.columns === false) return clusterRows(items);
  return withColumns(items, 0);
}

interface Interval {
  a: number;
  b: number;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = values.slice().sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function rowTop<T extends Positioned>(row: readonly T[]): number {
  let top = Number.POSITIVE_INFINITY;
  for (const it of row) top = Math.min(top, it.box.top);
  return top;
}

function rowBottom<T extends Positioned>(row: readonly T[]): number {
  let bottom = Number.NEGATIVE_INFINITY;
  for (const it of row) bottom = Math.max(bottom, it.box.bottom);
  return bottom;
}

/** Gaps between the items of one row (items sorted by left), at least MIN_GUTTER wide. */
function internalGaps<T extends Positioned>(row: readonly T[]): Interval[] {
  const out: Interval[] = [];
  const sorted = row.slice().sort((x, y) => x.box.left - y.box.left);
  let reach = Number.NEGATIVE_INFINITY;
  for (const it of sorted) {
    if (reach > Number.NEGATIVE_INFINITY && it.box.left - reach >= MIN_GUTTER)
      out.push({ a: reach, b: it.box.left });
    reach = Math.max(reach, it.box.right);
  }
  return out;
}

/** The parts of `gaps` no item of `row` covers, at least MIN_GUTTER wide. */
function carve<T extends Positioned>(gaps: readonly Interval[], row: readonly T[]): Interval[] {
  let current = gaps.slice();
  for (const it of row) {
    const next: Interval[] = [];
    for (const g of current) {
      if (it.box.right <= g.a || it.box.left >= g.b) {
        next.push(g);
        continue;
      }
      if (it.box.left - g.a >= MIN_GUTTER) next.push({ a: g.a, b: it.box.left });
      if (g.b - it.box.right >= MIN_GUTTER) next.push({ a: it.box.right, b: g.b });
    }
    current = next;
    if (current.length === 0) break;
  }
  return current;
}

function crosses(box: Box, g: Interval): boolean {
  return box.right > g.a && box.left < g.b;
}

// Running text: a few words, mostly letters. Labels, amounts, dates and codes are not.
function proseLike(text: string): boolean {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  if (words.length < 3) return false;
  const compact = text.replace(/\s+/g, '');
  const letters = compact.match(/\p{L}/gu)?.length ?? 0;
  return letters >= 0.6 * compact.length;
}

function readsAsColumn<T extends Positioned>(side: readonly T[]): boolean {
  if (side.length === 0) return false;
  let prose = 0;
  for (const it of side) if (it.multiline || (!it.field && proseLike(it.text))) prose++;
  return prose * 2 >= side.length;
}

interface ColumnSplit<T> {
  end: number;
  gutter: Interval;
  left: T[];
  right: T[];
}

/** A stretch of rows from `start` sharing a gutter with prose on both sides, if there is one. */
function findColumns<T extends Positioned>(
  rows: readonly T[][],
  start: number,
  lineHeight: number,
): ColumnSplit<T> | undefined {
  const first = rows[start];
  if (!first) return undefined;
  let gaps = internalGaps(first);
  if (gaps.length === 0) return undefined;
  let end = start + 1;
  let bottom = rowBottom(first);
  for (; end < rows.length; end++) {
    const row = rows[end] ?? [];
    if (rowTop(row) - bottom > MAX_ROW_GAP_LINES * lineHeight) break;
    const next = carve(gaps, row);
    if (next.length === 0) break;
    gaps = next;
    bottom = Math.max(bottom, rowBottom(row));
  }
  if (end - start < 2) return undefined;
  const items = rows.slice(start, end).flat();
  for (const gutter of gaps.slice().sort((x, y) => y.b - y.a - (x.b - x.a))) {
    const left = items.filter((it) => it.box.right <= gutter.a);
    const right = items.filter((it) => it.box.right > gutter.a);
    if (readsAsColumn(left) && readsAsColumn(right)) return { end, gutter, left, right };
  }
  return undefined;
}

function withColumns<T extends Positioned>(items: readonly T[], depth: number): T[][] {
  const rows = clusterRows(items);
  if (depth >= MAX_DEPTH || rows.length < 2) return rows;
  const lineHeight = median(items.filter((it) => !it.multiline).map((it) => height(it.box))) || 0.01;
  const out: T[][] = [];
  // Rows emitted one by one since the last column stretch: the stretch may claim the last few
  // (a column whose first line sits alone in its row, above where the other column starts).
  let plainFrom = 0;
  let i = 0;
  while (i < rows.length) {
    const split = findColumns(rows, i, lineHeight);
    if (!split) {
      out.push(rows[i] ?? []);
      i++;
      continue;
    }
    let top = rowTop(rows[i] ?? []);
    while (out.length > plainFrom) {
      const prev = out.at(-1) ?? [];
      const fits = prev.every((it) => !it.multiline && !crosses(it.box, split.gutter));
      if (!fits || top - rowBottom(prev) > 1.5 * lineHeight) break;
      out.pop();
      for (const it of prev) (it.box.right <= split.gutter.a ? split.left : split.right).push(it);
      top = rowTop(prev);
    }
    out.push(...withColumns(split.left, depth + 1), ...withColumns(split.right, depth + 1));
    plainFrom = out.length;
    i = split.end;
  }
  return out;
}
