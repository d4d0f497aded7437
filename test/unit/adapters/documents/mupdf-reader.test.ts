import * as mupdf from 'mupdf';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { blockId } from '../../../../src/adapters/documents/blocks.ts';
import {
  defaultDpi,
  MIN_IMAGE_TEXT_PX,
  MupdfReader,
  PageRenderer,
  renderPagePng,
} from '../../../../src/adapters/documents/mupdf-reader.ts';
import { checkLimits } from '../../../../src/core/documents.ts';
import { imageSize } from '../../../../src/core/image-size.ts';
import type { Block } from '../../../../src/core/ocr/textract.ts';
import { DocumentRejectedError } from '../../../../src/errors.ts';
import {
  KNOWN_LINES,
  knownWords,
  makeEncryptedPdf,
  makeJpeg,
  makeMixedPdf,
  makePdf,
  makePngHeader,
  makeTextPng,
  makeTiff,
  renderPixmap,
  textImage,
} from './fixtures.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function rejection(promise: Promise<unknown>): Promise<DocumentRejectedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DocumentRejectedError);
  return error as DocumentRejectedError;
}

function byType(blocks: readonly Block[], type: string): Block[] {
  return blocks.filter((b) => b.BlockType === type);
}

describe('Function: MupdfReader.inspect', () => {
  const reader = new MupdfReader();
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('returns a usable text layer for a digital PDF page and none for a near-empty page', async () => {
    // Prepare
    const pdf = makePdf([{ lines: KNOWN_LINES }, { lines: ['Page 2'] }]);
    // Act
    const info = await reader.inspect(pdf, 'application/pdf');
    // Assess
    expect(info).toEqual({
      mediaType: 'application/pdf',
      pages: 2,
      encrypted: false,
      pixelSizes: [undefined, undefined],
      textLayer: [true, false],
      uncoveredImages: [[], []],
    });
  });

  it('returns no usable text layer for a scanned page carrying a short real-text stamp', async () => {
    // Prepare: a full-page image with a 20-character header in real text
    const scan = renderPixmap(makePdf([{ lines: KNOWN_LINES }]), 72);
    const pdf = makePdf([{ image: scan, lines: ['Scanned by CamScanner'] }]);
    scan.destroy();
    // Act
    const info = await reader.inspect(pdf, 'application/pdf');
    // Assess
    expect(info.textLayer).toEqual([false]);
  });

  it('returns the pixel size and no text layer for a PNG', async () => {
    // Prepare
    const png = makeTextPng(KNOWN_LINES, 100);
    // Act
    const info = await reader.inspect(png, 'image/png');
    // Assess
    expect(info).toEqual({
      mediaType: 'image/png',
      pages: 1,
      encrypted: false,
      pixelSizes: [imageSize(png)],
      textLayer: [false],
      uncoveredImages: [[]],
    });
    expect(info.pixelSizes[0]).toEqual({ width: 850, height: 1100 });
  });

  it('returns the displayed pixel size of a JPEG rotated by its EXIF orientation', async () => {
    // Prepare: stored 300 × 100, orientation 6 (rotate 90° clockwise)
    const jpeg = makeJpeg(300, 100, 6);
    // Act
    const info = await reader.inspect(jpeg, 'image/jpeg');
    // Assess
    expect(info.pixelSizes).toEqual([{ width: 100, height: 300 }]);
  });

  it('returns every page of a multi-page TIFF', async () => {
    // Prepare
    const tiff = makeTiff([
      { width: 300, height: 200 },
      { width: 120, height: 400 },
    ]);
    // Act
    const info = await reader.inspect(tiff, 'image/tiff');
    // Assess
    expect(info.pages).toBe(2);
    expect(info.pixelSizes).toEqual([
      { width: 300, height: 200 },
      { width: 120, height: 400 },
    ]);
    expect(info.textLayer).toEqual([false, false]);
  });

  it('returns encrypted: true for a password-protected PDF', async () => {
    // Prepare
    const pdf = makeEncryptedPdf();
    // Act
    const info = await reader.inspect(pdf, 'application/pdf');
    // Assess
    expect(info).toEqual({
      mediaType: 'application/pdf',
      pages: 1,
      encrypted: true,
      pixelSizes: [undefined],
      textLayer: [false],
      uncoveredImages: [[]],
    });
    expect(checkLimits(pdf.length, info).map((r) => r.code)).toEqual(['ENCRYPTED']);
  });

  it('returns a CORRUPT rejection for bytes that are no PDF', async () => {
    // Prepare
    const bytes = new TextEncoder().encode('%PDF-1.7\nthis is not really a PDF at all');
    // Act
    const error = await rejection(reader.inspect(bytes, 'application/pdf'));
    // Assess
    expect(error.name).toBe('DocumentRejected');
    expect(error.reasons.map((r) => r.code)).toEqual(['CORRUPT']);
  });

  it('returns a CORRUPT rejection for a truncated JPEG', async () => {
    // Prepare
    const bytes = makeJpeg(64, 64).slice(0, 40);
    // Act
    const error = await rejection(reader.inspect(bytes, 'image/jpeg'));
    // Assess
    expect(error.reasons[0]?.code).toBe('CORRUPT');
  });

  it('returns a 40000 × 40000 PNG as too large without opening it in mupdf', async () => {
    // Prepare: a header with no pixel data behind it
    const png = makePngHeader(40_000, 40_000);
    const small = makeTextPng(['Small'], 72);
    const open = vi.spyOn(mupdf.Document, 'openDocument');
    // Act
    const info = await reader.inspect(png, 'image/png');
    // Assess
    expect(open).not.toHaveBeenCalled();
    expect(info.pixelSizes).toEqual([{ width: 40_000, height: 40_000 }]);
    expect(checkLimits(png.length, info).map((r) => r.code)).toEqual(['IMAGE_TOO_LARGE']);
    // The spy does see the reader's calls: an ordinary image goes through it.
    await reader.inspect(small, 'image/png');
    expect(open).toHaveBeenCalledTimes(1);
  });
});

