import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  collectBlocks,
  linearize,
  linearizePages,
  linearizeResponse,
  type TextractInput,
} from '../../../../src/core/ocr/linearize.ts';
import { renderPages } from '../../../../src/core/ocr/render.ts';
import type { Block } from '../../../../src/core/ocr/textract.ts';
import { geometry, PageBuilder, wordRecall } from './fixtures.ts';

const CORPUS = join(import.meta.dirname, '../../../../../shared/corpora/textract');

function text(blocks: readonly Block[]): string {
  return renderPages(blocks)
    .map((p) => p.text)
    .join('\n');
}

function expectAllWords(blocks: readonly Block[]): void {
  const r = wordRecall(blocks, renderPages(blocks));
  expect(r.missing).toEqual([]);
}

describe('Function: collectBlocks', () => {
  const b = (id: string, page = 1): Block => ({ BlockType: 'WORD', Id: id, Text: id, Page: page });

  it('returns the blocks of one response, of a list of Get pages in order, or of a bare list', () => {
    expect(collectBlocks({ Blocks: [b('a'), b('b')] }).map((x) => x.Id)).toEqual(['a', 'b']);
    expect(
      collectBlocks([{ Blocks: [b('a')] }, { Blocks: [b('b')], NextToken: 't' }]).map((x) => x.Id),
    ).toEqual(['a', 'b']);
    expect(collectBlocks([b('a'), b('b')]).map((x) => x.Id)).toEqual(['a', 'b']);
  });

  it('returns the blocks of AnalyzeExpense and AnalyzeID documents', () => {
    const expense = { ExpenseDocuments: [{ Blocks: [b('a', 1)] }, { Blocks: [b('b', 2)] }] };
    const id = { IdentityDocuments: [{ Blocks: [b('c')] }] };
    expect(collectBlocks(expense).map((x) => x.Id)).toEqual(['a', 'b']);
    expect(collectBlocks(id).map((x) => x.Id)).toEqual(['c']);
  });

  it('returns each Id once, and nothing for jobs without blocks or for junk', () => {
    expect(collectBlocks([{ Blocks: [b('a')] }, { Blocks: [b('a'), b('c')] }]).map((x) => x.Id)).toEqual([
      'a',
      'c',
    ]);
    expect(collectBlocks({ JobStatus: 'IN_PROGRESS' })).toEqual([]);
    expect(collectBlocks({ JobStatus: 'FAILED', StatusMessage: 'bad' })).toEqual([]);
    const junk = [
      null,
      5,
      'x',
      { Blocks: 'nope' },
      { Blocks: [null, 3, b('d')] },
    ] as unknown as TextractInput;
    expect(collectBlocks(junk).map((x) => x.Id)).toEqual(['d']);
    expect(linearizeResponse({ JobStatus: 'IN_PROGRESS' })).toBe('');
  });
});

describe('Function: linearize', () => {
  it('returns pages ascending with markers, leaving out pages without text', () => {
    const p2 = new PageBuilder(2);
    p2.line('Second page', 0.1, 0.1);
    const p1 = new PageBuilder(1);
    p1.line('First page', 0.1, 0.1);
    const p3 = new PageBuilder(3);
    p3.raw({ BlockType: 'WORD', Id: 'blank', Text: '   ', Page: 3 });
    const blocks = [...p2.blocks, ...p1.blocks, ...p3.blocks];
    expect(linearize(blocks)).toBe('--- page 1 ---\nFirst page\n--- page 2 ---\nSecond page');
    expect(linearizePages(blocks)).toEqual([
      { page: 1, text: 'First page' },
      { page: 2, text: 'Second page' },
    ]);
  });

  it('returns lines top to bottom, a visual row joined left to right with two spaces', () => {
    const p = new PageBuilder();
    p.line('Total', 0.1, 0.5, 0.1);
    p.line('9.00', 0.7, 0.505, 0.1);
    p.line('Shop', 0.1, 0.1, 0.1);
    expect(text(p.blocks)).toBe('Shop\nTotal  9.00');
  });
});

