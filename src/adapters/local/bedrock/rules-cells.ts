/**
 * Cells of a printed row for the offline rules model. Linearizers put what sits side by side
 * on one visual row onto one text line, and mark the gaps between blocks with runs of two or
 * more spaces (`Sheffield S3 8AB  Invoice Number:  INV-2041`); Markdown table rows mark them
 * with `|`; footers separate items with ` | `. A cell is one such block: the unit a label, a
 * value or a name occupies. Single spaces never separate cells, so text joined word by word
 * (OCR lines, `Key: value` lines) stays one cell and reads exactly as before.
 */

export interface Cell {
  text: string;
  /** Offsets of the trimmed cell text in the line. */
  start: number;
  end: number;
}

/** Cells of a Markdown table row (`| a | b |`), or undefined for any other line. */
export function markdownCells(line: string): string[] | undefined {
  if (!line.startsWith('|') || !line.endsWith('|') || line.length < 3) return undefined;
  return line
    .slice(1, -1)
    .split('|')
    .map((c) => c.trim());
}

// Two or more spaces, a tab, or a pipe with a space on both sides (`Tel: 0114 | Fax: 0115`).
const GAP_RE = /\s{2,}|\t|\s\|\s/g;

export function splitCells(line: string): Cell[] {
  const cells: Cell[] = [];
  const push = (start: number, end: number): void => {
    let s = start;
    let e = end;
    while (s < e && /\s/.test(line[s] ?? '')) s++;
    while (e > s && /\s/.test(line[e - 1] ?? '')) e--;
    // Empty Markdown cells keep their place: column positions are what tables are read by.
    cells.push({ text: line.slice(s, e), start: s, end: e });
  };
  if (markdownCells(line)) {
    let from = 1;
    for (let i = 1; i < line.length; i++) {
      if (line[i] === '|' && line[i - 1] !== '\\') {
        push(from, i);
        from = i + 1;
      }
    }
    return cells;
  }
  let from = 0;
  for (const m of line.matchAll(GAP_RE)) {
    if (m.index > from) push(from, m.index);
    from = m.index + m[0].length;
  }
  if (from < line.length) push(from, line.length);
  return cells.filter((c) => c.text.length > 0);
}

/** Index of the cell holding offset `pos` (or the first cell after it). */
export function cellIndexAt(cells: readonly Cell[], pos: number): number {
  const i = cells.findIndex((c) => pos < c.end);
  return i < 0 ? cells.length - 1 : i;
}

/**
 * A cell that reads as a key rather than a value: it ends with a colon (`Payment Terms:`),
 * or it holds letters but no digit at all (`Subtotal`, `Currency`). Values on business
 * documents nearly always carry a digit (amounts, dates, ids) — names are the exception, and
 * the callers that read names check for keys by colon only.
 */
export function isKeyCell(text: string): boolean {
  const t = text.trim();
  if (/:$/.test(t)) return true;
  return /\p{L}/u.test(t) && !/\p{N}/u.test(t);
}
