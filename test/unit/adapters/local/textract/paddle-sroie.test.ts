/**
 * Character accuracy of the PP-OCR engine on real scanned receipts (SROIE), against the corpus's
 * own line transcriptions (box/NNN.csv: eight corner coordinates, then the text). The five
 * receipts are ones tesseract reads worst (character accuracy 0.68–0.94 by the same measure).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PositionedLine } from '../../../../../src/adapters/documents/blocks.ts';
import { PageRenderer } from '../../../../../src/adapters/documents/mupdf-reader.ts';
import { PaddleOcr } from '../../../../../src/adapters/local/textract/paddle-ocr.ts';

const SROIE = join(import.meta.dirname, '../../../../../../shared/corpora/sroie');
const RECEIPTS = ['001', '003', '017', '027', '028'];
const present = RECEIPTS.every(
  (id) => existsSync(join(SROIE, 'img', `${id}.jpg`)) && existsSync(join(SROIE, 'box', `${id}.csv`)),
);
if (!present) console.warn(`SKIPPED SROIE OCR accuracy test: corpus not found at ${SROIE}`);

const compact = (s: string) => s.toUpperCase().replace(/\s+/g, '');

/** The least edit distance between `pattern` and any substring of `text`. */
function substringDistance(pattern: string, text: string): number {
  let previous = Array.from({ length: pattern.length + 1 }, (_, i) => i);
  let best = pattern.length;
  for (const c of text) {
    const current = [0];
    for (let i = 1; i <= pattern.length; i++) {
      const substitute = (previous[i - 1] ?? 0) + (pattern[i - 1] === c ? 0 : 1);
      current.push(Math.min(substitute, (previous[i] ?? 0) + 1, (current[i - 1] ?? 0) + 1));
    }
    best = Math.min(best, current[pattern.length] ?? best);
    previous = current;
  }
  return best;
}

/**
 * OCR lines joined into printed rows (vertical overlap above half the shorter line): a receipt's
 * label and amount are one transcription line but two detected regions.
 */
function rows(lines: readonly PositionedLine[]): string[] {
  const boxed = lines.map((l) => ({
    text: l.words.map((w) => w.text).join(' '),
    left: Math.min(...l.words.map((w) => w.box.left)),
    top: Math.min(...l.words.map((w) => w.box.top)),
    bottom: Math.max(...l.words.map((w) => w.box.bottom)),
  }));
  const out: { top: number; bottom: number; items: typeof boxed }[] = [];
  for (const line of boxed.sort((a, b) => a.top + a.bottom - (b.top + b.bottom))) {
    const row = out.find(
      (r) =>
        Math.min(r.bottom, line.bottom) - Math.max(r.top, line.top) >
        0.5 * Math.min(line.bottom - line.top, r.bottom - r.top),
    );
    if (row) {
      row.items.push(line);
      row.top = Math.min(row.top, line.top);
      row.bottom = Math.max(row.bottom, line.bottom);
    } else out.push({ top: line.top, bottom: line.bottom, items: [line] });
  }
  return out.map((r) =>
    r.items
      .sort((a, b) => a.left - b.left)
      .map((i) => i.text)
      .join(' '),
  );
}

/** Mean over the transcription's lines of 1 − (edit distance to the best-matching row) / length, spaces ignored. */
function characterAccuracy(truth: readonly string[], lines: readonly PositionedLine[]): number {
  const read = rows(lines).map(compact);
  const scores = truth.map(compact).map((t) => {
    const distance = Math.min(t.length, ...read.map((r) => substringDistance(t, r)));
    return t.length > 0 ? 1 - distance / t.length : 1;
  });
  return scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
}

describe.skipIf(!present)('Function: PaddleOcr on scanned receipts (SROIE)', () => {
  const engine = new PaddleOcr();
  afterAll(async () => {
    await engine.terminate();
  });

  it('returns ≥ 0.95 mean character accuracy against the receipts’ transcriptions, ≥ 0.92 on each', async () => {
    const accuracy: Record<string, number> = {};
    const started = Date.now();
    for (const id of RECEIPTS) {
      // Prepare
      const truth = (await readFile(join(SROIE, 'box', `${id}.csv`), 'utf8'))
        .split(/\r?\n/)
        .filter((l) => l.trim() !== '')
        .map((l) => l.split(',').slice(8).join(','));
      const renderer = new PageRenderer(await readFile(join(SROIE, 'img', `${id}.jpg`)), 'image/jpeg');
      // Act
      let lines: PositionedLine[];
      try {
        lines = await engine.readImage(renderer.renderGrayForOcr(0, undefined, { enlarge: false }));
      } finally {
        renderer.close();
      }
      accuracy[id] = characterAccuracy(truth, lines);
    }
    // Assess
    const values = Object.values(accuracy);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    console.log(
      `PaddleOcr SROIE: ${RECEIPTS.length} receipts in ${Date.now() - started} ms, character accuracy ${mean.toFixed(3)}`,
      accuracy,
    );
    expect(mean).toBeGreaterThanOrEqual(0.95);
    for (const value of values) expect(value).toBeGreaterThanOrEqual(0.92);
  });
});
