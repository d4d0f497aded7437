/**
 * A small pool of tesseract.js workers (each a worker thread running the WASM engine) turning page
 * renders into Textract-shaped blocks. Everything loads from node_modules: the engine from
 * tesseract.js-core and the English model from @tesseract.js-data/eng, so OCR never touches the
 * network (tesseract.js would otherwise download both from a CDN on first use).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { Block } from '../../../core/ocr/textract.ts';
import { ConfigError } from '../../../errors.ts';
import { type PositionedLine, pageBlocks, type RatioBox } from '../../documents/blocks.ts';
import type { PageRenderer } from '../../documents/mupdf-reader.ts';
import type { OcrEngine } from './ocr-engine.ts';

// tesseract.js is CommonJS; `require` keeps its runtime shape and its bundled typings.
const require = createRequire(import.meta.url);
const Tesseract: typeof import('tesseract.js') = require('tesseract.js');

/** Where a traineddata file sits on disk and whether it is gzipped (tesseract.js needs to be told). */
export interface LanguageData {
  langPath: string;
  gzip: boolean;
}

/**
 * The English model shipped in @tesseract.js-data/eng. The `4.0.0_best_int` folder holds the
 * LSTM-only model tesseract.js itself uses for OEM 1 (3 MB, vs 11 MB with the unused legacy engine).
 */
export function installedEnglishData(): LanguageData {
  const root = dirname(require.resolve('@tesseract.js-data/eng/package.json'));
  for (const folder of ['4.0.0_best_int', '4.0.0']) {
    const dir = join(root, folder);
    if (existsSync(join(dir, 'eng.traineddata.gz'))) return { langPath: dir, gzip: true };
    if (existsSync(join(dir, 'eng.traineddata'))) return { langPath: dir, gzip: false };
  }
  throw new Error(`no eng.traineddata(.gz) under ${root}: reinstall @tesseract.js-data/eng`);
}

export interface TesseractPoolOptions {
  /** Worker threads at most; default min(2, cores), never more than os.availableParallelism(). */
  size?: number;
  /** Override the installed English model (tests, other models). */
  language?: LanguageData;
  /**
   * Tesseract page segmentation mode. Default '3' (automatic layout analysis), which keeps the
   * columns and table cells of business documents apart; tesseract.js would otherwise use '6'.
   */
  pageSegMode?: string;
}

type Worker = import('tesseract.js').Worker;
type TesseractPage = import('tesseract.js').Page;
type PSM = import('tesseract.js').PSM;

interface Task {
  png: Uint8Array;
  resolve: (page: TesseractPage) => void;
  reject: (error: unknown) => void;
}

const OEM_LSTM_ONLY = 1;

export const TESSERACT_MODEL_VERSION = 'local-tesseract';

export class TesseractPool implements OcrEngine {
  readonly version = TESSERACT_MODEL_VERSION;
  readonly size: number;
  readonly #language: LanguageData;
  readonly #pageSegMode: string;
  readonly #idle: Worker[] = [];
  readonly #queue: Task[] = [];
  /** Workers alive or being created; never above `size`. */
  #workers = 0;
  #spawning = 0;
  readonly #all = new Set<Worker>();
  /** Tasks a worker is on: a terminated worker never answers, so terminate() rejects them. */
  readonly #inFlight = new Set<Task>();
  #terminated = false;