describe('Function: MupdfReader.inspect, images the text layer does not cover', () => {
  const reader = new MupdfReader();

  it('returns a picture of text below the text as uncovered, with its box, page share and pixel size', async () => {
    // Prepare: 468 × 120 pt of a 612 × 792 pt page, drawn from a 1300 × 334 px picture
    const pdf = makeMixedPdf([72, 400, 540, 520]);
    // Act
    const info = await reader.inspect(pdf, 'application/pdf');
    // Assess: the page keeps its usable text layer; the image is listed beside it
    expect(info.textLayer).toEqual([true]);
    const [image, ...others] = info.uncoveredImages?.[0] ?? [];
    expect(others).toEqual([]);
    expect(image?.left).toBeCloseTo(72 / 612, 4);
    expect(image?.top).toBeCloseTo(400 / 792, 4);
    expect(image?.right).toBeCloseTo(540 / 612, 4);
    expect(image?.bottom).toBeCloseTo(520 / 792, 4);
    expect(image?.coverage).toBeCloseTo((468 * 120) / (612 * 792), 4);
    expect([image?.width, image?.height]).toEqual([1300, 334]);
  });

  it('returns a small logo too, with its small share of the page (the threshold is the caller’s)', async () => {
    // Prepare: a 100 × 60 pt picture in the top-right corner, 1.2 % of the page
    const logo = textImage(['ACME'], 150, 90, 150);
    const pdf = makePdf([{ lines: KNOWN_LINES, images: [{ pixmap: logo, rect: [480, 20, 580, 80] }] }]);
    logo.destroy();
    // Act
    const info = await reader.inspect(pdf, 'application/pdf');
    // Assess
    expect(info.uncoveredImages?.[0]).toHaveLength(1);
    expect(info.uncoveredImages?.[0]?.[0]?.coverage).toBeCloseTo(6000 / (612 * 792), 4);
  });

  it('returns no image that has text-layer characters inside its box (a background, an OCR layer over a picture)', async () => {
    // Prepare: the picture lies under the first lines of real text
    const pixmap = textImage();
    const pdf = makePdf([{ lines: KNOWN_LINES, images: [{ pixmap, rect: [60, 60, 560, 200] }] }]);
    pixmap.destroy();
    // Act
    const info = await reader.inspect(pdf, 'application/pdf');
    // Assess
    expect(info.textLayer).toEqual([true]);
    expect(info.uncoveredImages).toEqual([[]]);
  });

  it(`returns no image under ${MIN_IMAGE_TEXT_PX} px on its shorter side, however large it is drawn`, async () => {
    // Prepare: a 400 × 20 px strip stretched over a third of the page (a coloured band, a rule)
    const strip = new mupdf.Pixmap(mupdf.ColorSpace.DeviceGray, [0, 0, 400, MIN_IMAGE_TEXT_PX - 1], false);
    strip.clear(128);
    const pdf = makePdf([{ lines: KNOWN_LINES, images: [{ pixmap: strip, rect: [0, 300, 612, 560] }] }]);
    strip.destroy();
    // Act
    const info = await reader.inspect(pdf, 'application/pdf');
    // Assess
    expect(info.uncoveredImages).toEqual([[]]);
  });

  it('returns one list per page, empty for a page without images', async () => {
    // Prepare
    const pixmap = textImage();
    const pdf = makePdf([
      { lines: KNOWN_LINES },
      { lines: KNOWN_LINES, images: [{ pixmap, rect: [72, 400, 540, 520] }] },
    ]);
    pixmap.destroy();
    // Act
    const info = await reader.inspect(pdf, 'application/pdf');
    // Assess
    expect(info.uncoveredImages?.map((p) => p.length)).toEqual([0, 1]);
  });
});

