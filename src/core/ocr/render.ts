/**
 * One page of Textract blocks → the text an LLM reads.
 *
 * The page is first cut into items, each printed once: tables, key-value pairs, what is left of
 * each LINE once those took their words, words no LINE lists, stray selection marks and
 * signatures. The items are then put in reading order: by the LAYOUT_* blocks when the response
 * has them (Textract lists those in reading order; headers go first, footers last), otherwise
 * by geometry (rows, and columns split at a gutter), and items with no geometry are slotted in
 * after the item that precedes them in the response.
 */
import { BlockIndex, type Box, entityTypes, relatedIds, textOf, typeOf, unionBoxes } from './block-index.ts';
import { type Positioned, readingOrder } from './reading-order.ts';
import {
  insertionPoint,
  isKey,
  joinTokens,
  markText,
  renderKeyValue,
  renderQuery,
  renderTable,
} from './structures.ts';
import type { Block } from './textract.ts';

export interface LinearizeOptions {
  /** Order by LAYOUT_* blocks when the response has them (default true). */
  layout?: boolean;
  /** Without layout, read multi-column stretches column by column (default true). */
  columns?: boolean;
  /** Render TABLE blocks as Markdown tables (default true); off, their words print as lines. */
  tables?: boolean;
  /** Render KEY_VALUE_SET pairs as `key: value` (default true); off, their words print as lines. */
  keyValues?: boolean;
  /** Append answered QUERY blocks as `Q: … A: …` lines at the end of their page (default true). */
  queries?: boolean;
  /** Print `[signature]` where a SIGNATURE block sits (default true). */
  signatures?: boolean;
}

interface Item {
  text: string;
  box: Box | undefined;
  multiline: boolean;
  field?: boolean;
  /** Position in the response of the block the item comes from. */
  order: number;
  /** LINE or WORD blocks that tie the item to a layout region. */
  anchors: Block[];
  /** For line items: the words (and marks) still to print; `text` is final once set from them. */
  tokens?: Block[];
}

type BoxedItem = Item & Positioned;

function hasBox(it: Item): it is BoxedItem {
  return it.box !== undefined;
}

interface PageParts {
  lines: Block[];
  words: Block[];
  marks: Block[];
  tables: Block[];
  keys: Block[];
  signatures: Block[];
  layouts: Block[];
  queries: Block[];
}

function emptyParts(): PageParts {
  return { lines: [], words: [], marks: [], tables: [], keys: [], signatures: [], layouts: [], queries: [] };
}

