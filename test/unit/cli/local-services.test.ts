import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaddleOcr } from '../../../src/adapters/local/textract/paddle-ocr.ts';
import { TesseractPool } from '../../../src/adapters/local/textract/tesseract-pool.ts';
import { createLocalEnvironment } from '../../../src/cli/local-env.ts';
import { createOcrEngine } from '../../../src/cli/local-services.ts';
import { defaultConfig, mergeConfig } from '../../../src/config.ts';
import { KNOWN_LINES, makePdf } from '../adapters/documents/fixtures.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-services-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Function: createOcrEngine', () => {
  it('returns PP-OCR by default and tesseract on request, each with the cores asked for', async () => {
    const paddle = createOcrEngine();
    const tesseract = createOcrEngine('tesseract', 1);
    expect(paddle).toBeInstanceOf(PaddleOcr);
    expect(createOcrEngine('paddle', 1).size).toBe(1);
    expect(tesseract).toBeInstanceOf(TesseractPool);
    expect(tesseract.size).toBe(1);
    await Promise.all([paddle.terminate(), tesseract.terminate()]);
  });
});

describe('Function: createLocalEnvironment', () => {
  it.each([
    ['paddle', 'local-ppocr-v4'],
    ['tesseract', 'local-tesseract'],
  ] as const)('returns a Textract stand-in reading with ocr.localEngine "%s"', async (engine, version) => {
    // Prepare
    const config = mergeConfig(defaultConfig(), { ocr: { localEngine: engine } });
    const env = await createLocalEnvironment({ workdir: join(dir, engine), config });
    try {
      await env.store.put('incoming/doc.pdf', makePdf([{ lines: KNOWN_LINES }]));
      // Act
      const { JobId } = await env.services.textract.startDocumentTextDetection({
        DocumentLocation: { S3Object: { Bucket: env.store.bucket, Name: 'incoming/doc.pdf' } },
      });
      await env.services.textract.whenIdle();
      const result = await env.services.textract.getDocumentTextDetection({ JobId });
      // Assess
      expect(result.DetectDocumentTextModelVersion).toBe(version);
    } finally {
      await env.close();
    }
  });
});
