import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MupdfReader } from '../../../../../src/adapters/documents/mupdf-reader.ts';
import { FsStore } from '../../../../../src/adapters/local/fs-store.ts';
import {
  LocalTextract,
  type LocalTextractFaults,
  mergeBoxes,
} from '../../../../../src/adapters/local/textract/local-textract.ts';
import type { OcrEngine } from '../../../../../src/adapters/local/textract/ocr-engine.ts';
import { PaddleOcr } from '../../../../../src/adapters/local/textract/paddle-ocr.ts';
import { TesseractPool } from '../../../../../src/adapters/local/textract/tesseract-pool.ts';
import { linearizePages } from '../../../../../src/core/ocr/linearize.ts';
import type { Block, TextractGetResponse } from '../../../../../src/core/ocr/textract.ts';
import {
  IMAGE_LINES,
  KNOWN_LINES,
  knownWords,
  makeMixedPdf,
  makePdf,
  makeTextPng,
  renderPixmap,
  textImage,
  wordRecall,
} from '../../documents/fixtures.ts';

const CORPUS = fileURLToPath(new URL('../../../../../../shared/corpora/textract/', import.meta.url));

let root: string;
let store: FsStore;
/** The default engine (PP-OCR) reads every page of this suite but those of the tesseract block below. */
const paddle = new PaddleOcr();
const tesseract = new TesseractPool({ size: 2 });
const reader = new MupdfReader();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'local-textract-'));
  store = new FsStore(root, 'docbatch-test');
});

afterAll(async () => {
  await Promise.all([paddle.terminate(), tesseract.terminate()]);
  await rm(root, { recursive: true, force: true });
});

/** A stand-in sharing the suite's engine; tests never close it (that would end the engine). */
function textract(faults?: LocalTextractFaults, engine: OcrEngine = paddle): LocalTextract {
  return new LocalTextract({ store, reader, engine, ...(faults ? { faults } : {}) });
}

const location = (name: string) => ({ S3Object: { Bucket: 'docbatch-test', Name: name } });

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

/** Every block of a finished job, following NextToken. */
async function allBlocks(service: LocalTextract, jobId: string, maxResults?: number): Promise<Block[]> {
  const blocks: Block[] = [];
  let token: string | undefined;
  do {
    const page = await service.getDocumentTextDetection({
      JobId: jobId,
      ...(maxResults ? { MaxResults: maxResults } : {}),
      ...(token ? { NextToken: token } : {}),
    });
    expect(page.JobStatus).toBe('SUCCEEDED');
    blocks.push(...(page.Blocks ?? []));
    token = page.NextToken;
  } while (token);
  return blocks;
}

const wordsOf = (blocks: readonly Block[]) =>
  blocks.filter((b) => b.BlockType === 'WORD').map((b) => b.Text ?? '');

/** A digital PDF with `pages` pages of 40 lines × 10 words: 441 blocks a page. */
function bigPdf(pages: number): Uint8Array {
  const line = (p: number, l: number) => Array.from({ length: 10 }, (_, w) => `p${p}l${l}w${w}`).join(' ');
  return makePdf(
    Array.from({ length: pages }, (_, p) => ({
      lines: Array.from({ length: 40 }, (_, l) => line(p, l)),
      size: 8,
      leading: 12,
    })),
  );
}

