/**
 * Prepares evaluation inputs from ../shared/corpora that the corpora do not ship as such.
 *
 *   node eval/corpus.ts sroie-transcribed <out-dir> [corpus-dir]
 *
 * writes `<out-dir>/NNN.pdf` for every SROIE receipt: a page of the receipt image's size in points
 * whose text layer is SROIE's own line transcription (`box/NNN.csv`) at each line's position. Run
 * through docbatch, these are read from their text layer, with no OCR: the rules model's score on
 * them, next to its score on the scanned images, tells extraction errors from OCR errors.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PDFDocument, type PDFFont, StandardFonts } from 'pdf-lib';
import { imageSize } from '../src/core/image-size.ts';

interface Line {
  left: number;
  right: number;
  top: number;
  bottom: number;
  text: string;
}

/** `x1,y1,x2,y2,x3,y3,x4,y4,text` (the text may hold commas) → the line's box and text. */
function parseBoxLine(row: string): Line | undefined {
  const parts = row.split(',');
  if (parts.length < 9) return undefined;
  const n = parts.slice(0, 8).map(Number);
  if (n.some((v) => !Number.isFinite(v))) return undefined;
  const xs = [n[0], n[2], n[4], n[6]] as number[];
  const ys = [n[1], n[3], n[5], n[7]] as number[];
  const text = parts.slice(8).join(',').trim();
  return text
    ? { left: Math.min(...xs), right: Math.max(...xs), top: Math.min(...ys), bottom: Math.max(...ys), text }
    : undefined;
}

/** Helvetica's WinAnsi encoding has no glyph for some characters: those become `?` rather than fail. */
function drawable(font: PDFFont, text: string): string {
  return [...text]
    .map((c) => {
      try {
        font.encodeText(c);
        return c;
      } catch {
        return '?';
      }
    })
    .join('');
}

async function sroieTranscribed(out: string, corpus: string): Promise<number> {
  const boxes = (await readdir(join(corpus, 'box'))).filter((f) => f.endsWith('.csv')).sort();
  for (const name of boxes) {
    const stem = name.slice(0, -'.csv'.length);
    const size = imageSize(new Uint8Array(await readFile(join(corpus, 'img', `${stem}.jpg`))));
    if (!size) throw new Error(`cannot read the size of img/${stem}.jpg`);
    const doc = await PDFDocument.create();
    const font = await doc.embedFont(StandardFonts.Helvetica);
    const page = doc.addPage([size.width, size.height]);
    const rows = (await readFile(join(corpus, 'box', name), 'utf8')).split(/\r?\n/);
    for (const line of rows.map(parseBoxLine)) {
      if (!line) continue;
      const height = Math.max(4, line.bottom - line.top);
      const text = drawable(font, line.text);
      // Helvetica is wider than most receipt fonts: shrink a line to its box so it stays on the page.
      const fit = (Math.max(1, line.right - line.left) / font.widthOfTextAtSize(text, 1)) * 0.98;
      page.drawText(text, {
        x: line.left,
        y: size.height - line.bottom + height * 0.2,
        size: Math.min(height * 0.8, fit),
        font,
      });
    }
    await mkdir(out, { recursive: true });
    await writeFile(join(out, `${stem}.pdf`), await doc.save());
  }
  return boxes.length;
}

const [command, out, corpus] = process.argv.slice(2);
if (command === 'sroie-transcribed' && out) {
  const n = await sroieTranscribed(
    out,
    corpus ?? new URL('../../shared/corpora/sroie', import.meta.url).pathname,
  );
  process.stdout.write(`wrote ${n} PDFs to ${out}\n`);
} else {
  process.stderr.write('usage: node eval/corpus.ts sroie-transcribed <out-dir> [sroie-corpus-dir]\n');
  process.exitCode = 1;
}
