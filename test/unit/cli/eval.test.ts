import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../../src/cli/main.ts';
import { collectInputs, runPipeline } from '../../../src/cli/pipeline.ts';
import type { EvalReport } from '../../../src/core/eval.ts';
import { captureIo, EXPECTED, makeEnv, ROOT, SAMPLES, type TestEnv } from '../../integration/helpers.ts';

const cap = captureIo();
const cli = (...args: string[]) => main(['node', 'docbatch', 'eval', ...args], cap.io);

let t: TestEnv;
let dir: string;

/** A work directory written by hand: two results, one rejection, for scores known in advance. */
async function handMadeWorkdir(root: string): Promise<void> {
  const put = async (key: string, value: unknown) => {
    const path = join(root, 'bucket', key);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, JSON.stringify(value));
  };
  const source = (name: string) => ({ key: `incoming/receipt/${name}`, sha256: 'x' });
  await put('results/receipt/a.json', {
    docId: 'a',
    type: 'receipt',
    source: source('001.jpg'),
    sources: ['incoming/receipt/001.jpg'],
    record: { merchant_name: 'BOOK TA.K (TAMAN DAYA) SDN BHD', date: '2018-12-25', total: 9 },
  });
  await put('results/receipt/b.json', {
    docId: 'b',
    type: 'receipt',
    source: source('002.jpg'),
    sources: ['incoming/receipt/002.jpg'],
    record: { merchant_name: 'Somewhere Else', date: '2019-01-02', total: 12.5 },
  });
  await put('rejected/c.json', {
    docId: 'c',
    type: 'receipt',
    source: source('003.jpg'),
    sources: ['incoming/receipt/003.jpg'],
    stage: 'validate',
    reasons: [{ code: 'schema.required', message: '/ missing required property "total"', path: '/' }],
  });
  const key = join(root, 'key');
  await mkdir(key, { recursive: true });
  await writeFile(
    join(key, '001.json'),
    JSON.stringify({ company: 'BOOK TA .K (TAMAN DAYA) SDN BHD', date: '25/12/2018', total: '9.00' }),
  );
  // invoice2data's shape: a list holding one object
  await writeFile(
    join(key, '002.json'),
    JSON.stringify([{ company: 'Mr D.I.Y. (M) SDN BHD', date: '02/01/2019', total: '12.50' }]),
  );
  await writeFile(join(key, '003.json'), JSON.stringify({ company: 'X', date: '01/01/2019', total: '3.00' }));
  await writeFile(join(key, 'notes.json'), JSON.stringify(['not', 'a', 'record']));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docbatch-eval-'));
  await handMadeWorkdir(dir);
  t = await makeEnv();
  await runPipeline(t.env, await collectInputs([SAMPLES]), { waitMs: 5, retryMs: 0 });
});

afterAll(async () => {
  process.exitCode = undefined;
  await t.dispose();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  cap.reset();
  process.exitCode = undefined;
});

describe('CLI: docbatch eval on the samples after a real offline run', () => {
  it('scores every field of the samples right: accuracy 1.0', async () => {
    expect(await cli('--expected', EXPECTED, '--workdir', t.workdir)).toBe(EXIT.ok);
    expect(cap.out).toMatch(/3 expected records in .*: 3 with a result, 0 rejected, 0 without outcome/);
    expect(cap.out).toMatch(/accuracy 1\.000 \(\d+ of \d+ expected fields correct/);
    expect(cap.out).toMatch(/skipped rejected\.json: not a record/);
  });

  it('prints the same as JSON for machines', async () => {
    expect(await cli('--expected', EXPECTED, '--workdir', t.workdir, '--json')).toBe(EXIT.ok);
    const report = JSON.parse(cap.out) as EvalReport;
    expect(report.overall.accuracy).toBe(1);
    expect(report.documents).toMatchObject({ expected: 3, results: 3, rejected: 0, missing: 0 });
    expect(report.fields.find((f) => f.field === 'line_items')).toMatchObject({ kind: 'items', recall: 1 });
    expect(report.fields.find((f) => f.field === 'total')).toMatchObject({ kind: 'amount', f1: 1 });
  });
});

describe('CLI: docbatch eval with a mapping on a hand-made work directory', () => {
  it('maps labels, reads a list with one object, counts the rejection as misses and lists the misses', async () => {
    const mapping = join(ROOT, 'eval/sroie.mapping.json');
    const code = await cli(
      '--expected',
      join(dir, 'key'),
      '--workdir',
      dir,
      '--mapping',
      mapping,
      '--misses',
    );
    expect(code).toBe(EXIT.ok);
    expect(cap.out).toMatch(/3 expected records in .*: 2 with a result, 1 rejected, 0 without outcome/);
    // a: 3 of 3; b: date and total right, the name wrong; c: rejected, 3 missed
    expect(cap.out).toMatch(/accuracy 0\.556 \(5 of 9 expected fields correct/);
    expect(cap.out).toMatch(/merchant_name ← company/);
    expect(cap.out).toMatch(
      /002\.json {2}result\n {4}merchant_name: expected "Mr D\.I\.Y\. \(M\) SDN BHD", got "Somewhere Else"/,
    );
    expect(cap.out).toMatch(/003\.json {2}rejected: schema\.required: \/ missing required property "total"/);
    expect(cap.out).toMatch(/skipped notes\.json/);
  });

  it('applies --threshold and --tolerance', async () => {
    const mapping = join(ROOT, 'eval/sroie.mapping.json');
    await cli(
      '--expected',
      join(dir, 'key'),
      '--workdir',
      dir,
      '--mapping',
      mapping,
      '--json',
      '--tolerance',
      '0',
    );
    const r = JSON.parse(cap.out) as EvalReport;
    expect(r.options).toEqual({ threshold: 0.8, tolerance: 0 });
    expect(r.fields.find((f) => f.field === 'total')?.correct).toBe(2);
  });
});

describe('CLI: docbatch eval refuses bad arguments with exit 1 and one line', () => {
  it.each([
    ['no --expected', []],
    ['a missing directory', ['--expected', '/nonexistent/expected']],
    ['a negative tolerance', ['--expected', EXPECTED, '--tolerance', '-1']],
  ])('%s', async (_name, args) => {
    expect(await cli(...args, '--workdir', dir)).toBe(EXIT.cannotStart);
    expect(cap.err.trim()).not.toBe('');
    expect(cap.err).not.toMatch(/\n\s+at /);
  });

  it('an invalid mapping file, with the key and what is allowed', async () => {
    const bad = join(dir, 'bad.mapping.json');
    await writeFile(bad, JSON.stringify({ total: { field: 'total', kind: 'money' } }));
    expect(await cli('--expected', EXPECTED, '--workdir', dir, '--mapping', bad)).toBe(EXIT.cannotStart);
    expect(cap.err).toMatch(/\["total"\]\.kind is "money"; allowed: text, id, tokens, date, amount, items/);
  });

  it('a work directory that does not exist', async () => {
    expect(await cli('--expected', EXPECTED, '--workdir', join(dir, 'nope'))).toBe(EXIT.cannotStart);
    expect(cap.err).toMatch(/no work directory at/);
  });

  it('an expected directory without records', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    expect(await cli('--expected', empty, '--workdir', dir)).toBe(EXIT.cannotStart);
    expect(cap.err).toMatch(/no expected records in/);
  });
});
