/**
 * What the Textract stand-in needs from an OCR engine: read one page (or one region of it) into
 * PAGE/LINE/WORD blocks. Two engines implement it, PP-OCR through onnxruntime (paddle-ocr.ts, the
 * default) and tesseract.js (tesseract-pool.ts, lighter); `ocr.localEngine` picks one.
 */
import type { Block } from '../../../core/ocr/textract.ts';
import type { RatioBox } from '../../documents/blocks.ts';
import type { PageRenderer } from '../../documents/mupdf-reader.ts';

export type LocalOcrEngineName = 'paddle' | 'tesseract';

export interface OcrEngine {
  /** Reported as `DetectDocumentTextModelVersion`, so outputs say which engine produced them. */
  readonly version: string;
  /** Pages worth handing it at once; more would only wait in memory. */
  readonly size: number;
  /**
   * OCR page `pageIndex0` (0-based) of an open document, or only the part inside `region` (ratios
   * of the page). Blocks carry page number `pageIndex0 + 1` and geometry as ratios of what was read
   * (the region, when one is given).
   */
  readPage(renderer: PageRenderer, pageIndex0: number, region?: RatioBox): Promise<Block[]>;
  /** Frees the engine's workers or sessions; pending calls are rejected. */
  terminate(): Promise<void>;
}