describe('Function: linearizePages (reading order from geometry)', () => {
  it('returns two columns read column by column, between full-width title and footer', () => {
    const p = new PageBuilder();
    p.line('Quarterly report of the company', 0.05, 0.05, 0.9);
    const left = [
      'The left column starts here',
      'and continues with more words',
      'until the paragraph ends',
      'right at this line.',
    ];
    const right = ['The right column comes second', 'and must be read after', 'the whole left column.'];
    for (const [i, t] of left.entries()) p.line(t, 0.05, 0.15 + i * 0.03, 0.4);
    for (const [i, t] of right.entries()) p.line(t, 0.55, 0.15 + i * 0.03, 0.4);
    p.line('A closing paragraph spans the full width again', 0.05, 0.3, 0.9);
    expect(text(p.blocks).split('\n')).toEqual([
      'Quarterly report of the company',
      ...left,
      ...right,
      'A closing paragraph spans the full width again',
    ]);
  });

  it('returns labels and amounts row by row: a gutter alone does not make columns', () => {
    const p = new PageBuilder();
    const rows: [string, string][] = [
      ['Coffee beans 1kg', '12.50'],
      ['Whole milk two litres', '1.20'],
      ['Total', '13.70'],
    ];
    rows.forEach(([label, amount], i) => {
      p.line(label, 0.05, 0.1 + i * 0.03, 0.3);
      p.line(amount, 0.8, 0.1 + i * 0.03, 0.1);
    });
    expect(text(p.blocks)).toBe('Coffee beans 1kg  12.50\nWhole milk two litres  1.20\nTotal  13.70');
  });

  it.each([90, 180, 270])('returns a scan turned %i° in reading order', (turn) => {
    // Where a point of the upright page lands on the turned scan.
    const onScan = (x: number, y: number): { X: number; Y: number } =>
      turn === 90 ? { X: 1 - y, Y: x } : turn === 180 ? { X: 1 - x, Y: 1 - y } : { X: y, Y: 1 - x };
    const p = new PageBuilder();
    const line = (t: string, left: number, top: number): void => {
      const [w, h] = [0.2, 0.02];
      // Textract starts a polygon at the text's own top-left corner, wherever the scan put it.
      const polygon = [
        onScan(left, top),
        onScan(left + w, top),
        onScan(left + w, top + h),
        onScan(left, top + h),
      ];
      const xs = polygon.map((pt) => pt.X);
      const ys = polygon.map((pt) => pt.Y);
      const box = {
        Left: Math.min(...xs),
        Top: Math.min(...ys),
        Width: Math.max(...xs) - Math.min(...xs),
        Height: Math.max(...ys) - Math.min(...ys),
      };
      const word = p.raw({
        BlockType: 'WORD',
        Id: p.id('w'),
        Text: t,
        Geometry: { BoundingBox: box, Polygon: polygon },
      });
      p.raw({
        BlockType: 'LINE',
        Id: p.id('l'),
        Text: t,
        Geometry: { BoundingBox: box, Polygon: polygon },
        Relationships: [{ Type: 'CHILD', Ids: [word.Id ?? ''] }],
      });
    };
    line('First', 0.1, 0.1);
    line('second', 0.6, 0.1);
    line('Last', 0.1, 0.5);
    expect(text(p.blocks)).toBe('First  second\nLast');
  });

  it('returns blocks without geometry in response order, and after their boxed predecessor', () => {
    const bare = new PageBuilder(undefined);
    for (const t of ['one', 'two', 'three']) {
      const w = bare.raw({ BlockType: 'WORD', Id: bare.id('w'), Text: t });
      bare.raw({
        BlockType: 'LINE',
        Id: bare.id('l'),
        Text: t,
        Relationships: [{ Type: 'CHILD', Ids: [w.Id ?? ''] }],
      });
    }
    expect(linearize(bare.blocks)).toBe('--- page 1 ---\none\ntwo\nthree');

    const mixed = new PageBuilder();
    mixed.line('Top', 0.1, 0.1);
    mixed.raw({ BlockType: 'LINE', Id: 'nogeo', Text: 'after top' });
    mixed.line('Bottom', 0.1, 0.9);
    expect(text(mixed.blocks)).toBe('Top\nafter top\nBottom');
  });
});