describe('Function: LocalTextract.startDocumentTextDetection', () => {
  it('returns a 64-hex JobId at once and reports IN_PROGRESS until the job ends', async () => {
    // Prepare
    await store.put('incoming/plain.pdf', makePdf([{ lines: KNOWN_LINES }]));
    const service = textract();
    // Act
    const { JobId } = await service.startDocumentTextDetection({
      DocumentLocation: location('incoming/plain.pdf'),
    });
    const first = await service.getDocumentTextDetection({ JobId });
    await service.whenIdle();
    const done = await service.getDocumentTextDetection({ JobId });
    // Assess
    expect(JobId).toMatch(/^[0-9a-f]{64}$/);
    expect(first).toEqual({ JobStatus: 'IN_PROGRESS' });
    expect(done.JobStatus).toBe('SUCCEEDED');
    expect(done.DocumentMetadata).toEqual({ Pages: 1 });
    expect(done.DetectDocumentTextModelVersion).toBe('local-ppocr-v4');
    expect(done.NextToken).toBeUndefined();
    // A digital PDF is read from its text layer: exact words, fixed confidence.
    expect(wordsOf(done.Blocks ?? [])).toEqual(knownWords(KNOWN_LINES));
  });

  it('returns the same JobId for the same ClientRequestToken without starting a second job', async () => {
    // Prepare
    await store.put('incoming/token.pdf', makePdf([{ lines: KNOWN_LINES }]));
    const service = textract();
    const request = { DocumentLocation: location('incoming/token.pdf'), ClientRequestToken: 'doc-123_a' };
    // Act
    const a = await service.startDocumentTextDetection(request);
    const b = await service.startDocumentTextDetection(request);
    const c = await service.startDocumentTextDetection({ DocumentLocation: location('incoming/token.pdf') });
    const mismatch = await errorOf(service.startDocumentTextDetection({ ...request, JobTag: 'other' }));
    await service.whenIdle();
    // Assess
    expect(b.JobId).toBe(a.JobId);
    expect(c.JobId).not.toBe(a.JobId);
    expect(mismatch.name).toBe('Textract.IdempotentParameterMismatchException');
  });

  it('returns Textract.ProvisionedThroughputExceededException for the first N calls under the throttle fault', async () => {
    // Prepare
    await store.put('incoming/throttle.pdf', makePdf([{ lines: KNOWN_LINES }]));
    const service = textract({ throttleStart: 2 });
    const request = { DocumentLocation: location('incoming/throttle.pdf') };
    // Act
    const first = await errorOf(service.startDocumentTextDetection(request));
    const second = await errorOf(service.startDocumentTextDetection(request));
    const third = await service.startDocumentTextDetection(request);
    await service.whenIdle();
    // Assess
    expect(first.name).toBe('Textract.ProvisionedThroughputExceededException');
    expect(second.name).toBe('Textract.ProvisionedThroughputExceededException');
    expect(third.JobId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('returns Textract.InvalidParameterException for a request without DocumentLocation', async () => {
    // Act
    const error = await errorOf(textract().startDocumentTextDetection({}));
    // Assess
    expect(error.name).toBe('Textract.InvalidParameterException');
  });

  it('returns Textract.InvalidS3ObjectException for a missing object or another bucket', async () => {
    // Act
    const missing = await errorOf(
      textract().startDocumentTextDetection({ DocumentLocation: location('nope.pdf') }),
    );
    const elsewhere = await errorOf(
      textract().startDocumentTextDetection({
        DocumentLocation: { S3Object: { Bucket: 'other', Name: 'x.pdf' } },
      }),
    );
    // Assess
    expect(missing.name).toBe('Textract.InvalidS3ObjectException');
    expect(elsewhere.name).toBe('Textract.InvalidS3ObjectException');
  });

  it('returns a ConfigError for an OutputConfig bucket other than the store', async () => {
    // Prepare
    await store.put('incoming/out.pdf', makePdf([{ lines: KNOWN_LINES }]));
    // Act
    const error = await errorOf(
      textract().startDocumentTextDetection({
        DocumentLocation: location('incoming/out.pdf'),
        OutputConfig: { S3Bucket: 'somewhere-else' },
      }),
    );
    // Assess
    expect(error.name).toBe('ConfigError');
  });
});

describe('Function: LocalTextract.getDocumentTextDetection', () => {
  it('returns Textract.InvalidJobIdException for an unknown JobId', async () => {
    const error = await errorOf(textract().getDocumentTextDetection({ JobId: 'f'.repeat(64) }));
    expect(error.name).toBe('Textract.InvalidJobIdException');
  });

  it('returns FAILED with a CORRUPT status message for an unreadable document', async () => {
    // Prepare
    await store.put('incoming/corrupt.pdf', '%PDF-1.7\nnot a PDF after all');
    const service = textract();
    // Act
    const { JobId } = await service.startDocumentTextDetection({
      DocumentLocation: location('incoming/corrupt.pdf'),
    });
    await service.whenIdle();
    const result = await service.getDocumentTextDetection({ JobId });
    // Assess
    expect(result.JobStatus).toBe('FAILED');
    expect(result.StatusMessage).toContain('CORRUPT');
    expect(result.Blocks).toBeUndefined();
  });

  it('returns FAILED for every job under the failJobs fault', async () => {
    // Prepare
    await store.put('incoming/fault.pdf', makePdf([{ lines: KNOWN_LINES }]));
    const service = textract({ failJobs: true });
    // Act
    const { JobId } = await service.startDocumentTextDetection({
      DocumentLocation: location('incoming/fault.pdf'),
    });
    await service.whenIdle();
    const result = await service.getDocumentTextDetection({ JobId });
    // Assess
    expect(result).toEqual({ JobStatus: 'FAILED', StatusMessage: expect.stringContaining('failJobs') });
  });

  it('returns MaxResults blocks per call with a NextToken until the last one', async () => {
    // Prepare
    await store.put('incoming/paged.pdf', makePdf([{ lines: KNOWN_LINES }]));
    const service = textract();
    const { JobId } = await service.startDocumentTextDetection({
      DocumentLocation: location('incoming/paged.pdf'),
    });
    await service.whenIdle();
    const whole = await service.getDocumentTextDetection({ JobId });
    // Act
    const first = await service.getDocumentTextDetection({ JobId, MaxResults: 10 });
    const paged = await allBlocks(service, JobId, 10);
    const badToken = await errorOf(service.getDocumentTextDetection({ JobId, NextToken: 'garbage' }));
    // Assess
    expect(first.Blocks).toHaveLength(10);
    expect(first.NextToken).toEqual(expect.any(String));
    expect(first.DocumentMetadata).toEqual({ Pages: 1 });
    expect(paged).toEqual(whole.Blocks);
    expect(badToken.name).toBe('Textract.InvalidParameterException');
  });
});

describe('Function: LocalTextract OutputConfig', () => {
  it('returns output objects in the Textract layout, ≤ 1000 blocks each, matching Get', async () => {
    // Prepare: 3 digital pages, ~1,300 blocks
    await store.put('incoming/big.pdf', bigPdf(3));
    const service = textract();
    // Act
    const { JobId } = await service.startDocumentTextDetection({
      DocumentLocation: location('incoming/big.pdf'),
      OutputConfig: { S3Bucket: 'docbatch-test', S3Prefix: 'ocr/big' },
    });
    await service.whenIdle();
    const viaGet = await allBlocks(service, JobId, 300);
    // Assess
    const files = (await readdir(join(root, 'ocr', 'big', JobId))).sort();
    expect(files).toEqual(['.s3_access_check', '1', '2']);
    expect(await readFile(join(root, 'ocr', 'big', JobId, '.s3_access_check'), 'utf8')).toBe('');
    const pages = await Promise.all(
      ['1', '2'].map(
        async (n) => JSON.parse(await store.getText(`ocr/big/${JobId}/${n}`)) as TextractGetResponse,
      ),
    );
    expect(pages[0]?.Blocks).toHaveLength(1000);
    expect(pages.every((p) => p.JobStatus === 'SUCCEEDED' && p.DocumentMetadata?.Pages === 3)).toBe(true);
    const stored = pages.flatMap((p) => p.Blocks ?? []);
    expect(stored).toHaveLength(3 * (1 + 40 + 400));
    expect(viaGet).toEqual(stored);
    expect(new Set(stored.map((b) => b.Page))).toEqual(new Set([1, 2, 3]));
  });

  it('returns output under textract_output when OutputConfig has no S3Prefix', async () => {
    // Prepare
    await store.put('incoming/noprefix.pdf', makePdf([{ lines: KNOWN_LINES }]));
    const service = textract();
    // Act
    const { JobId } = await service.startDocumentTextDetection({
      DocumentLocation: location('incoming/noprefix.pdf'),
      OutputConfig: { S3Bucket: 'docbatch-test' },
    });
    await service.whenIdle();
    // Assess
    expect(await store.head(`textract_output/${JobId}/1`)).toBeDefined();
    expect(await store.head(`textract_output/${JobId}/.s3_access_check`)).toBeDefined();
  });
});

describe.each([
  ['PP-OCR', () => paddle, 'local-ppocr-v4'],
  ['tesseract', () => tesseract, 'local-tesseract'],
] as const)('Function: LocalTextract OCR through %s', (name, engine, version) => {
  it('returns the known words of an image, and the engine in DetectDocumentTextModelVersion', async () => {
    // Prepare
    await store.put(`incoming/scan-${name}.png`, makeTextPng(KNOWN_LINES, 150));
    const service = textract(undefined, engine());
    const started = Date.now();
    // Act
    const { JobId } = await service.startDocumentTextDetection({
      DocumentLocation: location(`incoming/scan-${name}.png`),
    });
    await service.whenIdle();
    const blocks = await allBlocks(service, JobId);
    // Assess
    const recall = wordRecall(knownWords(KNOWN_LINES), wordsOf(blocks));
    console.log(
      `LocalTextract OCR (${name}): 1 image page in ${Date.now() - started} ms, word recall ${recall.toFixed(3)}`,
    );
    expect((await service.getDocumentTextDetection({ JobId })).DetectDocumentTextModelVersion).toBe(version);
    expect(recall).toBeGreaterThanOrEqual(0.9);
    const lines = blocks.filter((b) => b.BlockType === 'LINE');
    expect(lines.length).toBeGreaterThanOrEqual(KNOWN_LINES.length);
    expect(lines.every((l) => (l.Confidence ?? 0) > 50 && l.Page === 1)).toBe(true);
  });

  it('returns text-layer blocks for a digital page and OCR blocks for a scanned page of one PDF', async () => {
    // Prepare: page 1 digital, page 2 an image of text with no text layer
    const scanned = ['Scanned page mentions seventeen crates of pears'];
    const scan = renderPixmap(makePdf([{ lines: scanned }]), 150);
    await store.put(`incoming/mixed-${name}.pdf`, makePdf([{ lines: KNOWN_LINES }, { image: scan }]));
    scan.destroy();
    const service = textract(undefined, engine());
    // Act
    const { JobId } = await service.startDocumentTextDetection({
      DocumentLocation: location(`incoming/mixed-${name}.pdf`),
    });
    await service.whenIdle();
    const blocks = await allBlocks(service, JobId);
    // Assess
    const page1 = blocks.filter((b) => b.Page === 1 && b.BlockType === 'WORD');
    const page2 = blocks.filter((b) => b.Page === 2 && b.BlockType === 'WORD');
    expect(page1.map((w) => w.Text)).toEqual(knownWords(KNOWN_LINES));
    expect(page1.every((w) => w.Confidence === 99.9)).toBe(true);
    expect(wordRecall(knownWords(scanned), wordsOf(page2))).toBeGreaterThanOrEqual(0.9);
    expect(blocks.filter((b) => b.BlockType === 'PAGE').map((b) => b.Page)).toEqual([1, 2]);
  });
});

describe('Function: LocalTextract on a text-layer page with text in a picture', () => {
  it('returns the text layer’s exact words and the picture’s OCR’d words, placed inside the picture', async () => {
    // Prepare: KNOWN_LINES in the text layer; IMAGE_LINES only as pixels at [72, 400, 540, 520] pt
    await store.put('incoming/picture.pdf', makeMixedPdf([72, 400, 540, 520]));
    const service = textract();
    // Act
    const { JobId } = await service.startDocumentTextDetection({
      DocumentLocation: location('incoming/picture.pdf'),
    });
    await service.whenIdle();
    const blocks = await allBlocks(service, JobId);
    // Assess: the text layer first, exactly as the text layer alone gives it
    const words = blocks.filter((b) => b.BlockType === 'WORD');
    const known = knownWords(KNOWN_LINES);
    expect(words.slice(0, known.length).map((w) => w.Text)).toEqual(known);
    expect(words.slice(0, known.length).every((w) => w.Confidence === 99.9)).toBe(true);
    // then the picture's words, from OCR, with their boxes inside the picture's
    const ocr = words.slice(known.length);
    expect(wordRecall(knownWords(IMAGE_LINES), wordsOf(ocr))).toBeGreaterThanOrEqual(0.8);
    for (const w of ocr) {
      const box = w.Geometry?.BoundingBox;
      // OCR confidences (PP-OCR's reach 99.99) are never the text layer's fixed 99.9.
      expect(w.Confidence).not.toBe(99.9);
      expect(box?.Left ?? 0).toBeGreaterThanOrEqual(72 / 612 - 0.001);
      expect((box?.Left ?? 0) + (box?.Width ?? 0)).toBeLessThanOrEqual(540 / 612 + 0.001);
      expect(box?.Top ?? 0).toBeGreaterThanOrEqual(400 / 792 - 0.001);
      expect((box?.Top ?? 0) + (box?.Height ?? 0)).toBeLessThanOrEqual(520 / 792 + 0.001);
    }
    // One page, one PAGE block, ids unique: the linearizer reads the picture's lines in place.
    expect(blocks.filter((b) => b.BlockType === 'PAGE')).toHaveLength(1);
    expect(new Set(blocks.map((b) => b.Id)).size).toBe(blocks.length);
    const text = linearizePages(blocks)[0]?.text ?? '';
    expect(text.indexOf('Payment due within thirty days')).toBeLessThan(text.indexOf('Zephyr Bakery'));
    expect(text.indexOf('Zephyr Bakery')).toBeGreaterThan(-1);
  });

  it('returns byte-identical blocks for the same document, however the OCR calls interleave', async () => {
    // Prepare: two pictures on one page and one on the next, so several OCR calls run at once
    const picture = textImage();
    const logo = textImage(['ACME'], 150, 90, 150);
    const pdf = makePdf([
      {
        lines: KNOWN_LINES,
        images: [
          { pixmap: logo, rect: [480, 20, 580, 80] },
          { pixmap: picture, rect: [72, 400, 540, 520] },
        ],
      },
      { lines: KNOWN_LINES, images: [{ pixmap: picture, rect: [72, 600, 540, 720] }] },
    ]);
    picture.destroy();
    logo.destroy();
    await store.put('incoming/pictures.pdf', pdf);
    const service = textract();
    // Act
    const run = async () => {
      const { JobId } = await service.startDocumentTextDetection({
        DocumentLocation: location('incoming/pictures.pdf'),
      });
      await service.whenIdle();
      return allBlocks(service, JobId);
    };
    const [a, b] = [await run(), await run()];
    // Assess: Textract reads a logo's text as any other, so the stand-in OCRs it too
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(wordsOf(a.filter((x) => x.Page === 1))).toContain('ACME');
    expect(wordsOf(a.filter((x) => x.Page === 2))).toContain('Zephyr');
  });
});

describe('Function: mergeBoxes', () => {
  const box = (left: number, top: number, right: number, bottom: number) => ({
    left,
    top,
    right,
    bottom,
    coverage: (right - left) * (bottom - top),
    width: 100,
    height: 100,
  });

  it('joins overlapping images into one region and keeps separate ones apart', () => {
    expect(
      mergeBoxes([
        box(0.1, 0.1, 0.3, 0.2),
        box(0.6, 0.6, 0.9, 0.7),
        box(0.25, 0.15, 0.5, 0.3),
        box(0.45, 0.25, 0.65, 0.65),
      ]),
    ).toEqual([{ left: 0.1, top: 0.1, right: 0.9, bottom: 0.7 }]);
    expect(mergeBoxes([box(0.1, 0.1, 0.2, 0.2), box(0.3, 0.3, 0.4, 0.4)])).toHaveLength(2);
  });
});

const SAECO = fileURLToPath(
  new URL('../../../../../../shared/corpora/invoice2data/saeco.pdf', import.meta.url),
);
if (!existsSync(SAECO)) console.warn(`SKIPPED saeco test: invoice2data corpus not found at ${SAECO}`);

describe.skipIf(!existsSync(SAECO))(
  'Function: LocalTextract on saeco.pdf (company data only as a picture)',
  () => {
    it('returns the issuer the picture shows beside the text layer', async () => {
      // Prepare
      await store.put('corpus/saeco.pdf', await readFile(SAECO));
      const service = textract();
      // Act
      const { JobId } = await service.startDocumentTextDetection({
        DocumentLocation: location('corpus/saeco.pdf'),
      });
      await service.whenIdle();
      const text = linearizePages(await allBlocks(service, JobId))
        .map((p) => p.text)
        .join('\n');
      // Assess: the text layer's own words and the picture's
      expect(text).toContain('The issuer encapsulated their company data in the image below');
      expect(text).toContain('Luscious');
      expect(text).toMatch(/Gorredijk/);
    });
  },
);

const CORPUS_CASES = [
  ['textractor/single-page-1/single-page-1.png', 'textractor/single-page-1/test_detect_document_text.json'],
  ['trp/multicol/multicol-test-document.png', 'trp/multicol/test-multicol-response.json'],
  [
    'textractor/in-table-title/in-table-title.png',
    'textractor/in-table-title/test_detect_no_duplicate_words_in-table-title.png.json',
  ],
] as const;
const corpusPresent = CORPUS_CASES.every(
  ([image, response]) => existsSync(join(CORPUS, image)) && existsSync(join(CORPUS, response)),
);
if (!corpusPresent) {
  console.warn(`SKIPPED corpus word-recall test: Textract corpus not found at ${CORPUS}`);
}

describe.skipIf(!corpusPresent)('Function: LocalTextract on the Textract corpus', () => {
  it('returns ≥ 0.8 word recall against real Textract WORD blocks', async () => {
    // Prepare
    const service = textract();
    const jobs: { name: string; jobId: string; truth: string[] }[] = [];
    const started = Date.now();
    for (const [image, response] of CORPUS_CASES) {
      const key = `corpus/${image.split('/').at(-1)}`;
      await store.put(key, await readFile(join(CORPUS, image)));
      const truth =
        (JSON.parse(await readFile(join(CORPUS, response), 'utf8')) as TextractGetResponse).Blocks ?? [];
      // Act
      const { JobId } = await service.startDocumentTextDetection({ DocumentLocation: location(key) });
      jobs.push({ name: key, jobId: JobId, truth: wordsOf(truth) });
    }
    await service.whenIdle();
    // Assess
    const recalls: Record<string, number> = {};
    for (const job of jobs) {
      recalls[job.name] = wordRecall(job.truth, wordsOf(await allBlocks(service, job.jobId)));
    }
    console.log(
      `LocalTextract corpus: ${jobs.length} pages in ${Date.now() - started} ms, word recall`,
      recalls,
    );
    for (const recall of Object.values(recalls)) expect(recall).toBeGreaterThanOrEqual(0.8);
  });
});
