import type { Reason } from '../errors.ts';

/** Media types docbatch (and Textract) accept. */
export type MediaType = 'application/pdf' | 'image/png' | 'image/jpeg' | 'image/tiff';

/** What Register learns about a document before spending anything on it. */
export interface DocumentInfo {
  mediaType: MediaType;
  pages: number;
  encrypted: boolean;
  /**
   * Pixel size of each page for images (undefined for PDF pages). This and `textLayer` are empty
   * for a document over `TEXTRACT_LIMITS.maxPages`: it is refused for its page count alone.
   */
  pixelSizes: ({ width: number; height: number } | undefined)[];
  /** Per page: true when the PDF's own text layer carries usable text. Always false for images. */
  textLayer: boolean[];
  /**
   * Per PDF page: the images big enough to hold text on which the text layer has no character, so
   * whatever text they show is missing from it (absent when the reader does not look; empty lists
   * for image documents, whose whole page is OCR'd anyway).
   */
  uncoveredImages?: UncoveredImage[][];
}

/** An image on a PDF page with no text-layer character inside its box. */
export interface UncoveredImage {
  /** Its box on the page, as ratios of the page's width and height from the top-left corner. */
  left: number;
  top: number;
  right: number;
  bottom: number;
  /** The share of the page's area the box covers (0–1). */
  coverage: number;
  /** The image's own pixel size. */
  width: number;
  height: number;
}

/**
 * The 1-based pages whose usable text layer misses text shown as an image: an uncovered image
 * covering at least `minCoverage` of the page (config `ocr.imageTextMinCoverage`; 1 or more turns
 * the check off). Such a page is "mixed": its text layer alone is not the page's text.
 */
export function imageTextPages(info: DocumentInfo, minCoverage: number): number[] {
  if (minCoverage >= 1 || !info.uncoveredImages) return [];
  const pages: number[] = [];
  info.textLayer.forEach((usable, i) => {
    if (usable && info.uncoveredImages?.[i]?.some((image) => image.coverage >= minCoverage))
      pages.push(i + 1);
  });
  return pages;
}

/** Recognise a document by its magic bytes, never by its name. */
export function sniffMediaType(bytes: Uint8Array): MediaType | undefined {
  const startsWith = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (startsWith([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith([0x49, 0x49, 0x2a, 0x00]) || startsWith([0x4d, 0x4d, 0x00, 0x2a])) return 'image/tiff';
  return undefined;
}

/**
 * What a file that is not a document we accept most likely is, for a message a person can act on
 * ("the content is an HTML page, not a PDF …"). Only the first bytes are read.
 */
export function describeContent(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 1024);
  const latin = Buffer.from(head).toString('latin1');
  const at = (sig: string, offset = 0) => latin.startsWith(sig, offset);
  const text = latin.trimStart().toLowerCase();
  if (text.startsWith('<!doctype html') || text.startsWith('<html')) return 'an HTML page';
  if (at('PK\x03\x04')) {
    // The first entry of an Office Open XML file is [Content_Types].xml; OpenDocument starts with "mimetype".
    if (latin.includes('[Content_Types].xml')) return 'an Office document (Word, Excel or PowerPoint)';
    if (latin.includes('mimetypeapplication/vnd.oasis.opendocument')) return 'an OpenDocument file';
    return 'a ZIP archive';
  }
  if (at('\xd0\xcf\x11\xe0')) return 'a legacy Office document (.doc, .xls or .ppt)';
  if (at('{\\rtf')) return 'an RTF document';
  if (at('%!PS')) return 'a PostScript file';
  if (at('GIF87a') || at('GIF89a')) return 'a GIF image';
  // "BM" alone starts plenty of text; a BMP header's reserved bytes 6–9 are zero.
  if (at('BM') && bytes.length > 14 && [6, 7, 8, 9].every((i) => bytes[i] === 0)) return 'a BMP image';
  if (at('RIFF') && at('WEBP', 8)) return 'a WebP image';
  if (at('ftyp', 4) && /^(heic|heix|hevc|mif1|msf1|avif)/.test(latin.slice(8, 12)))
    return 'a HEIC/HEIF or AVIF image (convert it to JPEG or PNG)';
  if (text.startsWith('<?xml')) return 'an XML file';
  if (looksLikeText(head)) return 'plain text';
  return 'unrecognised binary data';
}

/** UTF-8 (or ASCII) without control characters other than whitespace. */
function looksLikeText(head: Uint8Array): boolean {
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(head);
  } catch {
    // A multi-byte character cut at the end of the window is still text: retry without the tail.
    try {
      decoded = new TextDecoder('utf-8', { fatal: true }).decode(
        head.subarray(0, Math.max(0, head.length - 3)),
      );
    } catch {
      return false;
    }
  }
  for (const c of decoded) {
    const code = c.charCodeAt(0);
    // Tab, line feed, form feed and carriage return are text; other C0 controls and DEL are not.
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0c && code !== 0x0d) || code === 0x7f)
      return false;
  }
  return true;
}

