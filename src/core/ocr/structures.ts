/**
 * Renders Textract's structures as text: TABLE → Markdown table, KEY_VALUE_SET → `key: value`,
 * SELECTION_ELEMENT → `[x]` / `[ ]`, QUERY → `Q: … A: …`.
 *
 * Each renderer reports the WORD and SELECTION_ELEMENT blocks it printed so the page renderer
 * can leave them out of the loose lines: a word is printed exactly once, by whichever structure
 * claims it first, and anything no structure printed falls back to its line.
 */
import { type BlockIndex, type Box, isObject, str, textOf, typeOf, unionBoxes } from './block-index.ts';
import type { Block } from './textract.ts';

export interface Rendered {
  text: string;
  box: Box | undefined;
  /** WORD / SELECTION_ELEMENT blocks printed in `text`. */
  consumed: Block[];
}

export function markText(b: Block): string {
  return str(b.SelectionStatus) === 'SELECTED' ? '[x]' : '[ ]';
}

function isContent(b: Block): boolean {
  const t = typeOf(b);
  return (t === 'WORD' && textOf(b) !== undefined) || t === 'SELECTION_ELEMENT';
}

function tokenOf(b: Block): string {
  return typeOf(b) === 'SELECTION_ELEMENT' ? markText(b) : (textOf(b) ?? '');
}

/**
 * Words in the order given (Textract lists a cell's or a value's words in reading order), with
 * selection marks moved to where they sit among them: Textract lists marks before or after the
 * words arbitrarily, and `[x] Yes [ ] No` only means something with each mark by its word.
 */
export function arrange(index: BlockIndex, blocks: readonly Block[]): Block[] {
  const words = blocks.filter((b) => typeOf(b) !== 'SELECTION_ELEMENT');
  const marks = blocks.filter((b) => typeOf(b) === 'SELECTION_ELEMENT');
  if (marks.length === 0 || words.length === 0) return blocks.slice();
  const out = words.slice();
  for (const mark of marks) {
    const mb = index.box(mark);
    if (!mb) {
      out.push(mark);
      continue;
    }
    out.splice(insertionPoint(index, out, mb), 0, mark);
  }
  return out;
}

/** Where a mark with box `mb` goes among `tokens`: before the first token to its right on its row. */
export function insertionPoint(index: BlockIndex, tokens: readonly Block[], mb: Box): number {
  let lastOnRow = -1;
  let firstBelow = -1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const tb = t ? index.box(t) : undefined;
    if (!tb) continue;
    const overlap = Math.min(tb.bottom, mb.bottom) - Math.max(tb.top, mb.top);
    const onRow = overlap >= 0.3 * Math.min(tb.bottom - tb.top, mb.bottom - mb.top);
    if (onRow) {
      if (tb.left >= mb.left) return i;
      lastOnRow = i;
    } else if (firstBelow < 0 && tb.top >= mb.bottom) {
      firstBelow = i;
    }
  }
  if (lastOnRow >= 0) return lastOnRow + 1;
  return firstBelow >= 0 ? firstBelow : tokens.length;
}

export function joinTokens(blocks: readonly Block[]): string {
  return blocks
    .map(tokenOf)
    .filter((t) => t.length > 0)
    .join(' ');
}

function contentOf(index: BlockIndex, b: Block, claimed: ReadonlySet<Block>): Block[] {
  return index.related(b, 'CHILD').filter((c) => isContent(c) && !claimed.has(c));
}

function escapeCell(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');
}

function positiveInt(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : fallback;
}

// Past this a "table" is corrupt indices, not a table: its words are left to the loose lines.
const MAX_TABLE_CELLS = 250_000;

interface Span {
  row: number;
  col: number;
  rowSpan: number;
  colSpan: number;
}

function spanOf(b: Block, fallback: Span): Span {
  return {
    row: positiveInt(b.RowIndex, fallback.row),
    col: positiveInt(b.ColumnIndex, fallback.col),
    rowSpan: positiveInt(b.RowSpan, fallback.rowSpan),
    colSpan: positiveInt(b.ColumnSpan, fallback.colSpan),
  };
}

/** One grid position: its text and the CELL or MERGED_CELL that wrote it. */
interface Slot {
  text: string;
  owner: Block | undefined;
}

/**
 * A TABLE as a Markdown table: a row per line, a header rule after the first row, a merged
 * cell's text repeated in every position it spans (except a full-width span, printed once in
 * the first column), rows and columns with no text left out. Undefined when the table has no
 * text to show.
 *
 * Bad indices never cost a word: two cells claiming one position share it, and a merged cell
 * only overwrites the cells it lists as its children (whose text it carries).
 */
