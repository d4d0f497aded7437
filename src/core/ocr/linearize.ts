import type { Block, TextractGetResponse } from './textract.ts';

export interface PageText {
  page: number;
  text: string;
}

function top(b: Block): number {
  return b.Geometry?.BoundingBox?.Top ?? 0;
}

function left(b: Block): number {
  return b.Geometry?.BoundingBox?.Left ?? 0;
}

function height(b: Block): number {
  return b.Geometry?.BoundingBox?.Height ?? 0;
}

/** Accepts one Get response, a list of Get pages (async output), or a bare block list. */
export function collectBlocks(input: TextractGetResponse | TextractGetResponse[] | Block[]): Block[] {
  if (!Array.isArray(input)) return input.Blocks ?? [];
  if (input.length > 0 && 'BlockType' in (input[0] as object)) return input as Block[];
  return (input as TextractGetResponse[]).flatMap((page) => page.Blocks ?? []);
}

/**
 * Blocks → text per page, lines in reading order (top to bottom; lines whose vertical centres
 * are within half a line height are one visual row, read left to right).
 */
export function linearizePages(blocks: readonly Block[]): PageText[] {
  const byPage = new Map<number, Block[]>();
  for (const b of blocks) {
    if (b.BlockType !== 'LINE' || !b.Text) continue;
    const page = b.Page ?? 1;
    let list = byPage.get(page);
    if (!list) {
      list = [];
      byPage.set(page, list);
    }
    list.push(b);
  }
  const pages = [...byPage.keys()].sort((a, b) => a - b);
  return pages.map((page) => {
    const lines = (byPage.get(page) ?? []).slice().sort((a, b) => top(a) - top(b) || left(a) - left(b));
    const rows: Block[][] = [];
    for (const line of lines) {
      const row = rows.at(-1);
      const first = row?.[0];
      const centre = top(line) + height(line) / 2;
      if (
        row &&
        first &&
        Math.abs(top(first) + height(first) / 2 - centre) < Math.max(height(first), height(line)) / 2
      ) {
        row.push(line);
      } else {
        rows.push([line]);
      }
    }
    const text = rows
      .map((row) =>
        row
          .sort((a, b) => left(a) - left(b))
          .map((l) => l.Text)
          .join('  '),
      )
      .join('\n');
    return { page, text };
  });
}

export function linearize(blocks: readonly Block[]): string {
  return linearizePages(blocks)
    .map((p) => `--- page ${p.page} ---\n${p.text}`)
    .join('\n');
}
