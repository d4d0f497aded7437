/**
 * Builds Textract-shaped PAGE/LINE/WORD blocks from positioned words, for both sources of text the
 * project has without Textract: a PDF's own text layer (mupdf) and local OCR (tesseract.js).
 * Downstream code cannot tell these blocks from a real GetDocumentTextDetection response.
 */
import { createHash } from 'node:crypto';
import type { Block, Geometry } from '../../core/ocr/textract.ts';

/** A rectangle as ratios of the page's width and height, measured from the top-left corner. */
export interface RatioBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface PositionedWord {
  text: string;
  /** 0–100, as Textract reports it. */
  confidence: number;
  box: RatioBox;
}

export interface PositionedLine {
  words: PositionedWord[];
  /** 0–100; the mean of the words' confidences when omitted. */
  confidence?: number;
}

/**
 * A UUID-formatted id derived from the block's position in the output (never from the document id
 * or the clock), so the same document always yields byte-identical blocks.
 */
export function blockId(...parts: (string | number)[]): string {
  const hex = createHash('sha1').update(parts.join('/')).digest('hex');
  // Version 5 (name-based, SHA-1) and RFC 4122 variant bits, like any other v5 UUID.
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const clamp01 = (v: number): number => Math.min(Math.max(v, 0), 1);

export function geometry(box: RatioBox): Geometry {
  const left = clamp01(Math.min(box.left, box.right));
  const right = clamp01(Math.max(box.left, box.right));
  const top = clamp01(Math.min(box.top, box.bottom));
  const bottom = clamp01(Math.max(box.top, box.bottom));
  return {
    BoundingBox: { Width: right - left, Height: bottom - top, Left: left, Top: top },
    Polygon: [
      { X: left, Y: top },
      { X: right, Y: top },
      { X: right, Y: bottom },
      { X: left, Y: bottom },
    ],
  };
}

export function unionBox(boxes: readonly RatioBox[]): RatioBox {
  let left = Number.POSITIVE_INFINITY;
  let top = Number.POSITIVE_INFINITY;
  let right = Number.NEGATIVE_INFINITY;
  let bottom = Number.NEGATIVE_INFINITY;
  for (const b of boxes) {
    left = Math.min(left, b.left);
    top = Math.min(top, b.top);
    right = Math.max(right, b.right);
    bottom = Math.max(bottom, b.bottom);
  }
  return boxes.length > 0 ? { left, top, right, bottom } : { left: 0, top: 0, right: 0, bottom: 0 };
}

/**
 * One page's blocks in Textract's order: the PAGE block, then every LINE, then every WORD.
 * Lines without words are dropped (Textract never emits an empty LINE).
 */
export function pageBlocks(page: number, lines: readonly PositionedLine[]): Block[] {
  const lineBlocks: Block[] = [];
  const wordBlocks: Block[] = [];
  for (const line of lines) {
    const words = line.words.filter((w) => w.text.length > 0);
    if (words.length === 0) continue;
    const lineIndex = lineBlocks.length;
    const wordIds: string[] = [];
    for (const word of words) {
      const id = blockId('word', page, lineIndex, wordIds.length);
      wordIds.push(id);
      wordBlocks.push({
        BlockType: 'WORD',
        Confidence: word.confidence,
        Text: word.text,
        TextType: 'PRINTED',
        Geometry: geometry(word.box),
        Id: id,
        Page: page,
      });
    }
    const confidence = line.confidence ?? words.reduce((sum, w) => sum + w.confidence, 0) / words.length;
    lineBlocks.push({
      BlockType: 'LINE',
      Confidence: confidence,
      Text: words.map((w) => w.text).join(' '),
      Geometry: geometry(unionBox(words.map((w) => w.box))),
      Id: blockId('line', page, lineIndex),
      Relationships: [{ Type: 'CHILD', Ids: wordIds }],
      Page: page,
    });
  }
  const pageBlock: Block = {
    BlockType: 'PAGE',
    Geometry: geometry({ left: 0, top: 0, right: 1, bottom: 1 }),
    Id: blockId('page', page),
    Page: page,
  };
  // Textract omits Relationships on a page without text rather than sending an empty list.
  if (lineBlocks.length > 0) {
    pageBlock.Relationships = [{ Type: 'CHILD', Ids: lineBlocks.map((b) => b.Id ?? '') }];
  }
  return [pageBlock, ...lineBlocks, ...wordBlocks];
}
