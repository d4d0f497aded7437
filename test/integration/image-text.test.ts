/**
 * Born-digital PDFs whose page shows part of its text only as a picture ("mixed" pages): how
 * Register routes them under each `ocr.textLayer` mode and what reaches the OCR output and
 * `documents/<docId>.json`. The picture's words appear nowhere in the text layer.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collectInputs, runPipeline } from '../../src/cli/pipeline.ts';
import type { Config } from '../../src/config.ts';
import type { Block, TextractGetResponse } from '../../src/core/ocr/textract.ts';
import type { DocumentRecord } from '../../src/core/outcomes.ts';
import { IMAGE_LINES, KNOWN_LINES, makeMixedPdf } from '../unit/adapters/documents/fixtures.ts';
import { makeEnv, statesEntered, type TestEnv } from './helpers.ts';

const fast = { waitMs: 5, retryMs: 0 } as const;

let t: TestEnv | undefined;
let dir: string;
let mixedPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docbatch-image-text-'));
  mixedPath = join(dir, 'mixed.pdf');
  await writeFile(mixedPath, makeMixedPdf());
});

afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function ingestMixed(ocr: Partial<Config['ocr']>) {
  t = await makeEnv({
    config: {
      ocr: {
        textLayer: 'prefer',
        imageTextMinCoverage: 0.05,
        textractFeatures: {},
        localEngine: 'paddle',
        ...ocr,
      },
    },
  });
  const run = await runPipeline(t.env, await collectInputs([mixedPath], 'invoice'), fast);
  const docId = run.documents[0]?.docId ?? '';
  const doc = JSON.parse(await t.env.store.getText(`documents/${docId}.json`)) as DocumentRecord;
  const blocks: Block[] = [];
  for await (const obj of t.env.store.list(`ocr/${docId}/`)) {
    if (!/\/\d+$/.test(obj.key)) continue;
    const page = JSON.parse(await t.env.store.getText(obj.key)) as TextractGetResponse;
    blocks.push(...(page.Blocks ?? []));
  }
  const words = blocks.filter((b) => b.BlockType === 'WORD').map((b) => b.Text ?? '');
  const ingest = run.ingest[0];
  if (!ingest) throw new Error('no ingest execution');
  return { states: statesEntered(ingest), doc, words, pages: run.report?.pages };
}

const textLayerWords = KNOWN_LINES.flatMap((l) => l.split(' '));
/** IMAGE_LINES, the words OCR reads reliably at the fixture's resolution (tesseract misses "nummer"). */
const imageWords = IMAGE_LINES.flatMap((l) => l.split(' ')).filter((w) => w !== 'nummer');

describe('Scenario: a born-digital page with text in a picture', () => {
  it('"prefer" sends it to Textract, whose output has the text layer’s words and the picture’s', async () => {
    const { states, doc, words } = await ingestMixed({ textLayer: 'prefer' });
    expect(states.slice(0, 3)).toEqual(['Register', 'Route', 'StartTextract']);
    expect(states).not.toContain('ExtractTextLayer');
    // The page has a usable text layer, but not a complete one: it does not count as read from it.
    expect(doc).toMatchObject({
      pages: 1,
      textLayerPages: 0,
      status: expect.stringMatching(/result|rejected/),
    });
    expect(doc.ocrWarnings).toBeUndefined();
    // The stand-in keeps the text layer exactly and adds the picture's words.
    for (const w of textLayerWords) expect(words).toContain(w);
    for (const w of imageWords) expect(words).toContain(w);
  });

  it('"prefer" has the run report price its page as a Textract page', async () => {
    const { pages } = await ingestMixed({ textLayer: 'prefer' });
    expect(pages).toMatchObject({ textLayerDocuments: 0, textractDocuments: 1, textractPages: 1 });
  });

  it('"prefer" reads it from the text layer when the picture is under ocr.imageTextMinCoverage', async () => {
    // The fixture's picture covers 11.6 % of the page.
    const { states, doc, words } = await ingestMixed({ textLayer: 'prefer', imageTextMinCoverage: 0.2 });
    expect(states.slice(0, 3)).toEqual(['Register', 'Route', 'ExtractTextLayer']);
    expect(doc.textLayerPages).toBe(1);
    expect(words).toEqual(textLayerWords);
  });

  it('"only" reads the text layer without Textract, records the skipped picture as a warning, and prices no Textract', async () => {
    const { states, doc, words, pages } = await ingestMixed({ textLayer: 'only' });
    expect(states.slice(0, 3)).toEqual(['Register', 'Route', 'ExtractTextLayer']);
    expect(states).not.toContain('StartTextract');
    expect(words).toEqual(textLayerWords);
    expect(doc.textLayerPages).toBe(0);
    expect(doc.ocrWarnings).toEqual([{ code: 'IMAGE_TEXT_SKIPPED', pages: [1] }]);
    expect(pages).toMatchObject({
      textLayerDocuments: 1,
      textLayerPages: 1,
      textractDocuments: 0,
      textractPages: 0,
    });
  });
});
