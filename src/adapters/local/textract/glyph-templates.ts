/**
 * Reference glyphs for `restoreCurrencySigns` (paddle-postprocess.ts): the currency signs the
 * PP-OCR model cannot read and the characters they look like, drawn by mupdf in its built-in
 * sans-serif, serif and monospace fonts, regular and bold. Rendered once per process, in memory.
 */
import * as mupdf from 'mupdf';
import { CURRENCY_SIGNS, type GlyphTemplate, glyphShape } from './paddle-postprocess.ts';

/** What a currency sign could be taken for: the model's readings of it and other round or barred glyphs. */
const LOOKALIKES = [
  'E',
  'C',
  'c',
  'e',
  'f',
  'F',
  'L',
  't',
  'G',
  'S',
  '$',
  '5',
  '8',
  '2',
  '3',
  '6',
  '(',
  '¢',
  '¥',
];

const FAMILIES = ['sans-serif', 'serif', 'monospace'] as const;
const WEIGHTS = ['normal', 'bold'] as const;
/** Glyph size in px: large enough that the grid sees each stroke. */
const SIZE = 40;

let cached: GlyphTemplate[] | undefined;

export function currencyTemplates(): GlyphTemplate[] {
  cached ??= FAMILIES.flatMap((family) =>
    WEIGHTS.flatMap((weight) =>
      [...CURRENCY_SIGNS, ...LOOKALIKES].flatMap((symbol) => {
        const shape = renderGlyph(symbol, family, weight);
        return shape ? [{ symbol, shape }] : [];
      }),
    ),
  );
  return cached;
}

function renderGlyph(symbol: string, family: string, weight: string) {
  const html = `<html><body style="margin:0;font-family:${family};font-weight:${weight};font-size:${SIZE}px">&#${symbol.codePointAt(0)};</body></html>`;
  const doc = mupdf.Document.openDocument(new TextEncoder().encode(html), 'text/html');
  try {
    doc.layout(2 * SIZE, 2 * SIZE, SIZE);
    const page = doc.loadPage(0);
    try {
      const pixmap = page.toPixmap(mupdf.Matrix.identity, mupdf.ColorSpace.DeviceGray, false, true);
      try {
        const width = pixmap.getWidth();
        const height = pixmap.getHeight();
        const stride = pixmap.getStride();
        const samples = pixmap.getPixels();
        const pixels = new Uint8Array(width * height);
        for (let y = 0; y < height; y++)
          pixels.set(samples.subarray(y * stride, y * stride + width), y * width);
        return glyphShape(pixels, width, 127, { left: 0, top: 0, right: width, bottom: height });
      } finally {
        pixmap.destroy();
      }
    } finally {
      page.destroy();
    }
  } finally {
    doc.destroy();
  }
}
