/**
 * OCR benchmark: fidelity of the offline Textract stand-in's OCR engines against real Textract,
 * and throughput of every text path on this machine.
 *
 *   node bench/ocr.ts                      (part of `npm run bench`: both engines)
 *   node bench/ocr.ts --engine paddle      one engine (paddle or tesseract)
 *
 * Fidelity: for every corpus image that has a real Textract response beside it, the word recall
 * of local OCR against Textract's WORD blocks, per document and overall (printed documents are
 * those whose Textract words are mostly PRINTED). Throughput: pages/s through each engine (as a
 * run uses it, `size` pages in flight) with its peak RSS, each engine in its own process so one's
 * memory is never the other's; then pages/s through the PDF text layer (mupdf).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { MupdfReader, PageRenderer } from '../src/adapters/documents/mupdf-reader.ts';
import type { LocalOcrEngineName } from '../src/adapters/local/textract/ocr-engine.ts';
import { createOcrEngine } from '../src/cli/local-services.ts';
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

/** Peak resident set size so far: the kernel's own maximum, in MB. */
function peakRss(): number {
  return Math.round((process.resourceUsage().maxRSS * 1024) / 2 ** 20);
}

const ENGINES: readonly LocalOcrEngineName[] = ['paddle', 'tesseract'];

/** Runs `fn` over `items` with at most `limit` calls in flight, results in `items`' order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

/** One engine over the corpus, in this process. */
async function runEngine(name: LocalOcrEngineName): Promise<void> {
  const pairs = await corpusPairs();
  const engine = createOcrEngine(name);
  console.log(
    `ocr[${name}]: ${pairs.length} corpus images with a real Textract response; ${engine.version}, ${engine.size} pages in flight on ${availableParallelism()} cores`,
  );
  const started = performance.now();
  const rows = await mapLimit(pairs, engine.size, async (pair) => {
    const bytes = await readFile(pair.image);
    const media = sniffMediaType(bytes);
    if (!media) throw new Error(`${pair.name}: not an image`);
    const renderer = new PageRenderer(bytes, media);
    try {
      const blocks = await engine.readPage(renderer, 0);
      const words = blocks.filter((b) => b.BlockType === 'WORD').map((b) => b.Text ?? '');
      return { ...pair, recall: wordRecall(pair.words, words) };
    } finally {
      renderer.close();
    }
  });
  const ocrSeconds = (performance.now() - started) / 1000;
  await engine.terminate();
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
    `ocr[${name}]: word recall vs Textract — printed documents ${micro(printed).toFixed(3)} (${printed.length} docs), all ${micro(rows).toFixed(3)}`,
  );
  const cpu = process.cpuUsage();
  console.log(
    `ocr[${name}]: OCR throughput ${(rows.length / ocrSeconds).toFixed(2)} pages/s (${rows.length} pages in ${ocrSeconds.toFixed(1)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s), peak RSS ${peakRss()} MB`,
  );
}

export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  if (!existsSync(CORPUS)) {
    console.log(`ocr: SKIPPED, no Textract corpus at ${CORPUS}`);
    return;
  }
  const at = argv.indexOf('--engine');
  const only = at >= 0 ? argv[at + 1] : undefined;
  if (only !== undefined) {
    if (!ENGINES.includes(only as LocalOcrEngineName)) {
      throw new Error(`--engine must be one of ${ENGINES.join(', ')} (received ${only})`);
    }
    await runEngine(only as LocalOcrEngineName);
    return;
  }
  for (const name of ENGINES) {
    execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--engine', name], {
      stdio: 'inherit',
    });
  }

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