describe('Function: MupdfReader.textLayerBlocks', () => {
  const reader = new MupdfReader();
  const pdf = makePdf([{ lines: KNOWN_LINES }, { lines: ['Second page says hello to the reader'] }]);

  it('returns every word of the text layer with its line text', async () => {
    // Act
    const blocks = await reader.textLayerBlocks(pdf, [1]);
    // Assess
    expect(byType(blocks, 'LINE').map((b) => b.Text)).toEqual(KNOWN_LINES);
    expect(byType(blocks, 'WORD').map((b) => b.Text)).toEqual(knownWords(KNOWN_LINES));
    expect(byType(blocks, 'PAGE')).toHaveLength(1);
    expect(blocks.every((b) => b.Page === 1)).toBe(true);
  });

  it('returns geometry as ratios within [0, 1] placed where the text was drawn', async () => {
    // Act
    const blocks = await reader.textLayerBlocks(pdf);
    // Assess
    for (const block of blocks) {
      const box = block.Geometry?.BoundingBox;
      expect(box).toBeDefined();
      for (const v of [box?.Left, box?.Top, box?.Width, box?.Height]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect((box?.Left ?? 0) + (box?.Width ?? 0)).toBeLessThanOrEqual(1);
      expect((box?.Top ?? 0) + (box?.Height ?? 0)).toBeLessThanOrEqual(1);
      expect(block.Geometry?.Polygon).toHaveLength(4);
    }
    // The first line starts 72 pt from the left and its baseline sits 72 pt below the top.
    const first = byType(blocks, 'WORD')[0]?.Geometry?.BoundingBox;
    expect(first?.Left).toBeCloseTo(72 / 612, 2);
    expect((first?.Top ?? 0) + (first?.Height ?? 0)).toBeGreaterThan(60 / 792);
    expect(first?.Top).toBeLessThan(80 / 792);
  });

  it('returns PAGE → LINE → WORD relationships with deterministic UUID ids', async () => {
    // Act
    const blocks = await reader.textLayerBlocks(pdf);
    const again = await reader.textLayerBlocks(pdf);
    // Assess
    expect(again).toEqual(blocks);
    const ids = blocks.map((b) => b.Id ?? '');
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => UUID.test(id))).toBe(true);
    const byId = new Map(blocks.map((b) => [b.Id, b]));
    for (const page of byType(blocks, 'PAGE')) {
      const lines = page.Relationships?.[0]?.Ids ?? [];
      expect(lines.map((id) => byId.get(id)?.BlockType)).toEqual(lines.map(() => 'LINE'));
      for (const lineId of lines) {
        const line = byId.get(lineId);
        const words = (line?.Relationships?.[0]?.Ids ?? []).map((id) => byId.get(id));
        expect(words.every((w) => w?.BlockType === 'WORD' && w.Page === page.Page)).toBe(true);
        expect(words.map((w) => w?.Text).join(' ')).toBe(line?.Text);
      }
    }
    expect(byType(blocks, 'PAGE')[1]?.Id).toBe(blockId('page', 2));
  });

  it('returns only the requested pages, numbered as in the document', async () => {
    // Act
    const blocks = await reader.textLayerBlocks(pdf, [2]);
    // Assess
    expect(new Set(blocks.map((b) => b.Page))).toEqual(new Set([2]));
    expect(byType(blocks, 'LINE').map((b) => b.Text)).toEqual(['Second page says hello to the reader']);
    expect(byType(blocks, 'WORD').every((w) => w.TextType === 'PRINTED' && w.Confidence === 99.9)).toBe(true);
  });

  it('returns an ENCRYPTED rejection for a password-protected PDF', async () => {
    const error = await rejection(reader.textLayerBlocks(makeEncryptedPdf()));
    expect(error.reasons[0]?.code).toBe('ENCRYPTED');
  });
});