/** Blocks bucketed by page and by the role they play in rendering; pages ascending. */
function splitPages(index: BlockIndex): [number, PageParts][] {
  const pages = new Map<number, PageParts>();
  for (const b of index.blocks) {
    const page = index.page(b);
    let parts = pages.get(page);
    if (!parts) {
      parts = emptyParts();
      pages.set(page, parts);
    }
    const t = typeOf(b);
    if (t === 'LINE') parts.lines.push(b);
    else if (t === 'WORD') parts.words.push(b);
    else if (t === 'SELECTION_ELEMENT') parts.marks.push(b);
    else if (t === 'TABLE') parts.tables.push(b);
    else if (t === 'SIGNATURE') parts.signatures.push(b);
    else if (t === 'QUERY') parts.queries.push(b);
    else if (t.startsWith('LAYOUT_')) parts.layouts.push(b);
    else if (isKey(b, entityTypes(b))) parts.keys.push(b);
  }
  return [...pages.entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * The page's text without its marker. `claimed` carries the words and marks already printed
 * (by earlier pages too) and receives those this page prints.
 */
function renderPage(
  index: BlockIndex,
  parts: PageParts,
  claimed: Set<Block>,
  options: LinearizeOptions = {},
): string {
  const items = collectItems(index, parts, claimed, options);
  const rows =
    options.layout !== false && parts.layouts.length > 0
      ? layoutOrder(index, parts.layouts, items, options.columns !== false)
      : geometricOrder(items, options.columns !== false);
  const out = rows.map(joinRow);
  if (options.queries !== false) {
    for (const q of parts.queries) {
      const line = renderQuery(index, q);
      if (line) out.push(line);
    }
  }
  return out.filter((l) => l.length > 0).join('\n');
}

function collectItems(
  index: BlockIndex,
  parts: PageParts,
  claimed: Set<Block>,
  options: LinearizeOptions,
): Item[] {
  const order = (b: Block): number => index.order.get(b) ?? 0;
  const items: Item[] = [];
  const claim = (blocks: readonly Block[]): void => {
    for (const b of blocks) claimed.add(b);
  };

  if (options.tables !== false) {
    for (const table of parts.tables) {
      const r = renderTable(index, table, claimed);
      if (!r) continue;
      claim(r.consumed);
      items.push({ text: r.text, box: r.box, multiline: true, order: order(table), anchors: r.consumed });
    }
  }
  if (options.keyValues !== false) {
    for (const key of parts.keys) {
      const r = renderKeyValue(index, key, claimed);
      if (!r) continue;
      claim(r.consumed);
      items.push({
        text: r.text,
        box: r.box,
        multiline: false,
        field: true,
        order: order(key),
        anchors: r.consumed,
      });
    }
  }

  const lineItems: Item[] = [];
  for (const line of parts.lines) {
    const words = index.related(line, 'CHILD').filter((w) => typeOf(w) === 'WORD');
    const free = words.filter((w) => !claimed.has(w) && textOf(w) !== undefined);
    const lineText = textOf(line);
    const missing = relatedIds(line, 'CHILD').length > words.length;
    // A line whose word ids do not resolve (or that lists none) still has its own Text.
    if (
      lineText !== undefined &&
      (words.length === 0 ||
        (missing && free.length === words.length && free.every((w) => lineText.includes(textOf(w) ?? ''))))
    ) {
      claim(words);
      items.push({
        text: lineText,
        box: index.box(line),
        multiline: false,
        order: order(line),
        anchors: [line],
      });
      continue;
    }
    if (free.length === 0) continue;
    claim(free);
    const box = unionBoxes(free.map((w) => index.box(w))) ?? index.box(line);
    const item: Item = { text: '', box, multiline: false, order: order(line), anchors: [line], tokens: free };
    lineItems.push(item);
    items.push(item);
  }

  // Words no LINE printed: orphans, or words of lines on another page. Never dropped.
  for (const w of parts.words) {
    if (claimed.has(w) || textOf(w) === undefined) continue;
    claimed.add(w);
    items.push({ text: '', box: index.box(w), multiline: false, order: order(w), anchors: [w], tokens: [w] });
  }

  for (const mark of parts.marks) {
    if (claimed.has(mark)) continue;
    claimed.add(mark);
    const mb = index.box(mark);
    const host = mb ? lineItems.find((it) => it.box && onLine(it.box, mb)) : undefined;
    if (host?.tokens && mb) {
      host.tokens.splice(insertionPoint(index, host.tokens, mb), 0, mark);
      host.box = unionBoxes([host.box, mb]);
      continue;
    }
    items.push({ text: markText(mark), box: mb, multiline: false, order: order(mark), anchors: [] });
  }

  if (options.signatures !== false) {
    for (const s of parts.signatures) {
      items.push({ text: '[signature]', box: index.box(s), multiline: false, order: order(s), anchors: [] });
    }
  }

  for (const it of items) if (it.tokens) it.text = joinTokens(it.tokens);
  return items;
}

/**
 * A row's items left to right, two spaces apart; one space where they touch (Textract sometimes
 * cuts one printed line into two LINE blocks, and `For  our` would read as two columns).
 */
function joinRow(row: readonly Item[]): string {
  let out = '';
  let prev: Box | undefined;
  for (const it of row) {
    if (!it.text) continue;
    if (out) {
      const b = it.box;
      const touching =
        prev && b && b.left - prev.right < 0.5 * Math.min(prev.bottom - prev.top, b.bottom - b.top);
      out += touching ? ' ' : '  ';
    }
    out += it.text;
    prev = it.box;
  }
  return out;
}

// A mark sitting inside a line's extent (between two of its words, typically).
function onLine(line: Box, mark: Box): boolean {
  const overlap = Math.min(line.bottom, mark.bottom) - Math.max(line.top, mark.top);
  const centre = (mark.left + mark.right) / 2;
  return overlap >= 0.5 * (mark.bottom - mark.top) && centre >= line.left && centre <= line.right;
}

function geometricOrder(items: readonly Item[], columns: boolean): Item[][] {
  const boxed = items.filter(hasBox);
  return withUnboxed(
    readingOrder(boxed, { columns }),
    items.filter((it) => !hasBox(it)),
  );
}

/**
 * Slots items without geometry in after the boxed item that precedes them in the response (or
 * first), each on its own line.
 */
function withUnboxed(rows: Item[][], unboxed: readonly Item[]): Item[][] {
  if (unboxed.length === 0) return rows;
  const sorted = rows.flat().sort((a, b) => a.order - b.order);
  const head: Item[] = [];
  const after = new Map<Item, Item[]>();
  for (const u of unboxed.slice().sort((a, b) => a.order - b.order)) {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid]?.order ?? 0) < u.order) lo = mid + 1;
      else hi = mid;
    }
    const anchor = sorted[lo - 1];
    if (!anchor) {
      head.push(u);
      continue;
    }
    const list = after.get(anchor);
    if (list) list.push(u);
    else after.set(anchor, [u]);
  }
  const out: Item[][] = head.map((u) => [u]);
  for (const row of rows) {
    out.push(row);
    for (const it of row) for (const u of after.get(it) ?? []) out.push([u]);
  }
  return out;
}

type Zone = 'header' | 'body' | 'footer';