describe('Function: linearizePages (layout)', () => {
  it('returns header first and footer and page number last, body in layout order', () => {
    const p = new PageBuilder();
    const header = p.line('ACME Corp annual report', 0.3, 0.02, 0.4);
    const body1 = p.line('First paragraph of the body.', 0.1, 0.2, 0.8);
    const body2 = p.line('Second paragraph follows.', 0.1, 0.3, 0.8);
    const footer = p.line('Confidential', 0.1, 0.95, 0.2);
    const number = p.line('7', 0.9, 0.95, 0.02);
    const stray = p.line('Stray note', 0.1, 0.25, 0.2);
    // Deliberately out of page order: zones decide where headers and footers go.
    p.layout('LAYOUT_TEXT', [body1], { left: 0.1, top: 0.2, width: 0.8, height: 0.02 });
    p.layout('LAYOUT_FOOTER', [footer], { left: 0.1, top: 0.95, width: 0.2, height: 0.02 });
    p.layout('LAYOUT_PAGE_NUMBER', [number], { left: 0.9, top: 0.95, width: 0.02, height: 0.02 });
    p.layout('LAYOUT_TEXT', [body2], { left: 0.1, top: 0.3, width: 0.8, height: 0.02 });
    p.layout('LAYOUT_HEADER', [header], { left: 0.3, top: 0.02, width: 0.4, height: 0.02 });
    expect(stray.Text).toBe('Stray note');
    expect(text(p.blocks)).toBe(
      'ACME Corp annual report\nFirst paragraph of the body.\nStray note\nSecond paragraph follows.\nConfidential\n7',
    );
  });

  it('returns a LAYOUT_TABLE region as the Markdown of its TABLE, in the region’s place', () => {
    const p = new PageBuilder();
    const title = p.line('Price list', 0.1, 0.05, 0.3);
    const a = p.words('Tea', { left: 0.1, top: 0.2, width: 0.1, height: 0.02 });
    const b = p.words('2.00', { left: 0.5, top: 0.2, width: 0.1, height: 0.02 });
    const la = p.lineOf(a, 'Tea', { left: 0.1, top: 0.2, width: 0.1, height: 0.02 });
    const lb = p.lineOf(b, '2.00', { left: 0.5, top: 0.2, width: 0.1, height: 0.02 });
    const cells = [
      p.cell(1, 1, a, { left: 0.1, top: 0.2, width: 0.3, height: 0.03 }),
      p.cell(1, 2, b, { left: 0.4, top: 0.2, width: 0.3, height: 0.03 }),
    ];
    p.table(cells, [], { left: 0.1, top: 0.2, width: 0.6, height: 0.03 });
    const after = p.line('Prices in euros', 0.1, 0.3, 0.3);
    p.layout('LAYOUT_TITLE', [title], { left: 0.1, top: 0.05, width: 0.3, height: 0.02 });
    p.layout('LAYOUT_TABLE', [la, lb], { left: 0.1, top: 0.2, width: 0.6, height: 0.03 });
    p.layout('LAYOUT_TEXT', [after], { left: 0.1, top: 0.3, width: 0.3, height: 0.02 });
    expect(text(p.blocks)).toBe('Price list\n| Tea | 2.00 |\n| --- | --- |\nPrices in euros');
  });
});

/** A 4×3 table whose words also sit in LINE blocks, as Textract returns them. */
function tableFixture(): PageBuilder {
  const p = new PageBuilder();
  p.line('Order lines', 0.1, 0.05, 0.3);
  const row = (top: number, texts: string[]): Block[][] =>
    texts.map((t, i) => {
      if (!t) return [];
      const r = { left: 0.1 + i * 0.3, top, width: 0.2, height: 0.02 };
      const words = p.words(t, r);
      p.lineOf(words, t, r);
      return words;
    });
  const c = (rowIdx: number, col: number, content: Block[]): Block =>
    p.cell(rowIdx, col, content, {
      left: 0.1 + (col - 1) * 0.3,
      top: 0.1 + (rowIdx - 1) * 0.05,
      width: 0.3,
      height: 0.05,
    });
  const r1 = row(0.11, ['Item', 'Amount', '']);
  const r2 = row(0.16, ['A|B', '2', '10.00']);
  const r3a = row(0.21, ['Gadget', '1', '5.00']);
  const r3b = row(0.23, ['deluxe', '', '']);
  const r4 = row(0.26, ['Prices include VAT', '', '']);
  const cells = [
    c(1, 1, r1[0] ?? []),
    c(1, 2, r1[1] ?? []),
    c(1, 3, []),
    ...[1, 2, 3].map((col) => c(2, col, r2[col - 1] ?? [])),
    c(3, 1, [...(r3a[0] ?? []), ...(r3b[0] ?? [])]),
    c(3, 2, r3a[1] ?? []),
    c(3, 3, r3a[2] ?? []),
    c(4, 1, r4[0] ?? []),
    c(4, 2, []),
    c(4, 3, []),
  ];
  const merged = [
    p.mergedCell(1, 2, [1, 2], [cells[1] as Block, cells[2] as Block]),
    p.mergedCell(4, 1, [1, 3], cells.slice(9)),
  ];
  p.table(cells, merged, { left: 0.1, top: 0.1, width: 0.9, height: 0.2 });
  p.line('Thanks', 0.1, 0.4, 0.2);
  return p;
}

