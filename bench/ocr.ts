/**
 * OCR benchmark: fidelity of the offline Textract stand-in against real Textract, and throughput
 * of both text paths on this machine.
 *
 *   node bench/ocr.ts            (part of `npm run bench`)
 *
 * Fidelity: for every corpus image that has a real Textract response beside it, the word recall
 * of local OCR against Textract's WORD blocks, per document and overall (printed documents are
 * those whose Textract words are mostly PRINTED). Throughput: pages/s through tesseract (the
 * worker pool, as a run uses it) and through the PDF text layer (mupdf).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { MupdfReader, PageRenderer } from '../src/adapters/documents/mupdf-reader.ts';
import { TesseractPool } from '../src/adapters/local/textract/tesseract-pool.ts';
import { sniffMediaType } from '../src/core/documents.ts';
import { collectBlocks } from '../src/core/ocr/linearize.ts';
import { wordRecall } from '../src/core/ocr/metrics.ts';
import type { Block } from '../src/core/ocr/textract.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const CORPUS = join(ROOT, '../shared/corpora/textract');

interface Pair {
  name: string;
  image: string;
  words: string[];
  handwritingShare: number;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out.sort();
}

/** `name-2.png` → '2'; '' without a numeric suffix. */
function suffix(path: string): string {
  return /-(\d+)\.[a-z]+$/i.exec(path)?.[1] ?? '';
}

/**
 * Images with a one-page Textract response in the same folder (the richest response wins). Where
 * a folder holds several images, an image pairs only with responses of the same numeric suffix.
 */
async function corpusPairs(): Promise<Pair[]> {
  const files = await filesUnder(CORPUS);
  const pairs: Pair[] = [];
  const isImage = (f: string) => ['.png', '.jpg', '.jpeg'].includes(extname(f).toLowerCase());
  for (const image of files.filter(isImage)) {
    const folder = image.slice(0, image.lastIndexOf('/'));
    const inFolder = (f: string) => f.startsWith(`${folder}/`) && !f.slice(folder.length + 1).includes('/');
    const several = files.filter((f) => inFolder(f) && isImage(f)).length > 1;
    let best: Block[] = [];
    for (const json of files.filter(
      (f) => inFolder(f) && f.endsWith('.json') && (!several || suffix(f) === suffix(image)),
    )) {
      const blocks = collectBlocks(JSON.parse(await readFile(json, 'utf8')));
      const pages = new Set(blocks.map((b) => b.Page ?? 1));
      const words = blocks.filter((b) => b.BlockType === 'WORD');
      if (pages.size === 1 && words.length > best.filter((b) => b.BlockType === 'WORD').length) best = blocks;
    }
    const words = best.filter((b) => b.BlockType === 'WORD' && b.Text);
    if (words.length === 0) continue;
    pairs.push({
      name: image.slice(CORPUS.length + 1),
      image,
      words: words.map((w) => w.Text ?? ''),
      handwritingShare: words.filter((w) => w.TextType === 'HANDWRITING').length / words.length,
    });
  }
  return pairs;
}

function rss(): number {
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}

export async function run(): Promise<void> {
  if (!existsSync(CORPUS)) {
    console.log(`ocr: SKIPPED, no Textract corpus at ${CORPUS}`);
    return;
  }
  const pairs = await corpusPairs();
  const pool = new TesseractPool();
  console.log(
    `ocr: ${pairs.length} corpus images with a real Textract response; ${pool.size} OCR workers on ${availableParallelism()} cores`,
  );
  const started = performance.now();
  const rows = await Promise.all(
    pairs.map(async (pair) => {
      const bytes = await readFile(pair.image);
      const media = sniffMediaType(bytes);
      if (!media) throw new Error(`${pair.name}: not an image`);
      const renderer = new PageRenderer(bytes, media);
      const page = renderer.renderForOcr(0);
      renderer.close();
      const blocks = await pool.recognize(page.png, page.width, page.height, 1);
      const words = blocks.filter((b) => b.BlockType === 'WORD').map((b) => b.Text ?? '');
      return { ...pair, recall: wordRecall(pair.words, words) };
    }),
  );
  const ocrSeconds = (performance.now() - started) / 1000;
  await pool.terminate();
  for (const r of rows) {
    const kind = r.handwritingShare > 0.2 ? 'handwriting' : 'printed';
    console.log(
      `  ${r.name.padEnd(66)} ${String(r.words.length).padStart(5)} words  recall ${r.recall.toFixed(3)}  ${kind}`,
    );
  }
  const micro = (list: typeof rows) =>
    list.reduce((n, r) => n + r.recall * r.words.length, 0) /
    Math.max(
      1,
      list.reduce((n, r) => n + r.words.length, 0),
    );
  const printed = rows.filter((r) => r.handwritingShare <= 0.2);
  console.log(
    `ocr: word recall vs Textract — printed documents ${micro(printed).toFixed(3)} (${printed.length} docs), all ${micro(rows).toFixed(3)}`,
  );
  console.log(
    `ocr: OCR throughput ${(rows.length / ocrSeconds).toFixed(2)} pages/s (${rows.length} pages in ${ocrSeconds.toFixed(1)} s), RSS ${rss()} MB`,
  );

  const reader = new MupdfReader();
  const pdfs = (await filesUnder(CORPUS))
    .concat(await filesUnder(join(ROOT, 'samples/documents')))
    .filter((f) => f.endsWith('.pdf'));
  let pages = 0;
  const t1 = performance.now();
  for (let round = 0; round < 5; round++) {
    for (const pdf of pdfs) {
      const bytes = await readFile(pdf);
      if (sniffMediaType(bytes) !== 'application/pdf') continue;
      const info = await reader.inspect(bytes, 'application/pdf');
      const textPages = info.textLayer.map((t, i) => (t ? i + 1 : 0)).filter((p) => p > 0);
      if (textPages.length === 0) continue;
      await reader.textLayerBlocks(bytes, textPages);
      pages += textPages.length;
    }
  }
  const tlSeconds = (performance.now() - t1) / 1000;
  console.log(
    `ocr: text-layer throughput ${(pages / tlSeconds).toFixed(1)} pages/s (${pages} pages incl. inspection, ${tlSeconds.toFixed(2)} s)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
