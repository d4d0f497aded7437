/**
 * Pixel size of a PNG, JPEG or TIFF read from its header alone. Register uses it to refuse an image
 * that breaks Textract's 10,000 px limit before any decoder allocates memory for it: a 40,000 ×
 * 40,000 px "decompression bomb" is a few kilobytes on disk but gigabytes once decoded.
 *
 * The size is the stored size: a JPEG's EXIF orientation or a TIFF's Orientation tag may swap the
 * displayed width and height, which changes nothing for a per-side limit.
 */

export interface PixelSize {
  width: number;
  height: number;
}

/** Pixel size from the file header, or `undefined` when the bytes are not a readable PNG/JPEG/TIFF header. */
export function imageSize(bytes: Uint8Array): PixelSize | undefined {
  if (isPng(bytes)) return pngSize(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegSize(bytes);
  if (isTiff(bytes)) return tiffSize(bytes);
  return undefined;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(bytes: Uint8Array): boolean {
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

function isTiff(bytes: Uint8Array): boolean {
  return (
    (bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 0x2a && bytes[3] === 0x00) ||
    (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0x00 && bytes[3] === 0x2a)
  );
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function valid(width: number, height: number): PixelSize | undefined {
  // Zero means "unknown here" (a JPEG may defer its height to a DNL marker): not a size to trust.
  return width > 0 && height > 0 ? { width, height } : undefined;
}

function pngSize(bytes: Uint8Array): PixelSize | undefined {
  // The PNG spec requires IHDR to be the first chunk: signature(8) length(4) "IHDR"(4) width(4) height(4).
  if (bytes.length < 24) return undefined;
  const ihdr = String.fromCharCode(bytes[12] ?? 0, bytes[13] ?? 0, bytes[14] ?? 0, bytes[15] ?? 0);
  if (ihdr !== 'IHDR') return undefined;
  const dv = view(bytes);
  return valid(dv.getUint32(16), dv.getUint32(20));
}

/** SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegSize(bytes: Uint8Array): PixelSize | undefined {
  const dv = view(bytes);
  let i = 2;
  while (i + 1 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1] ?? 0;
    if (marker === 0xff) {
      // Fill bytes: any number of 0xFF may precede a marker.
      i += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2; // standalone markers have no length field
      continue;
    }
    // The frame header must come before the first scan; reaching SOS or EOI means there is none.
    if (marker === 0xda || marker === 0xd9) return undefined;
    if (i + 4 > bytes.length) return undefined;
    const length = dv.getUint16(i + 2);
    if (length < 2) return undefined;
    if (isStartOfFrame(marker)) {
      // Segment: length(2) precision(1) height(2) width(2).
      if (i + 9 > bytes.length) return undefined;
      return valid(dv.getUint16(i + 7), dv.getUint16(i + 5));
    }
    i += 2 + length;
  }
  return undefined;
}

const TIFF_IMAGE_WIDTH = 256;
const TIFF_IMAGE_LENGTH = 257;
const TIFF_SHORT = 3;
const TIFF_LONG = 4;

function tiffSize(bytes: Uint8Array): PixelSize | undefined {
  if (bytes.length < 8) return undefined;
  const dv = view(bytes);
  const le = bytes[0] === 0x49;
  const ifd = dv.getUint32(4, le);
  if (ifd + 2 > bytes.length) return undefined;
  const count = dv.getUint16(ifd, le);
  let width = 0;
  let height = 0;
  for (let n = 0; n < count; n++) {
    const entry = ifd + 2 + n * 12;
    if (entry + 12 > bytes.length) return undefined;
    const tag = dv.getUint16(entry, le);
    if (tag !== TIFF_IMAGE_WIDTH && tag !== TIFF_IMAGE_LENGTH) continue;
    const type = dv.getUint16(entry + 2, le);
    // Both tags hold one value, inline in the entry's 4-byte value field.
    let value: number;
    if (type === TIFF_SHORT) value = dv.getUint16(entry + 8, le);
    else if (type === TIFF_LONG) value = dv.getUint32(entry + 8, le);
    else return undefined;
    if (tag === TIFF_IMAGE_WIDTH) width = value;
    else height = value;
  }
  return valid(width, height);
}