describe('Function: linearizePages (tables)', () => {
  it('returns a Markdown table: merged cells repeated, full-width span once, | escaped, lines flattened', () => {
    expect(text(tableFixture().blocks)).toBe(
      [
        'Order lines',
        '| Item | Amount | Amount |',
        '| --- | --- | --- |',
        '| A\\|B | 2 | 10.00 |',
        '| Gadget deluxe | 1 | 5.00 |',
        '| Prices include VAT |  |  |',
        'Thanks',
      ].join('\n'),
    );
    expectAllWords(tableFixture().blocks);
  });

  it('returns the table words as loose lines when tables are turned off', () => {
    const out = renderPages(tableFixture().blocks, { tables: false })
      .map((p) => p.text)
      .join('\n');
    expect(out).toContain('Gadget  1  5.00');
    expect(out).not.toContain('| --- |');
  });
});

describe('Function: linearizePages (key-values and selection elements)', () => {
  it('returns key: value lines, the KEY/VALUE quirk types included, without repeating their words', () => {
    const p = new PageBuilder();
    const name = p.words('Name:', { left: 0.05, top: 0.1, width: 0.1, height: 0.02 });
    const john = p.words('John Smith', { left: 0.2, top: 0.1, width: 0.2, height: 0.02 });
    p.lineOf([...name, ...john], 'Name: John Smith', { left: 0.05, top: 0.1, width: 0.35, height: 0.02 });
    p.keyValue(name, john);
    const married = p.line('Married', 0.05, 0.15, 0.1);
    const box = p.mark(true, { left: 0.2, top: 0.15, width: 0.02, height: 0.02 });
    p.keyValue(
      p.blocks.filter((b) => married.Relationships?.[0]?.Ids?.includes(b.Id ?? '')),
      [box],
    );
    const date = p.words('Date', { left: 0.05, top: 0.2, width: 0.08, height: 0.02 });
    const when = p.words('2024-01-31', { left: 0.15, top: 0.2, width: 0.15, height: 0.02 });
    p.lineOf([...date, ...when], 'Date 2024-01-31', { left: 0.05, top: 0.2, width: 0.25, height: 0.02 });
    p.keyValue(date, when, true);
    const ref = p.words('Ref:', { left: 0.05, top: 0.25, width: 0.06, height: 0.02 });
    const code = p.words('A-1', { left: 0.12, top: 0.25, width: 0.06, height: 0.02 });
    const rest = p.words('Page 2', { left: 0.6, top: 0.25, width: 0.1, height: 0.02 });
    p.lineOf([...ref, ...code, ...rest], 'Ref: A-1 Page 2', {
      left: 0.05,
      top: 0.25,
      width: 0.65,
      height: 0.02,
    });
    p.keyValue(ref, code);
    expect(text(p.blocks)).toBe('Name: John Smith\nMarried: [x]\nDate: 2024-01-31\nRef: A-1  Page 2');
    expectAllWords(p.blocks);
  });

  it('returns [x] and [ ] where the boxes sit: among a line’s words, in cells, or alone', () => {
    const p = new PageBuilder();
    p.line('Yes No', 0.1, 0.1, 0.25);
    p.mark(true, { left: 0.07, top: 0.1, width: 0.02, height: 0.02 });
    p.mark(false, { left: 0.2, top: 0.1, width: 0.02, height: 0.02 });
    const agree = p.words('Agree', { left: 0.1, top: 0.2, width: 0.1, height: 0.02 });
    p.lineOf(agree, 'Agree', { left: 0.1, top: 0.2, width: 0.1, height: 0.02 });
    const tick = p.mark(true, { left: 0.45, top: 0.2, width: 0.02, height: 0.02 });
    p.table(
      [
        p.cell(1, 1, agree, { left: 0.1, top: 0.19, width: 0.3, height: 0.04 }),
        p.cell(1, 2, [tick], { left: 0.4, top: 0.19, width: 0.3, height: 0.04 }),
      ],
      [],
      { left: 0.1, top: 0.19, width: 0.6, height: 0.04 },
    );
    p.line('Subscribe', 0.1, 0.3, 0.2);
    p.mark(false, { left: 0.6, top: 0.3, width: 0.02, height: 0.02 });
    expect(text(p.blocks)).toBe('[x] Yes [ ] No\n| Agree | [x] |\n| --- | --- |\nSubscribe  [ ]');
  });

  it('returns answered queries after the page text and a signature where it sits', () => {
    const p = new PageBuilder();
    p.line('Invoice INV-1', 0.1, 0.1, 0.3);
    p.line('Signed:', 0.1, 0.5, 0.1);
    p.raw({
      BlockType: 'SIGNATURE',
      Id: 'sig',
      Geometry: geometry({ left: 0.3, top: 0.5, width: 0.2, height: 0.02 }),
    });
    p.raw({ BlockType: 'QUERY_RESULT', Id: 'ans', Text: 'INV-1' });
    const q = p.raw({ BlockType: 'QUERY', Id: 'q1', Relationships: [{ Type: 'ANSWER', Ids: ['ans'] }] });
    Object.assign(q, { Query: { Text: 'What is the invoice number?', Alias: 'invoice number' } });
    const unanswered = p.raw({ BlockType: 'QUERY', Id: 'q2' });
    Object.assign(unanswered, { Query: { Text: 'Who paid?' } });
    expect(text(p.blocks)).toBe('Invoice INV-1\nSigned:  [signature]\nQ: invoice number A: INV-1');
  });
});

