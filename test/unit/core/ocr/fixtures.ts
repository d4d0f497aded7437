/**
 * Builders for hand-made Textract blocks: lines with their words, tables with cells, key-value
 * pairs, marks and layout regions, laid out on a page in ratios like the real thing. Ids are
 * readable (`w3`, `line2`) so a failing expectation points at the block.
 */
import type { Block, Geometry } from '../../../../src/core/ocr/textract.ts';

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export function geometry(r: Rect): Geometry {
  return {
    BoundingBox: { Left: r.left, Top: r.top, Width: r.width, Height: r.height },
    Polygon: [
      { X: r.left, Y: r.top },
      { X: r.left + r.width, Y: r.top },
      { X: r.left + r.width, Y: r.top + r.height },
      { X: r.left, Y: r.top + r.height },
    ],
  };
}

/** Makes blocks with ids unique within one builder. */
export class PageBuilder {
  readonly blocks: Block[] = [];
  readonly page: number | undefined;
  private seq = 0;

  /** `page` undefined: blocks carry no Page field, as in synchronous responses. */
  constructor(page: number | undefined = 1) {
    this.page = page;
  }

  id(prefix: string): string {
    this.seq++;
    return `p${this.page ?? 0}-${prefix}${this.seq}`;
  }

  private add(b: Block): Block {
    if (this.page !== undefined) b.Page = this.page;
    this.blocks.push(b);
    return b;
  }

  /** WORD blocks for `text`, spread over `r` in proportion to their length. */
  words(text: string, r: Rect): Block[] {
    const parts = text.split(' ').filter((w) => w.length > 0);
    const total = parts.reduce((n, w) => n + w.length + 1, -1);
    const out: Block[] = [];
    let x = r.left;
    for (const w of parts) {
      const width = (r.width * w.length) / Math.max(total, 1);
      out.push(
        this.add({
          BlockType: 'WORD',
          Id: this.id('w'),
          Text: w,
          Geometry: geometry({ left: x, top: r.top, width, height: r.height }),
        }),
      );
      x += width + r.width / Math.max(total, 1);
    }
    return out;
  }

  /** A LINE and its WORDs; returns the LINE. */
  line(text: string, left: number, top: number, width = 0.3, height = 0.02): Block {
    const words = this.words(text, { left, top, width, height });
    return this.lineOf(words, text, { left, top, width, height });
  }

  lineOf(words: readonly Block[], text: string, r: Rect): Block {
    return this.add({
      BlockType: 'LINE',
      Id: this.id('line'),
      Text: text,
      Geometry: geometry(r),
      Relationships: [{ Type: 'CHILD', Ids: words.map((w) => w.Id ?? '') }],
    });
  }

  mark(selected: boolean, r: Rect): Block {
    return this.add({
      BlockType: 'SELECTION_ELEMENT',
      Id: this.id('sel'),
      SelectionStatus: selected ? 'SELECTED' : 'NOT_SELECTED',
      Geometry: geometry(r),
    });
  }

  cell(
    row: number,
    col: number,
    content: readonly Block[],
    r: Rect,
    spans: [number, number] = [1, 1],
  ): Block {
    const b: Block = {
      BlockType: 'CELL',
      Id: this.id('cell'),
      RowIndex: row,
      ColumnIndex: col,
      RowSpan: spans[0],
      ColumnSpan: spans[1],
      Geometry: geometry(r),
    };
    if (content.length > 0) b.Relationships = [{ Type: 'CHILD', Ids: content.map((c) => c.Id ?? '') }];
    return this.add(b);
  }

  mergedCell(row: number, col: number, spans: [number, number], cells: readonly Block[]): Block {
    return this.add({
      BlockType: 'MERGED_CELL',
      Id: this.id('merged'),
      RowIndex: row,
      ColumnIndex: col,
      RowSpan: spans[0],
      ColumnSpan: spans[1],
      Relationships: [{ Type: 'CHILD', Ids: cells.map((c) => c.Id ?? '') }],
    });
  }

  table(cells: readonly Block[], merged: readonly Block[], r: Rect): Block {
    const relationships = [{ Type: 'CHILD', Ids: cells.map((c) => c.Id ?? '') }];
    if (merged.length > 0) relationships.push({ Type: 'MERGED_CELL', Ids: merged.map((c) => c.Id ?? '') });
    return this.add({
      BlockType: 'TABLE',
      Id: this.id('table'),
      Geometry: geometry(r),
      Relationships: relationships,
    });
  }

  /** A KEY_VALUE_SET pair (or the `KEY`/`VALUE` quirk types); returns the KEY block. */
  keyValue(keyContent: readonly Block[], valueContent: readonly Block[], quirk = false): Block {
    const value = this.add({
      BlockType: quirk ? 'VALUE' : 'KEY_VALUE_SET',
      EntityTypes: ['VALUE'],
      Id: this.id('value'),
      Relationships: [{ Type: 'CHILD', Ids: valueContent.map((c) => c.Id ?? '') }],
    });
    return this.add({
      BlockType: quirk ? 'KEY' : 'KEY_VALUE_SET',
      EntityTypes: ['KEY'],
      Id: this.id('key'),
      Relationships: [
        { Type: 'VALUE', Ids: [value.Id ?? ''] },
        { Type: 'CHILD', Ids: keyContent.map((c) => c.Id ?? '') },
      ],
    });
  }

  layout(type: string, lines: readonly Block[], r: Rect): Block {
    return this.add({
      BlockType: type,
      Id: this.id('layout'),
      Geometry: geometry(r),
      Relationships: [{ Type: 'CHILD', Ids: lines.map((l) => l.Id ?? '') }],
    });
  }

  raw(b: Block): Block {
    return this.add(b);
  }
}

function occurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

/**
 * Word recall, counted as a multiset: a word printed twice on a page (say "Total") must occur
 * at least twice in that page's text. Words without a valid Page are looked for in the whole
 * output. Cell separators escaped by the linearizer (`\|`) are unescaped first.
 */
export function wordRecall(
  blocks: readonly unknown[],
  pages: readonly { page: number; text: string }[],
): { words: number; found: number; missing: string[] } {
  const text = new Map(pages.map((p) => [p.page, p.text.replace(/\\\|/g, '|')]));
  const all = [...text.values()].join('\n');
  const need = new Map<string, { page: number | undefined; word: string; n: number }>();
  for (const raw of blocks) {
    if (typeof raw !== 'object' || raw === null) continue;
    const b = raw as Block;
    const word = typeof b.Text === 'string' ? b.Text.trim() : '';
    if (b.BlockType !== 'WORD' || !word) continue;
    const page = typeof b.Page === 'number' && Number.isInteger(b.Page) && b.Page >= 1 ? b.Page : undefined;
    const key = `${page ?? '*'}\u0000${word}`;
    const entry = need.get(key) ?? { page, word, n: 0 };
    entry.n++;
    need.set(key, entry);
  }
  let words = 0;
  let found = 0;
  const missing: string[] = [];
  for (const { page, word, n } of need.values()) {
    const have = occurrences(page === undefined ? all : (text.get(page) ?? ''), word);
    words += n;
    found += Math.min(have, n);
    if (have < n) missing.push(page === undefined ? word : `p${page}:${word}`);
  }
  return { words, found, missing };
}