  constructor(options: TesseractPoolOptions = {}) {
    const cores = availableParallelism();
    this.size = Math.max(1, Math.min(options.size ?? Math.min(2, cores), cores));
    this.#language = options.language ?? installedEnglishData();
    // A local file only: tesseract.js would fetch a URL, and a worker whose language fails to load
    // never settles its start-up promise, so a bad path must be caught here.
    const file = join(this.#language.langPath, `eng.traineddata${this.#language.gzip ? '.gz' : ''}`);
    if (!existsSync(file)) throw new ConfigError(`tesseract language data not found at ${file}`);
    this.#pageSegMode = options.pageSegMode ?? '3';
  }

  /**
   * OCR one rendered page (PNG bytes of `width` × `height` px) into PAGE/LINE/WORD blocks for
   * 1-based `page`, with geometry as ratios of the image size.
   */
  async recognize(png: Uint8Array, width: number, height: number, page: number): Promise<Block[]> {
    if (this.#terminated) throw new Error('the tesseract pool was terminated');
    const result = await new Promise<TesseractPage>((resolve, reject) => {
      this.#queue.push({ png, resolve, reject });
      this.#dispatch();
    });
    return pageBlocks(page, toLines(result, width, height));
  }

  /** Renders the page (or region) as tesseract reads best, see `PageRenderer.renderForOcr`, and OCRs it. */
  async readPage(renderer: PageRenderer, pageIndex0: number, region?: RatioBox): Promise<Block[]> {
    const render = region
      ? renderer.renderRegionForOcr(pageIndex0, region)
      : renderer.renderForOcr(pageIndex0);
    return this.recognize(render.png, render.width, render.height, pageIndex0 + 1);
  }

  async terminate(): Promise<void> {
    this.#terminated = true;
    const stopped = new Error('the tesseract pool was terminated');
    for (const task of [...this.#queue.splice(0), ...this.#inFlight]) task.reject(stopped);
    this.#inFlight.clear();
    const workers = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#idle.length > 0) {
      const worker = this.#idle.pop();
      const task = this.#queue.shift();
      if (worker && task) void this.#run(worker, task);
    }
    // Workers start lazily, one per waiting task, up to the pool size.
    const wanted = Math.min(this.#queue.length - this.#spawning, this.size - this.#workers);
    for (let i = 0; i < wanted; i++) {
      this.#workers += 1;
      this.#spawning += 1;
      void this.#spawn();
    }
  }

  async #spawn(): Promise<void> {
    let worker: Worker;
    try {
      let failStart: (error: Error) => void = () => {};
      const startFailed = new Promise<never>((_, reject) => {
        failStart = reject;
      });
      const created = Tesseract.createWorker('eng', OEM_LSTM_ONLY, {
        langPath: this.#language.langPath,
        gzip: this.#language.gzip,
        // 'none' neither reads nor writes a cached copy in the working directory.
        cacheMethod: 'none',
        // Without a handler tesseract.js rethrows worker errors from a message callback, which
        // would crash the process. During start-up it is also the only signal of a failure:
        // createWorker's promise never settles when the language data cannot be initialised.
        // Later calls (recognize failures) reject their own promises, so the handler ignores them.
        errorHandler: (error: unknown) =>
          failStart(new Error(`tesseract worker failed to start: ${String(error)}`)),
      });
      worker = await Promise.race([created, startFailed]);
      await worker.setParameters({ tessedit_pageseg_mode: this.#pageSegMode as PSM });
    } catch (error) {
      this.#spawning -= 1;
      this.#workers -= 1;
      // A worker that cannot start will not start for the next task either: fail what is waiting.
      for (const task of this.#queue.splice(0)) task.reject(error);
      return;
    }
    this.#spawning -= 1;
    if (this.#terminated) {
      await worker.terminate();
      return;
    }
    this.#all.add(worker);
    this.#idle.push(worker);
    this.#dispatch();
  }

  async #run(worker: Worker, task: Task): Promise<void> {
    this.#inFlight.add(task);
    try {
      const { data } = await worker.recognize(
        Buffer.from(task.png.buffer, task.png.byteOffset, task.png.byteLength),
        {},
        {
          blocks: true,
          text: false,
        },
      );
      this.#inFlight.delete(task);
      this.#idle.push(worker);
      task.resolve(data);
    } catch (error) {
      this.#inFlight.delete(task);
      // The worker's state is unknown after a failure: replace it rather than reuse it.
      this.#all.delete(worker);
      this.#workers -= 1;
      void worker.terminate().catch(() => {});
      task.reject(error instanceof Error ? error : new Error(`tesseract failed: ${String(error)}`));
    }
    if (!this.#terminated) this.#dispatch();
  }
}

/** Tesseract's block → paragraph → line → word tree, flattened to positioned lines. */
function toLines(page: TesseractPage, width: number, height: number): PositionedLine[] {
  const lines: PositionedLine[] = [];
  for (const block of page.blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      for (const line of paragraph.lines) {
        const words = line.words
          .map((w) => ({
            text: w.text.trim(),
            confidence: w.confidence,
            box: {
              left: w.bbox.x0 / width,
              top: w.bbox.y0 / height,
              right: w.bbox.x1 / width,
              bottom: w.bbox.y1 / height,
            },
          }))
          .filter((w) => w.text.length > 0);
        if (words.length > 0) lines.push({ words, confidence: line.confidence });
      }
    }
  }
  return lines;
}