describe('Function: linearizePages (tolerance)', () => {
  it('returns every word despite orphan ids, missing pages, unknown types and junk fields', () => {
    const p = new PageBuilder(undefined);
    p.raw({
      BlockType: 'LINE',
      Id: 'l1',
      Text: 'Hello World',
      Relationships: [{ Type: 'CHILD', Ids: ['gone1', 'gone2'] }],
    });
    const partial = p.raw({
      BlockType: 'WORD',
      Id: 'wp',
      Text: 'Partial',
      Geometry: geometry({ left: 0.1, top: 0.2, width: 0.1, height: 0.02 }),
    });
    p.raw({
      BlockType: 'LINE',
      Id: 'l2',
      Text: 'Partial line',
      Relationships: [{ Type: 'CHILD', Ids: [partial.Id ?? '', 'gone3'] }],
    });
    p.raw({
      BlockType: 'WORD',
      Id: 'lonely',
      Text: 'Lonely',
      Geometry: geometry({ left: 0.1, top: 0.3, width: 0.1, height: 0.02 }),
    });
    p.raw({
      BlockType: 'WORD',
      Id: 'cw',
      Text: 'Cell',
      Geometry: geometry({ left: 0.1, top: 0.4, width: 0.1, height: 0.02 }),
    });
    p.raw({
      BlockType: 'CELL',
      Id: 'c1',
      RowIndex: 1,
      ColumnIndex: 1,
      Relationships: [{ Type: 'CHILD', Ids: ['cw'] }],
    });
    p.raw({ BlockType: 'CELL', Id: 'c2', Relationships: [{ Type: 'CHILD', Ids: ['gone4'] }] });
    p.raw({ BlockType: 'MERGED_CELL', Id: 'm1', Relationships: [{ Type: 'CHILD', Ids: ['gone5'] }] });
    p.raw({
      BlockType: 'TABLE',
      Id: 't1',
      Relationships: [
        { Type: 'CHILD', Ids: ['c1', 'c2', 'gone6'] },
        { Type: 'MERGED_CELL', Ids: ['m1', 'gone7'] },
      ],
    });
    const keyWord = p.raw({
      BlockType: 'WORD',
      Id: 'kw',
      Text: 'Remarks',
      Geometry: geometry({ left: 0.1, top: 0.5, width: 0.1, height: 0.02 }),
    });
    p.raw({
      BlockType: 'KEY_VALUE_SET',
      EntityTypes: ['KEY'],
      Id: 'k1',
      Relationships: [
        { Type: 'VALUE', Ids: ['gone8'] },
        { Type: 'CHILD', Ids: [keyWord.Id ?? ''] },
      ],
    });
    p.raw({
      BlockType: 'SOMETHING_NEW',
      Id: 'x1',
      Text: 'not a word',
      Relationships: [{ Type: 'CHILD', Ids: ['wp'] }],
    });
    const junk = [
      null,
      42,
      'text',
      [],
      { BlockType: 7, Id: 3, Text: ['x'], Geometry: { BoundingBox: 'bad', Polygon: [null, { X: 'a' }] } },
      {
        BlockType: 'WORD',
        Id: 'odd',
        Text: 'Odd',
        Page: 'two',
        Relationships: 'none',
        Geometry: { BoundingBox: { Left: '0.1' } },
      },
      { BlockType: 'LINE', Id: 'l3', Relationships: [null, { Type: 'CHILD', Ids: [null, 5, 'odd'] }] },
      { BlockType: 'WORD', Id: 'wp', Text: 'duplicate id is ignored' },
    ];
    const blocks = [...p.blocks, ...(junk as unknown as Block[])];
    const pages = renderPages(blocks);
    expect(pages.map((x) => x.page)).toEqual([1]);
    const out = pages[0]?.text ?? '';
    for (const t of ['Hello World', 'Partial line', 'Lonely', '| Cell |', 'Remarks', 'Odd'])
      expect(out).toContain(t);
    expect(out).not.toContain('duplicate');
    expect(out).not.toContain('not a word');
    expect(() => linearize(blocks)).not.toThrow();
    expect(linearizePages([])).toEqual([]);
  });

  it('returns every cell’s words when table indices collide or a merged cell overreaches', () => {
    const p = new PageBuilder();
    const cellOf = (t: string, row: number, col: number): Block =>
      p.cell(row, col, p.words(t, { left: 0.1 * col, top: 0.1 * row, width: 0.05, height: 0.02 }), {
        left: 0.1 * col,
        top: 0.1 * row,
        width: 0.1,
        height: 0.1,
      });
    const cells = [cellOf('Alpha', 1, 1), cellOf('Beta', 1, 1), cellOf('Gamma', 1, 2), cellOf('Delta', 2, 1)];
    // Claims the whole table but lists only Delta's cell: it may not overwrite the others.
    const merged = p.mergedCell(1, 1, [2, 2], [cells[3] as Block]);
    p.table(cells, [merged], { left: 0.1, top: 0.1, width: 0.2, height: 0.2 });
    expect(text(p.blocks)).toBe('| Alpha Beta | Gamma |\n| --- | --- |\n| Delta |  |');
  });

  it('returns all words when random damage is done to a realistic page', () => {
    let seed = 7;
    const random = (): number => {
      // mulberry32: a fixed seed keeps the damage the same on every run.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    for (let round = 0; round < 25; round++) {
      const base = tableFixture().blocks;
      const damaged = (structuredClone(base) as Block[]).map((b) => {
        const r = random();
        if (r < 0.1) delete b.Geometry;
        else if (r < 0.15) delete b.Relationships;
        else if (r < 0.2)
          b.Relationships = [{ Type: 'CHILD', Ids: ['missing', ...(b.Relationships?.[0]?.Ids ?? [])] }];
        else if (r < 0.25 && b.BlockType !== 'WORD') b.BlockType = 'UNKNOWN';
        else if (r < 0.28) b.Page = -1;
        else if (r < 0.3) b.RowIndex = 9999;
        return b;
      });
      const pages = renderPages(damaged);
      expect(wordRecall(damaged, pages).missing).toEqual([]);
    }
  });
});