/** How far from the end a PDF's `%%EOF` may sit (Acrobat's own tolerance). */
const PDF_EOF_WINDOW = 1024;
const PDF_EOF = [0x25, 0x25, 0x45, 0x4f, 0x46]; // %%EOF

/** True when a PDF ends with its `%%EOF` marker (trailing whitespace and NUL padding allowed). */
export function pdfHasEndMarker(bytes: Uint8Array): boolean {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0 || /\s/.test(String.fromCharCode(bytes[end - 1] ?? 0)))) end--;
  for (let i = end - PDF_EOF.length; i >= Math.max(0, end - PDF_EOF_WINDOW); i--) {
    if (PDF_EOF.every((b, k) => bytes[i + k] === b)) return true;
  }
  return false;
}

/**
 * Reasons the bytes are not a whole document, whatever a reader could still make of them. A PDF
 * cut short (an interrupted upload) often opens: mupdf rebuilds the cross-reference table from
 * what is left and shows the pages it finds, and a record extracted from them would describe half
 * a document as if it were all of it. So a PDF without its end marker is refused.
 */
export function checkIntegrity(bytes: Uint8Array, mediaType: MediaType): Reason[] {
  if (mediaType === 'application/pdf' && !pdfHasEndMarker(bytes)) {
    return [
      {
        code: 'TRUNCATED',
        message:
          'the PDF does not end with the %%EOF marker every complete PDF has: the file was cut short (an interrupted upload or copy?); upload the whole file',
      },
    ];
  }
  return [];
}

/** Textract's asynchronous limits (AWS_CONTRACTS.md), checked before any OCR spend. */
export const TEXTRACT_LIMITS = {
  maxPages: 3000,
  maxPdfTiffBytes: 500 * 1024 * 1024,
  maxImageBytes: 10 * 1024 * 1024,
  maxPixelsPerSide: 10_000,
} as const;

/** Reasons a document of this size and type cannot be processed at all (empty when it can). */
export function checkLimits(size: number, info: DocumentInfo): Reason[] {
  const reasons: Reason[] = [];
  const isImage = info.mediaType === 'image/png' || info.mediaType === 'image/jpeg';
  const maxBytes = isImage ? TEXTRACT_LIMITS.maxImageBytes : TEXTRACT_LIMITS.maxPdfTiffBytes;
  if (size > maxBytes) {
    reasons.push({
      code: 'TOO_LARGE',
      message: `${size} bytes exceeds the ${maxBytes}-byte limit for ${info.mediaType}`,
    });
  }
  if (info.encrypted) {
    reasons.push({ code: 'ENCRYPTED', message: 'the PDF is password-protected or encrypted' });
  }
  if (info.pages > TEXTRACT_LIMITS.maxPages) {
    reasons.push({
      code: 'TOO_MANY_PAGES',
      message: `${info.pages} pages exceeds the ${TEXTRACT_LIMITS.maxPages}-page limit`,
    });
  }
  if (info.pages === 0) {
    reasons.push({ code: 'NO_PAGES', message: 'the document has no pages' });
  }
  info.pixelSizes.forEach((px, i) => {
    if (px && (px.width > TEXTRACT_LIMITS.maxPixelsPerSide || px.height > TEXTRACT_LIMITS.maxPixelsPerSide)) {
      reasons.push({
        code: 'IMAGE_TOO_LARGE',
        message: `page ${i + 1} is ${px.width}×${px.height} px; each side must be at most ${TEXTRACT_LIMITS.maxPixelsPerSide} px`,
      });
    }
  });
  return reasons;
}
