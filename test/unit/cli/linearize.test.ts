import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../../src/cli/main.ts';
import { captureIo } from '../../integration/helpers.ts';

const CORPUS = new URL('../../../../shared/corpora/textract/', import.meta.url).pathname;
const hasCorpus = existsSync(CORPUS);
if (!hasCorpus)
  console.warn(`Textract corpus not found at ${CORPUS}: skipping the corpus cases of docbatch linearize`);

let dir: string;
const cap = captureIo();

beforeEach(async () => {
  cap.reset();
  dir = await mkdtemp(join(tmpdir(), 'lin-'));
  process.exitCode = undefined;
});
afterEach(async () => {
  process.exitCode = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('CLI: docbatch linearize', () => {
  it('prints the text of a response with page markers', async () => {
    const file = join(dir, 'r.json');
    await writeFile(
      file,
      JSON.stringify({
        JobStatus: 'SUCCEEDED',
        Blocks: [
          {
            BlockType: 'LINE',
            Id: 'l1',
            Text: 'INVOICE 42',
            Page: 1,
            Geometry: { BoundingBox: { Top: 0.1, Left: 0.1, Width: 0.3, Height: 0.02 } },
          },
          { BlockType: 'WORD', Id: 'w1', Text: 'INVOICE', Page: 1 },
          { BlockType: 'WORD', Id: 'w2', Text: '42', Page: 1 },
        ],
      }),
    );
    expect(await main(['node', 'docbatch', 'linearize', file], cap.io)).toBe(EXIT.ok);
    expect(cap.out).toMatch(/^--- page 1 ---\nINVOICE 42/);
  });

  it('returns 1 with one line for a file that is not JSON', async () => {
    const file = join(dir, 'x.json');
    await writeFile(file, 'not json');
    expect(await main(['node', 'docbatch', 'linearize', file], cap.io)).toBe(EXIT.cannotStart);
    expect(cap.err.trim().split('\n')).toHaveLength(1);
  });

  it.skipIf(!hasCorpus)(
    'returns 1 for a real IN_PROGRESS job and for a real FAILED job, naming the status',
    async () => {
      expect(
        await main(
          ['node', 'docbatch', 'linearize', join(CORPUS, 'trp/job-status/test-inprogress-response.json')],
          cap.io,
        ),
      ).toBe(1);
      expect(cap.err).toMatch(/IN_PROGRESS/);
      cap.err = '';
      expect(
        await main(
          ['node', 'docbatch', 'linearize', join(CORPUS, 'trp/job-status/test-failed-response.json')],
          cap.io,
        ),
      ).toBe(1);
      expect(cap.err).toMatch(/FAILED/);
    },
  );

  it.skipIf(!hasCorpus)('prints tables of a real analysis response as Markdown rows', async () => {
    const file = join(CORPUS, 'textractor/single-page-1/test_textractor_analyze_document.json');
    expect(await main(['node', 'docbatch', 'linearize', file], cap.io)).toBe(EXIT.ok);
    expect(cap.out).toMatch(/^\| .* \|$/m);
    expect(cap.out).toMatch(/^\| --- \|/m);
  });
});