describe('Function: linearizePages (scale)', () => {
  it('returns a 12,000-block, 5-page document in well under a second', () => {
    const blocks: Block[] = [];
    for (let page = 1; page <= 5; page++) {
      const p = new PageBuilder(page);
      for (let i = 0; i < 300; i++) {
        const top = 0.02 + (i % 150) * 0.0064;
        const left = i < 150 ? 0.05 : 0.55;
        p.line(`line ${i} of page ${page} with words`, left, top, 0.4, 0.005);
      }
      blocks.push(...p.blocks);
    }
    expect(blocks.length).toBe(12_000);
    const start = performance.now();
    const pages = linearizePages(blocks);
    const ms = performance.now() - start;
    expect(pages).toHaveLength(5);
    expect(pages[0]?.text.split('\n').slice(149, 151)).toEqual([
      'line 149 of page 1 with words',
      'line 150 of page 1 with words',
    ]);
    expect(wordRecall(blocks, pages).missing).toEqual([]);
    expect(ms).toBeLessThan(1500);
  });
});

function corpusFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return corpusFiles(path);
      return name.endsWith('.json') ? [path] : [];
    });
}

describe('Function: linearizeResponse (Textract corpus)', () => {
  const present = existsSync(CORPUS);
  if (!present) console.warn(`Textract corpus not found at ${CORPUS}: corpus tests skipped`);

  it.skipIf(!present)('returns every WORD of every real response (word recall 1.0), without crashing', () => {
    const files = corpusFiles(CORPUS);
    expect(files.length).toBeGreaterThan(0);
    const lines: string[] = [];
    let words = 0;
    let found = 0;
    for (const file of files) {
      const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
      const start = performance.now();
      const blocks = collectBlocks(json as TextractInput);
      // The strict renderer: a bug must fail here, not hide behind linearizePages' fallback.
      const pages = renderPages(blocks);
      const ms = performance.now() - start;
      const r = wordRecall(blocks, pages);
      words += r.words;
      found += r.found;
      const recall = r.words === 0 ? 1 : r.found / r.words;
      lines.push(
        `${relative(CORPUS, file)}: ${r.words} words, recall ${recall.toFixed(3)}, ${ms.toFixed(0)} ms${r.missing.length ? `, missing ${r.missing.slice(0, 5).join(' ')}` : ''}`,
      );
      expect(r.missing, file).toEqual([]);
      expect(linearizeResponse(json as TextractInput)).toBe(linearize(blocks));
      if (blocks.length === 0) expect(pages).toEqual([]);
    }
    console.log(
      `textract corpus: ${files.length} files, ${words} words, recall ${(found / Math.max(words, 1)).toFixed(4)}\n  ${lines.join('\n  ')}`,
    );
  });

  it.skipIf(!present)('returns empty text for IN_PROGRESS and FAILED jobs', () => {
    for (const name of ['test-inprogress-response.json', 'test-failed-response.json']) {
      const json = JSON.parse(readFileSync(join(CORPUS, 'trp/job-status', name), 'utf8')) as TextractInput;
      expect(linearizeResponse(json)).toBe('');
    }
  });

  it.skipIf(!present)('returns two-column pages column by column', () => {
    const read = (path: string): string =>
      linearizeResponse(JSON.parse(readFileSync(join(CORPUS, path), 'utf8')) as TextractInput);
    const multicol = read('trp/multicol/test-multicol-response.json');
    expect(multicol.indexOf('right.')).toBeLessThan(multicol.indexOf('A horizontally separate right'));
    expect(multicol.indexOf('it after the left column')).toBeLessThan(
      multicol.indexOf('A final footer section'),
    );
    const twocol = read('trp/twocol-header-footer/test-twocol-header-footer-response.json');
    expect(twocol.indexOf('ML model-based approaches may be appropriate.')).toBeLessThan(
      twocol.indexOf('The Amazon Textract Response Parser aims to'),
    );
    expect(twocol).toContain(
      'When a section of (LTR) text is presented in two\ncolumns, the intended reading order',
    );
  });

  it.skipIf(!present)(
    'returns the sample table, key-values and checkboxes of the Textractor test page',
    () => {
      const path = join(CORPUS, 'textractor/single-page-1/test_textractor_analyze_document.json');
      const out = linearizeResponse(JSON.parse(readFileSync(path, 'utf8')) as TextractInput);
      expect(out).toContain(
        [
          '| Cell 1 | Cell 2 | Cell 2 | Cell 4 | Cell 5 |',
          '| --- | --- | --- | --- | --- |',
          '| Cell 6 | Cell 7 | Cell 8 | Cell 9 | Cell 10 |',
          '| Cell 11 | Cell 12 | Cell 13 | Cell 14 | Cell 15 |',
        ].join('\n'),
      );
      expect(out).toContain('Name of package: Textractor');
      expect(out).toContain('Selected Checkbox: [x]\nUn-Selected Checkbox: [ ]');
    },
  );

  it.skipIf(!present)('returns layout headers first and the page number last', () => {
    const path = join(CORPUS, 'trp/financial-document/financial-document-response.json');
    const out = linearizeResponse(JSON.parse(readFileSync(path, 'utf8')) as TextractInput, {
      queries: false,
    });
    expect(out.split('\n').slice(0, 3)).toEqual([
      '--- page 1 ---',
      'IV. Administered Accounts',
      'At October 31, 2021 and for the six months then ended',
    ]);
    expect(out.split('\n').at(-1)).toBe('57');
  });
});
