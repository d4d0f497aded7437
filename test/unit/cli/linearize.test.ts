import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../../src/cli/main.ts';

const CORPUS = new URL('../../../../shared/corpora/textract/', import.meta.url).pathname;
const hasCorpus = existsSync(CORPUS);
if (!hasCorpus)
  console.warn(`Textract corpus not found at ${CORPUS}: skipping the corpus cases of docbatch linearize`);

let out = '';
let err = '';
let dir: string;
const io = {
  out: (t: string) => {
    out += t;
  },
  err: (t: string) => {
    err += t;
  },
};

beforeEach(async () => {
  out = '';
  err = '';
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
    expect(await main(['node', 'docbatch', 'linearize', file], io)).toBe(EXIT.ok);
    expect(out).toMatch(/^--- page 1 ---\nINVOICE 42/);
  });

  it('returns 1 with one line for a file that is not JSON', async () => {
    const file = join(dir, 'x.json');
    await writeFile(file, 'not json');
    expect(await main(['node', 'docbatch', 'linearize', file], io)).toBe(EXIT.cannotStart);
    expect(err.trim().split('\n')).toHaveLength(1);
  });

  it.skipIf(!hasCorpus)(
    'returns 1 for a real IN_PROGRESS job and for a real FAILED job, naming the status',
    async () => {
      expect(
        await main(
          ['node', 'docbatch', 'linearize', join(CORPUS, 'trp/job-status/test-inprogress-response.json')],
          io,
        ),
      ).toBe(1);
      expect(err).toMatch(/IN_PROGRESS/);
      err = '';
      expect(
        await main(
          ['node', 'docbatch', 'linearize', join(CORPUS, 'trp/job-status/test-failed-response.json')],
          io,
        ),
      ).toBe(1);
      expect(err).toMatch(/FAILED/);
    },
  );

  it.skipIf(!hasCorpus)('prints tables of a real analysis response as Markdown rows', async () => {
    const file = join(CORPUS, 'textractor/single-page-1/test_textractor_analyze_document.json');
    expect(await main(['node', 'docbatch', 'linearize', file], io)).toBe(EXIT.ok);
    expect(out).toMatch(/^\| .* \|$/m);
    expect(out).toMatch(/^\| --- \|/m);
  });
});
