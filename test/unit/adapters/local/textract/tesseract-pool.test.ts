import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  installedEnglishData,
  TesseractPool,
} from '../../../../../src/adapters/local/textract/tesseract-pool.ts';
import { ConfigError } from '../../../../../src/errors.ts';
import { KNOWN_LINES, knownWords, makeTextPng, wordRecall } from '../../documents/fixtures.ts';
import { ROOT, runWithoutNetwork } from './offline-child.ts';

describe('Function: installedEnglishData', () => {
  it('returns a folder in node_modules holding the gzipped English model', () => {
    // Act
    const data = installedEnglishData();
    // Assess
    expect(data.langPath.startsWith(join(ROOT, 'node_modules', '@tesseract.js-data', 'eng'))).toBe(true);
    expect(data.gzip).toBe(true);
    expect(existsSync(join(data.langPath, 'eng.traineddata.gz'))).toBe(true);
  });
});

describe('Function: TesseractPool', () => {
  const pool = new TesseractPool({ size: 2 });
  afterAll(async () => {
    await pool.terminate();
  });

  it('returns PAGE/LINE/WORD blocks with the known words and ratio geometry', async () => {
    // Prepare
    const png = makeTextPng(KNOWN_LINES, 150);
    // Act
    const blocks = await pool.recognize(png, 1275, 1650, 3);
    // Assess
    const words = blocks.filter((b) => b.BlockType === 'WORD');
    expect(
      wordRecall(
        knownWords(KNOWN_LINES),
        words.map((w) => w.Text ?? ''),
      ),
    ).toBeGreaterThanOrEqual(0.9);
    expect(blocks[0]?.BlockType).toBe('PAGE');
    expect(blocks.every((b) => b.Page === 3)).toBe(true);
    for (const word of words) {
      const box = word.Geometry?.BoundingBox;
      expect(box?.Left).toBeGreaterThan(0.05);
      expect((box?.Left ?? 0) + (box?.Width ?? 0)).toBeLessThan(1);
      expect(box?.Top).toBeLessThan(0.3);
      expect(word.Confidence).toBeGreaterThan(0);
      expect(word.Confidence).toBeLessThanOrEqual(100);
    }
  });

  it('returns results for more pages than workers, never starting more than its size', async () => {
    // Prepare
    const png = makeTextPng(['Alpha beta gamma delta'], 100);
    // Act
    const results = await Promise.all([1, 2, 3].map((page) => pool.recognize(png, 850, 1100, page)));
    // Assess
    expect(results.map((r) => r[0]?.Page)).toEqual([1, 2, 3]);
    expect(pool.size).toBe(2);
  });

  it('returns a rejection for pages still waiting when the pool is terminated', async () => {
    // Prepare
    const own = new TesseractPool({ size: 1 });
    const pending = own.recognize(makeTextPng(['Never read'], 72), 612, 792, 1);
    // Act
    await own.terminate();
    // Assess
    await expect(pending).rejects.toThrow('terminated');
    await expect(own.recognize(new Uint8Array(), 1, 1, 1)).rejects.toThrow('terminated');
  });

  it('returns a ConfigError for language data that is not on disk', () => {
    expect(() => new TesseractPool({ language: { langPath: '/nonexistent', gzip: true } })).toThrow(
      ConfigError,
    );
  });

  it('returns OCR text in a process whose every network request is refused', async () => {
    // Prepare: the child first proves a download would fail, then runs OCR end to end.
    const script = `
      import { TesseractPool } from ${JSON.stringify(join(ROOT, 'src/adapters/local/textract/tesseract-pool.ts'))};
      import { makeTextPng } from ${JSON.stringify(join(ROOT, 'test/unit/adapters/documents/fixtures.ts'))};
      const blocked = await fetch('https://cdn.jsdelivr.net/npm/@tesseract.js-data/eng/4.0.0_best_int/eng.traineddata.gz')
        .then(() => false, () => true);
      const pool = new TesseractPool({ size: 1 });
      const blocks = await pool.recognize(makeTextPng(['Offline recognition works'], 150), 1275, 1650, 1);
      await pool.terminate();
      console.log(JSON.stringify({ blocked, words: blocks.filter((b) => b.BlockType === 'WORD').map((b) => b.Text) }));
    `;

    // Act
    const result = await runWithoutNetwork(script);

    // Assess
    expect(result.blocked).toBe(true);
    expect(wordRecall(['Offline', 'recognition', 'works'], result.words)).toBe(1);
  });
});
