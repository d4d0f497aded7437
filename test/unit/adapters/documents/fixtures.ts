/**
 * Tiny documents built in memory for the document-reader and local-Textract tests, so that no
 * binary fixture is ever committed.
 */
import * as mupdf from 'mupdf';

const LETTER: mupdf.Rect = [0, 0, 612, 792];

export const KNOWN_LINES = [
  'Invoice number 4471 from Northwind Traders',
  'Delivery address Harbour Street Bristol',
  'Twelve boxes of green apples cost 38.50',
  'Payment due within thirty days of receipt',
];

export const knownWords = (lines: readonly string[]): string[] => lines.flatMap((l) => l.split(' '));

function pdfString(text: string): string {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/** Content stream drawing `lines` from the top-left margin, one line every `leading` points. */
function textContent(lines: readonly string[], size = 14, leading = 24, top = 720): string {
  const ops = lines.map((line, i) => `${i === 0 ? '' : `0 -${leading} Td `}${pdfString(line)} Tj`);
  return `BT /F1 ${size} Tf 72 ${top} Td ${ops.join(' ')} ET`;
}

export interface PdfPageSpec {
  lines?: readonly string[];
  size?: number;
  /** Points between baselines. */
  leading?: number;
  mediabox?: mupdf.Rect;
  /** A grayscale image drawn over the whole page before the text (a "scan"). */
  image?: mupdf.Pixmap;
  /** Images drawn before the text, each into `rect` (points from the page's top-left corner). */
  images?: readonly { pixmap: mupdf.Pixmap; rect: mupdf.Rect }[];
}

/** A PDF whose pages hold Helvetica text lines and/or a full-page image. */
export function makePdf(pages: readonly PdfPageSpec[], saveOptions = 'compress'): Uint8Array {
  const doc = new mupdf.PDFDocument();
  const font = doc.addSimpleFont(new mupdf.Font('Helvetica'));
  for (const spec of pages) {
    const box = spec.mediabox ?? LETTER;
    const resources: { Font: unknown; XObject?: unknown } = { Font: { F1: font } };
    let content = '';
    if (spec.image) {
      resources.XObject = { Im0: doc.addImage(new mupdf.Image(spec.image)) };
      content += `q ${box[2] - box[0]} 0 0 ${box[3] - box[1]} 0 0 cm /Im0 Do Q `;
    }
    for (const [i, { pixmap, rect }] of (spec.images ?? []).entries()) {
      const name = `Im${i + 1}`;
      resources.XObject = {
        ...(resources.XObject as object | undefined),
        [name]: doc.addImage(new mupdf.Image(pixmap)),
      };
      const [x0, y0, x1, y1] = rect;
      // PDF user space counts from the bottom-left corner.
      content += `q ${x1 - x0} 0 0 ${y1 - y0} ${x0} ${box[3] - y1} cm /${name} Do Q `;
    }
    if (spec.lines && spec.lines.length > 0)
      content += textContent(spec.lines, spec.size, spec.leading, box[3] - 72);
    doc.insertPage(-1, doc.addPage(box, 0, doc.addObject(resources), content));
  }
  const bytes = doc.saveToBuffer(saveOptions).asUint8Array().slice();
  doc.destroy();
  return bytes;
}

/** Lines an image carries in the mixed-page fixtures: words that appear nowhere in KNOWN_LINES. */
export const IMAGE_LINES = ['Zephyr Bakery Holdings', 'Kvk nummer 04080176'];

/**
 * A grayscale picture of `lines` (Helvetica 14 pt on a `widthPt` × `heightPt` canvas, rendered
 * at `dpi`): text that exists only as pixels once drawn into a page. The first baseline sits 72 pt
 * above the canvas's bottom and lines start 72 pt from its left, as in `makePdf`, so the canvas
 * must be larger than that. The caller destroys it.
 */
export function textImage(
  lines: readonly string[] = IMAGE_LINES,
  widthPt = 468,
  heightPt = 120,
  dpi = 200,
): mupdf.Pixmap {
  return renderPixmap(makePdf([{ lines, mediabox: [0, 0, widthPt, heightPt] }]), dpi);
}

/**
 * A born-digital page (KNOWN_LINES in its text layer) with a picture of IMAGE_LINES below the
 * text, covering `rect` (default 468 × 120 pt, 11.6 % of a letter page): a "mixed" page.
 */
export function makeMixedPdf(rect: mupdf.Rect = [72, 400, 540, 520]): Uint8Array {
  const pixmap = textImage();
  try {
    return makePdf([{ lines: KNOWN_LINES, images: [{ pixmap, rect }] }]);
  } finally {
    pixmap.destroy();
  }
}

/** A PDF that needs a user password to open (AES-256). */
export function makeEncryptedPdf(): Uint8Array {
  return makePdf([{ lines: KNOWN_LINES }], 'encrypt=aes-256,user-password=secret,owner-password=owner');
}

/** Renders page 1 of a PDF to a grayscale pixmap at `dpi` (caller destroys it). */
export function renderPixmap(pdf: Uint8Array, dpi: number): mupdf.Pixmap {
  const doc = mupdf.Document.openDocument(pdf, 'application/pdf');
  const page = doc.loadPage(0);
  const pixmap = page.toPixmap(mupdf.Matrix.scale(dpi / 72, dpi / 72), mupdf.ColorSpace.DeviceGray, false);
  page.destroy();
  doc.destroy();
  return pixmap;
}

/** A PNG of the known text, as a phone scan or a screenshot would arrive. */
export function makeTextPng(lines: readonly string[] = KNOWN_LINES, dpi = 150): Uint8Array {
  const pixmap = renderPixmap(makePdf([{ lines }]), dpi);
  const png = pixmap.asPNG();
  pixmap.destroy();
  return png;
}

/** A blank white JPEG of `width` × `height` px, optionally tagged with an EXIF orientation. */
export function makeJpeg(width: number, height: number, orientation?: number): Uint8Array {
  const pixmap = new mupdf.Pixmap(mupdf.ColorSpace.DeviceRGB, [0, 0, width, height], false);
  pixmap.clear(255);
  const jpeg = pixmap.asJPEG(90);
  pixmap.destroy();
  if (orientation === undefined) return jpeg;
  // APP1 "Exif" segment holding a big-endian TIFF with one IFD entry: Orientation (0x0112), SHORT.
  const tiff = [
    0x4d,
    0x4d,
    0,
    42,
    0,
    0,
    0,
    8,
    0,
    1,
    0x01,
    0x12,
    0,
    3,
    0,
    0,
    0,
    1,
    0,
    orientation,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const app1 = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  return new Uint8Array([...jpeg.slice(0, 2), ...app1, ...jpeg.slice(2)]);
}

/** An uncompressed 8-bit grayscale TIFF (little-endian), one IFD per page. */
export function makeTiff(pages: readonly { width: number; height: number }[]): Uint8Array {
  const chunks: Uint8Array[] = [new Uint8Array([0x49, 0x49, 42, 0, 0, 0, 0, 0])];
  let offset = 8;
  const pointers: [at: number, value: number][] = [];
  let nextPointerAt = 4;
  for (const { width, height } of pages) {
    const pixels = new Uint8Array(width * height).fill(255);
    const pixelsAt = offset;
    chunks.push(pixels);
    offset += pixels.length;
    if (offset % 2 === 1) {
      chunks.push(new Uint8Array(1));
      offset += 1;
    }
    const entries: [tag: number, type: number, value: number][] = [
      [256, 4, width],
      [257, 4, height],
      [258, 3, 8],
      [259, 3, 1],
      [262, 3, 1],
      [273, 4, pixelsAt],
      [277, 3, 1],
      [278, 4, height],
      [279, 4, width * height],
    ];
    const ifd = new Uint8Array(2 + entries.length * 12 + 4);
    const dv = new DataView(ifd.buffer);
    dv.setUint16(0, entries.length, true);
    entries.forEach(([tag, type, value], i) => {
      const at = 2 + i * 12;
      dv.setUint16(at, tag, true);
      dv.setUint16(at + 2, type, true);
      dv.setUint32(at + 4, 1, true);
      if (type === 3) dv.setUint16(at + 8, value, true);
      else dv.setUint32(at + 8, value, true);
    });
    pointers.push([nextPointerAt, offset]);
    nextPointerAt = offset + 2 + entries.length * 12;
    chunks.push(ifd);
    offset += ifd.length;
  }
  const out = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  const dv = new DataView(out.buffer);
  for (const [pointerAt, value] of pointers) dv.setUint32(pointerAt, value, true);
  return out;
}

/** A PNG header claiming `width` × `height` px, followed by no image data at all. */
export function makePngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(16, width);
  dv.setUint32(20, height);
  bytes.set([8, 0, 0, 0, 0], 24); // 8-bit grayscale, no interlace; the CRC is left zero
  return bytes;
}

export { wordRecall } from '../../../../src/core/ocr/metrics.ts';