export function renderTable(
  index: BlockIndex,
  table: Block,
  claimed: ReadonlySet<Block>,
): Rendered | undefined {
  const consumed: Block[] = [];
  const taken = new Set<Block>();
  const cells: { block: Block; span: Span; text: string }[] = [];
  let rows = 0;
  let cols = 0;
  for (const cell of index.related(table, 'CHILD')) {
    if (typeOf(cell) !== 'CELL') continue;
    const span = spanOf(cell, { row: 0, col: 0, rowSpan: 1, colSpan: 1 });
    // A cell with no position cannot be placed: its words stay with the loose lines.
    if (span.row === 0 || span.col === 0) continue;
    const content = arrange(
      index,
      contentOf(index, cell, claimed).filter((c) => !taken.has(c)),
    );
    for (const c of content) {
      taken.add(c);
      consumed.push(c);
    }
    cells.push({ block: cell, span, text: escapeCell(joinTokens(content)) });
    rows = Math.max(rows, span.row + span.rowSpan - 1);
    cols = Math.max(cols, span.col + span.colSpan - 1);
  }
  if (consumed.length === 0 || rows * cols > MAX_TABLE_CELLS) return undefined;

  const grid: Slot[][] = Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => ({ text: '', owner: undefined })),
  );
  for (const { block, span, text } of cells) {
    for (let r = span.row; r < span.row + span.rowSpan; r++) {
      for (let c = span.col; c < span.col + span.colSpan; c++) {
        const slot = grid[r - 1]?.[c - 1];
        if (!slot) continue;
        if (slot.text && slot.owner !== block) {
          // Shared by two cells: owned by the table, so no merged cell overwrites either text.
          if (text) Object.assign(slot, { text: `${slot.text} ${text}`, owner: table });
        } else {
          Object.assign(slot, { text, owner: block });
        }
      }
    }
  }

  const cellTexts = new Map(cells.map((c) => [c.block, c.text]));
  for (const merged of index.related(table, 'MERGED_CELL')) {
    const children = index.related(merged, 'CHILD').filter((c) => cellTexts.has(c));
    if (children.length === 0) continue;
    const own = new Set<Block>(children);
    children.sort(
      (a, b) =>
        positiveInt(a.RowIndex, 0) - positiveInt(b.RowIndex, 0) ||
        positiveInt(a.ColumnIndex, 0) - positiveInt(b.ColumnIndex, 0),
    );
    const first = children[0] as Block;
    const span = spanOf(merged, spanOf(first, { row: 1, col: 1, rowSpan: 1, colSpan: 1 }));
    const text = children
      .map((c) => cellTexts.get(c) ?? '')
      .filter((t) => t.length > 0)
      .join(' ');
    // A span over the whole width is a section title: once per row is enough, where a reader
    // looks first. Narrower spans repeat so each column keeps its header or its group.
    const once = cols > 1 && span.col === 1 && span.colSpan >= cols;
    for (let r = span.row; r < span.row + span.rowSpan; r++) {
      let written = false;
      for (let c = span.col; c < span.col + span.colSpan; c++) {
        const slot = grid[r - 1]?.[c - 1];
        if (!slot || (slot.owner !== undefined && !own.has(slot.owner))) continue;
        slot.text = once && written ? '' : text;
        slot.owner = merged;
        written = true;
      }
    }
  }

  const keepCols: number[] = [];
  for (let c = 0; c < cols; c++) if (grid.some((line) => (line[c]?.text ?? '') !== '')) keepCols.push(c);
  const lines = grid
    .filter((line) => line.some((slot) => slot.text !== ''))
    .map((line) => `| ${keepCols.map((c) => line[c]?.text ?? '').join(' | ')} |`);
  if (lines.length === 0) return undefined;
  lines.splice(1, 0, `| ${keepCols.map(() => '---').join(' | ')} |`);
  const box =
    index.box(table) ??
    unionBoxes(cells.map((c) => index.box(c.block))) ??
    unionBoxes(consumed.map((c) => index.box(c)));
  return { text: lines.join('\n'), box, consumed };
}

/** A KEY block: `KEY_VALUE_SET` with EntityTypes KEY, or the `KEY` block type some producers emit. */
export function isKey(b: Block, entities: readonly string[]): boolean {
  const t = typeOf(b);
  if (t === 'KEY') return true;
  if (t !== 'KEY_VALUE_SET') return false;
  if (entities.includes('KEY')) return true;
  return !entities.includes('VALUE') && b.Relationships !== undefined && hasValueLink(b);
}

function hasValueLink(b: Block): boolean {
  return (
    Array.isArray(b.Relationships) &&
    (b.Relationships as unknown[]).some((r) => isObject(r) && r['Type'] === 'VALUE')
  );
}

/**
 * A key-value pair as `key: value` on one line (`key value` when the key already ends in a
 * colon). Undefined when part of it was printed already (inside a table, usually): then the
 * table's rendering stands and any leftover words fall back to their lines.
 */
export function renderKeyValue(
  index: BlockIndex,
  key: Block,
  claimed: ReadonlySet<Block>,
): Rendered | undefined {
  const keyAll = index.related(key, 'CHILD').filter(isContent);
  const values = index.related(key, 'VALUE');
  const valueAll = values.flatMap((v) => index.related(v, 'CHILD').filter(isContent));
  const all = [...keyAll, ...valueAll];
  if (all.length === 0 || all.some((b) => claimed.has(b))) return undefined;
  if (new Set(all).size !== all.length) return undefined;
  const keyText = joinTokens(arrange(index, keyAll));
  const valueText = joinTokens(arrange(index, valueAll));
  let text: string;
  if (!keyText) text = valueText;
  // An empty value adds nothing: the key prints as on the page (many are not keys at all).
  else if (!valueText) text = keyText;
  else text = keyText.endsWith(':') ? `${keyText} ${valueText}` : `${keyText}: ${valueText}`;
  const box =
    unionBoxes(all.map((b) => index.box(b))) ?? unionBoxes([key, ...values].map((b) => index.box(b)));
  return { text, box, consumed: all };
}

/** `Q: <alias or question> A: <answers>` for a QUERY with at least one answer. */
export function renderQuery(index: BlockIndex, query: Block): string | undefined {
  const q = (query as Block & { Query?: unknown }).Query;
  const spec = isObject(q) ? q : {};
  const question = str(spec['Alias'])?.trim() || str(spec['Text'])?.trim() || textOf(query);
  const answers = index
    .related(query, 'ANSWER')
    .map((a) => textOf(a))
    .filter((t): t is string => t !== undefined);
  if (answers.length === 0) return undefined;
  return `Q: ${question ?? '?'} A: ${answers.join(' | ')}`.replace(/\s+/g, ' ');
}
