import { describe, expect, it } from 'vitest';
import { imageSize } from '../../../src/core/image-size.ts';

function png(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(16, width);
  dv.setUint32(20, height);
  return bytes;
}

const be16 = (n: number) => [n >> 8, n & 0xff];

/** SOI, a JFIF APP0, optional extra segments, then an SOFn frame header and SOS. */
function jpeg(width: number, height: number, sof = 0xc0, extra: number[] = []): Uint8Array {
  const app0 = [0xff, 0xe0, ...be16(16), 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const frame = [0xff, sof, ...be16(11), 8, ...be16(height), ...be16(width), 1, 1, 0x11, 0];
  const sos = [0xff, 0xda, ...be16(8), 1, 1, 0, 0, 0x3f, 0];
  return new Uint8Array([0xff, 0xd8, ...app0, ...extra, ...frame, ...sos]);
}

function tiff(littleEndian: boolean, width: number, height: number, type: 3 | 4): Uint8Array {
  const bytes = new Uint8Array(8 + 2 + 3 * 12 + 4);
  const dv = new DataView(bytes.buffer);
  bytes.set(littleEndian ? [0x49, 0x49, 0x2a, 0] : [0x4d, 0x4d, 0, 0x2a]);
  dv.setUint32(4, 8, littleEndian);
  dv.setUint16(8, 3, littleEndian);
  const entries: [number, number][] = [
    [254, 0],
    [256, width],
    [257, height],
  ];
  entries.forEach(([tag, value], i) => {
    const at = 10 + i * 12;
    dv.setUint16(at, tag, littleEndian);
    dv.setUint16(at + 2, tag === 254 ? 4 : type, littleEndian);
    dv.setUint32(at + 4, 1, littleEndian);
    if (tag !== 254 && type === 3) dv.setUint16(at + 8, value, littleEndian);
    else dv.setUint32(at + 8, value, littleEndian);
  });
  return bytes;
}

describe('Function: imageSize', () => {
  it('returns the size in a PNG IHDR chunk', () => {
    // Prepare
    const bytes = png(1240, 1754);
    // Act
    const size = imageSize(bytes);
    // Assess
    expect(size).toEqual({ width: 1240, height: 1754 });
  });

  it('returns a 40000 × 40000 claim from the header alone', () => {
    expect(imageSize(png(40_000, 40_000))).toEqual({ width: 40_000, height: 40_000 });
  });

  it('returns the size in a baseline JPEG frame header after other segments', () => {
    // Prepare: an EXIF-like APP1 segment before the frame
    const app1 = [0xff, 0xe1, ...be16(8), 0x45, 0x78, 0x69, 0x66, 0, 0];
    // Act
    const size = imageSize(jpeg(800, 600, 0xc0, app1));
    // Assess
    expect(size).toEqual({ width: 800, height: 600 });
  });

  it('returns the size in a progressive JPEG frame header (SOF2)', () => {
    expect(imageSize(jpeg(12_000, 300, 0xc2))).toEqual({ width: 12_000, height: 300 });
  });

  it('returns the size when fill bytes precede a marker', () => {
    // Prepare: 0xFF fill bytes are allowed before any marker
    const bytes = jpeg(64, 32, 0xc1, [0xff, 0xff]);
    // Act / Assess
    expect(imageSize(bytes)).toEqual({ width: 64, height: 32 });
  });

  it('returns undefined for a JPEG whose scan starts before any frame header', () => {
    // Prepare: DHT (0xC4) sits in the SOF range but is not a frame header
    const dht = [0xff, 0xc4, ...be16(4), 0, 0];
    const sos = [0xff, 0xda, ...be16(4), 0, 0];
    const bytes = new Uint8Array([0xff, 0xd8, ...dht, ...sos]);
    // Act / Assess
    expect(imageSize(bytes)).toBeUndefined();
  });

  it('returns the size from a little-endian TIFF with SHORT values', () => {
    expect(imageSize(tiff(true, 2480, 3508, 3))).toEqual({ width: 2480, height: 3508 });
  });

  it('returns the size from a big-endian TIFF with LONG values', () => {
    expect(imageSize(tiff(false, 70_000, 20, 4))).toEqual({ width: 70_000, height: 20 });
  });

  it('returns undefined for truncated headers', () => {
    // Prepare
    const cuts = [png(10, 10).slice(0, 20), jpeg(10, 10).slice(0, 25), tiff(true, 10, 10, 3).slice(0, 20)];
    // Act
    const sizes = cuts.map(imageSize);
    // Assess
    expect(sizes).toEqual([undefined, undefined, undefined]);
  });

  it('returns undefined for bytes that are not an image', () => {
    expect(imageSize(new TextEncoder().encode('%PDF-1.7\n'))).toBeUndefined();
    expect(imageSize(new Uint8Array())).toBeUndefined();
  });

  it('returns undefined for a zero width', () => {
    expect(imageSize(png(0, 10))).toBeUndefined();
  });
});