function zoneOf(index: BlockIndex, region: Block): Zone {
  const t = typeOf(region);
  if (t === 'LAYOUT_HEADER') return 'header';
  if (t === 'LAYOUT_FOOTER') return 'footer';
  if (t === 'LAYOUT_PAGE_NUMBER') {
    const b = index.box(region);
    return b && (b.top + b.bottom) / 2 < 0.5 ? 'header' : 'footer';
  }
  return 'body';
}

function area(b: Box): number {
  return (b.right - b.left) * (b.bottom - b.top);
}

function layoutOrder(
  index: BlockIndex,
  layouts: readonly Block[],
  items: readonly Item[],
  columns: boolean,
): Item[][] {
  const regionOfLine = new Map<Block, number>();
  layouts.forEach((region, i) => {
    for (const child of index.related(region, 'CHILD')) {
      if (typeOf(child) === 'LINE' && !regionOfLine.has(child)) regionOfLine.set(child, i);
    }
  });
  // Layout blocks that hold no lines (figures only) say nothing about the text's order.
  if (regionOfLine.size === 0) return geometricOrder(items, columns);

  const groups = new Map<number, Item[]>();
  const stray: Item[] = [];
  for (const it of items) {
    const r = regionByAnchors(index, it, regionOfLine) ?? regionByBox(index, layouts, it.box);
    if (r === undefined) {
      stray.push(it);
      continue;
    }
    const g = groups.get(r);
    if (g) g.push(it);
    else groups.set(r, [it]);
  }

  // Items outside every region go before the first body region below them in the same column.
  const strayBefore = new Map<number, Item[]>();
  const strayEnd: Item[] = [];
  for (const it of stray) {
    const b = it.box;
    const target = b
      ? layouts.findIndex((region, i) => {
          const rb = index.box(region);
          if (!rb || !groups.has(i) || zoneOf(index, region) !== 'body') return false;
          return rb.top > (b.top + b.bottom) / 2 && rb.left < b.right && rb.right > b.left;
        })
      : -1;
    if (target < 0) {
      strayEnd.push(it);
      continue;
    }
    const list = strayBefore.get(target);
    if (list) list.push(it);
    else strayBefore.set(target, [it]);
  }

  const zones: Record<Zone, Item[][]> = { header: [], body: [], footer: [] };
  const emit = (zone: Zone, group: readonly Item[] | undefined): void => {
    if (!group || group.length === 0) return;
    const boxed = group.filter(hasBox);
    zones[zone].push(
      ...withUnboxed(
        readingOrder(boxed, { columns: false }),
        group.filter((it) => !hasBox(it)),
      ),
    );
  };
  layouts.forEach((region, i) => {
    const zone = zoneOf(index, region);
    if (zone === 'body') emit('body', strayBefore.get(i));
    emit(zone, groups.get(i));
  });
  emit('body', strayEnd);
  return [...zones.header, ...zones.body, ...zones.footer];
}

/** The region holding most of the item's lines (the earliest region on a tie). */
function regionByAnchors(
  index: BlockIndex,
  it: Item,
  regionOfLine: ReadonlyMap<Block, number>,
): number | undefined {
  const votes = new Map<number, number>();
  for (const a of it.anchors) {
    const line = typeOf(a) === 'LINE' ? a : index.lineOfWord.get(a);
    const r = line ? regionOfLine.get(line) : undefined;
    if (r !== undefined) votes.set(r, (votes.get(r) ?? 0) + 1);
  }
  let best: number | undefined;
  let bestVotes = 0;
  for (const [r, v] of votes) {
    if (v > bestVotes || (v === bestVotes && best !== undefined && r < best)) {
      best = r;
      bestVotes = v;
    }
  }
  return best;
}

/** The smallest region containing the item's centre. */
function regionByBox(index: BlockIndex, layouts: readonly Block[], box: Box | undefined): number | undefined {
  if (!box) return undefined;
  const x = (box.left + box.right) / 2;
  const y = (box.top + box.bottom) / 2;
  let best: number | undefined;
  let bestArea = Number.POSITIVE_INFINITY;
  layouts.forEach((region, i) => {
    const rb = index.box(region);
    if (!rb || x < rb.left || x > rb.right || y < rb.top || y > rb.bottom) return;
    if (area(rb) < bestArea) {
      best = i;
      bestArea = area(rb);
    }
  });
  return best;
}

export interface PageText {
  page: number;
  text: string;
}

/** Every page with text, ascending, rendered without the safety net of `linearizePages`. */
export function renderPages(blocks: readonly unknown[], options: LinearizeOptions = {}): PageText[] {
  const index = new BlockIndex(blocks);
  const claimed = new Set<Block>();
  const out: PageText[] = [];
  for (const [page, parts] of splitPages(index)) {
    const text = renderPage(index, parts, claimed, options);
    if (text.trim().length > 0) out.push({ page, text });
  }
  return out;
}