describe('Function: renderPagePng', () => {
  it('returns a letter page at 300 dpi by default', () => {
    // Act
    const page = renderPagePng(makePdf([{ lines: KNOWN_LINES }]), 'application/pdf', 0);
    // Assess
    expect([page.width, page.height]).toEqual([2550, 3300]);
    expect(imageSize(page.png)).toEqual({ width: 2550, height: 3300 });
  });

  it('returns a huge page scaled so its longest side stays within 4000 px', () => {
    // Prepare: a 50 × 30 inch poster
    const pdf = makePdf([{ lines: ['Poster'], mediabox: [0, 0, 3600, 2160] }]);
    // Act
    const page = renderPagePng(pdf, 'application/pdf', 0);
    // Assess
    expect(Math.max(page.width, page.height)).toBeLessThanOrEqual(4000);
    expect(Math.max(page.width, page.height)).toBeGreaterThan(3900);
    expect(defaultDpi(3600, 2160)).toBe(80);
  });

  it('returns an image at its native pixel size, with EXIF orientation applied', () => {
    // Act
    const png = renderPagePng(makeTextPng(KNOWN_LINES, 100), 'image/png', 0);
    const jpeg = renderPagePng(makeJpeg(300, 100, 6), 'image/jpeg', 0);
    // Assess
    expect([png.width, png.height]).toEqual([850, 1100]);
    expect([jpeg.width, jpeg.height]).toEqual([100, 300]);
  });

  it('returns only a region of the page, at the resolution of the whole page', async () => {
    // Prepare
    const pdf = makeMixedPdf([72, 400, 540, 520]);
    const info = await new MupdfReader().inspect(pdf, 'application/pdf');
    const region = info.uncoveredImages?.[0]?.[0];
    if (!region) throw new Error('the fixture has no uncovered image');
    const renderer = new PageRenderer(pdf, 'application/pdf');
    // Act
    const page = renderer.renderForOcr(0);
    const part = renderer.renderRegionForOcr(0, region);
    renderer.close();
    // Assess: 468 × 120 pt at 300 dpi
    expect([page.width, page.height]).toEqual([2550, 3300]);
    expect(Math.abs(part.width - 1950)).toBeLessThanOrEqual(1);
    expect(Math.abs(part.height - 500)).toBeLessThanOrEqual(1);
    expect(imageSize(part.png)).toEqual({ width: part.width, height: part.height });
  });

  it('returns the requested page of a multi-page TIFF', () => {
    // Prepare
    const tiff = makeTiff([
      { width: 300, height: 200 },
      { width: 120, height: 400 },
    ]);
    // Act
    const page = renderPagePng(tiff, 'image/tiff', 1);
    // Assess
    expect([page.width, page.height]).toEqual([120, 400]);
  });
});
