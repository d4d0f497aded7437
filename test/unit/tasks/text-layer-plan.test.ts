import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config.ts';
import { type DocumentInfo, imageTextPages, type UncoveredImage } from '../../../src/core/documents.ts';
import { textLayerPlan } from '../../../src/tasks/ingest.ts';

const image = (coverage: number): UncoveredImage => ({
  left: 0.1,
  top: 0.8,
  right: 0.9,
  bottom: 0.8 + coverage / 0.8,
  coverage,
  width: 900,
  height: 180,
});

/** A digital PDF: every page has a usable text layer; `images[i]` are page i's uncovered images. */
function pdf(images: UncoveredImage[][], textLayer = images.map(() => true)): DocumentInfo {
  return {
    mediaType: 'application/pdf',
    pages: images.length,
    encrypted: false,
    pixelSizes: images.map(() => undefined),
    textLayer,
    uncoveredImages: images,
  };
}

const ocr = (textLayer: 'prefer' | 'never' | 'only', imageTextMinCoverage = 0.05) => ({
  ...defaultConfig().ocr,
  textLayer,
  imageTextMinCoverage,
});

describe('Function: imageTextPages', () => {
  it('returns the pages with an uncovered image at or above the share, 0 counting every image', () => {
    const info = pdf([[image(0.028)], [], [image(0.077), image(0.01)], [image(0.05)]]);
    expect(imageTextPages(info, 0.05)).toEqual([3, 4]);
    expect(imageTextPages(info, 0.1)).toEqual([]);
    expect(imageTextPages(info, 0)).toEqual([1, 3, 4]);
  });

  it('returns none when the share is 1 or more (the check is off), or the reader did not look', () => {
    const info = pdf([[{ ...image(1), top: 0, bottom: 1 }]]);
    expect(imageTextPages(info, 1)).toEqual([]);
    const { uncoveredImages: _, ...unlooked } = info;
    expect(imageTextPages(unlooked, 0.05)).toEqual([]);
  });

  it('ignores pages without a usable text layer: they are OCR’d whole anyway', () => {
    expect(imageTextPages(pdf([[image(0.3)]], [false]), 0.05)).toEqual([]);
  });
});

describe('Function: textLayerPlan', () => {
  const mixed = pdf([[], [image(0.077)]]);
  const logos = pdf([[image(0.028)], [image(0.031)]]);

  it('"prefer": a mixed page sends the whole document to Textract and is no text-layer page', () => {
    expect(textLayerPlan(mixed, ocr('prefer'))).toEqual({
      route: 'ocr',
      textLayerPages: 1,
      usablePages: 2,
      imageTextPages: [2],
      reasons: [],
    });
  });

  it('"prefer": logos under the share leave the text layer complete', () => {
    expect(textLayerPlan(logos, ocr('prefer'))).toMatchObject({
      route: 'text-layer',
      textLayerPages: 2,
      imageTextPages: [],
    });
    // A share of 0 counts the logos too; 1 turns the check off.
    expect(textLayerPlan(logos, ocr('prefer', 0)).route).toBe('ocr');
    expect(textLayerPlan(mixed, ocr('prefer', 1)).route).toBe('text-layer');
  });

  it('"only": a mixed page is read from its text layer, its image text reported as skipped', () => {
    expect(textLayerPlan(mixed, ocr('only'))).toEqual({
      route: 'text-layer',
      textLayerPages: 1,
      usablePages: 2,
      imageTextPages: [2],
      reasons: [],
    });
  });

  it('"only": a page without a usable text layer is still refused', () => {
    const plan = textLayerPlan(pdf([[], []], [true, false]), ocr('only'));
    expect(plan.reasons).toEqual([
      {
        code: 'NO_TEXT_LAYER',
        message: 'ocr.textLayer is "only" but 1 of 2 pages have no usable text layer',
      },
    ]);
  });

  it('"never" and images always go to Textract', () => {
    expect(textLayerPlan(logos, ocr('never')).route).toBe('ocr');
    const png: DocumentInfo = {
      mediaType: 'image/png',
      pages: 1,
      encrypted: false,
      pixelSizes: [{ width: 800, height: 600 }],
      textLayer: [false],
      uncoveredImages: [[]],
    };
    expect(textLayerPlan(png, ocr('prefer'))).toMatchObject({ route: 'ocr', textLayerPages: 0 });
  });
});
