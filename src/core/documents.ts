import type { Reason } from '../errors.ts';

/** Media types docbatch (and Textract) accept. */
export type MediaType = 'application/pdf' | 'image/png' | 'image/jpeg' | 'image/tiff';

/** What Register learns about a document before spending anything on it. */
export interface DocumentInfo {
  mediaType: MediaType;
  pages: number;
  encrypted: boolean;
  /** Pixel size of each page for images (undefined for PDF pages). */
  pixelSizes: ({ width: number; height: number } | undefined)[];
  /** Per page: true when the PDF's own text layer carries usable text. Always false for images. */
  textLayer: boolean[];
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
