import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FsStore } from '../../../src/adapters/local/fs-store.ts';
import { registerStatus } from '../../../src/cli/commands/status.ts';
import { EXIT, main } from '../../../src/cli/main.ts';
import { collectInputs, type PipelineResult, runPipeline } from '../../../src/cli/pipeline.ts';
import { type StatusAnswer, statusOf } from '../../../src/cli/status.ts';
import { keys } from '../../../src/core/keys.ts';
import type { DocumentRecord, StagedChunk } from '../../../src/core/outcomes.ts';
import { captureIo, makeEnv, SAMPLES, type TestEnv } from '../../integration/helpers.ts';

let t: TestEnv;
let run: PipelineResult;
const cap = captureIo();
const cli = (...args: string[]) =>
  main(['node', 'docbatch', 'status', ...args, '--workdir', t.workdir], cap.io);
const byName = (name: string) => {
  const d = run.documents.find((x) => x.input.display.endsWith(name));
  if (!d) throw new Error(`no ${name}`);
  return d;
};

beforeAll(async () => {
  t = await makeEnv();
  // The receipts: one OCR'd image that gets a result, one HTML page rejected at ingest.
  run = await runPipeline(t.env, await collectInputs([join(SAMPLES, 'receipt')]), { waitMs: 5, retryMs: 0 });
});

afterAll(async () => {
  process.exitCode = undefined;
  await t.dispose();
});

beforeEach(() => {
  cap.reset();
  process.exitCode = undefined;
});

describe('Function: statusOf after a real offline run', () => {
  it('summarises the work directory: counts per stage and the run', async () => {
    const answer = await statusOf(t.env.store);
    if (answer.kind !== 'summary') throw new Error(answer.kind);
    expect(answer.summary.documents).toBe(2);
    expect(answer.summary.byStage).toMatchObject({ result: 1, rejected: 1, staged: 0, 'in-run': 0 });
    expect(answer.summary.runs).toEqual([
      expect.objectContaining({
        runId: run.runId,
        state: 'reported',
        documents: 1,
        results: 1,
        rejected: 0,
        jobs: 1,
      }),
    ]);
  });

  it('finds a document by file name and tells its run, job and result', async () => {
    const answer = await statusOf(t.env.store, 'corner-cafe-receipt.png');
    if (answer.kind !== 'document') throw new Error(answer.kind);
    const d = answer.document;
    expect(d.stage).toBe('result');
    expect(d.docId).toBe(byName('corner-cafe-receipt.png').docId);
    expect(d.runId).toBe(run.runId);
    expect(d.jobs).toEqual([expect.objectContaining({ attempt: 1, job: 0, status: 'Completed' })]);
    expect(d.ocr).toEqual([expect.objectContaining({ files: 1 })]);
    expect(d.ocr[0]?.jobId).not.toBe('text-layer');
    expect(d.result?.key).toBe(keys.result('receipt', d.docId));
    expect(d.summary).toMatch(new RegExp(`^result: a valid receipt record .* in run ${run.runId}, job 0`));
  });

  it('tells a rejected document’s stage and reasons, found by docId', async () => {
    const docId = byName('not-a-receipt.pdf').docId;
    const answer = await statusOf(t.env.store, docId);
    if (answer.kind !== 'document') throw new Error(answer.kind);
    expect(answer.document.stage).toBe('rejected');
    expect(answer.document.rejected?.stage).toBe('ingest');
    expect(answer.document.rejected?.reasons.map((r) => r.code)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    expect(answer.document.summary).toMatch(/^rejected at ingest: UNSUPPORTED_MEDIA_TYPE/);
  });

  it('tells what a run did: plan, report and each document’s outcome', async () => {
    const answer = await statusOf(t.env.store, run.runId);
    if (answer.kind !== 'run') throw new Error(answer.kind);
    expect(answer.run.state).toBe('reported');
    expect(answer.run.plans).toEqual([
      expect.objectContaining({
        attempt: 1,
        documents: 1,
        records: 1,
        jobs: [expect.objectContaining({ job: 0 })],
      }),
    ]);
    expect(answer.run.report).toMatchObject({ runId: run.runId, results: 1 });
    expect(answer.run.documents).toEqual([
      expect.objectContaining({ source: 'incoming/receipt/corner-cafe-receipt.png', stage: 'result' }),
    ]);
  });

  it('names what it accepts when nothing matches', async () => {
    await expect(statusOf(t.env.store, 'no-such-thing')).rejects.toThrow(
      /nothing in bucket .* matches "no-such-thing".*Allowed: a docId .* a run id .* a source key.*Fix/,
    );
  });
});

describe('Function: statusOf on documents still on their way', () => {
  it('reports registered, staged and in-run documents from the bucket layout alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docbatch-status-'));
    try {
      const store = new FsStore(join(dir, 'bucket'));
      const doc = (docId: string, status: DocumentRecord['status']): DocumentRecord => ({
        docId,
        type: 'invoice',
        source: { key: `incoming/invoice/${docId}.pdf`, sha256: docId.padEnd(64, '0') },
        sources: [`incoming/invoice/${docId}.pdf`],
        size: 10,
        status,
        registeredAt: '2026-11-23T00:00:00Z',
        updatedAt: '2026-11-23T00:00:00Z',
      });
      const staged: StagedChunk = {
        docId: 'b'.repeat(24),
        type: 'invoice',
        source: { key: 'incoming/invoice/b.pdf', sha256: 'b' },
        chunk: 0,
        chunks: 1,
        pageStart: 1,
        pageEnd: 1,
        tokens: 120,
        text: 'x',
      };
      for (const [id, status] of [
        ['a'.repeat(24), 'registered'],
        ['b'.repeat(24), 'staged'],
        ['c'.repeat(24), 'staged'],
      ] as const)
        await store.put(keys.document(id), JSON.stringify(doc(id, status)));
      await store.put(keys.staged('b'.repeat(24)), `${JSON.stringify(staged)}\n`);
      await store.put(
        keys.staged('c'.repeat(24)),
        `${JSON.stringify({ ...staged, docId: 'c'.repeat(24) })}\n`,
      );
      await store.put(keys.claim('c'.repeat(24)), JSON.stringify({ runId: 'r-night', claimedAt: 'now' }));

      const stageOf = async (q: string) => {
        const a: StatusAnswer = await statusOf(store, q);
        return a.kind === 'document' ? [a.document.stage, a.document.summary] : [a.kind, ''];
      };
      expect(await stageOf('a'.repeat(24))).toEqual([
        'registered',
        expect.stringMatching(/OCR has not produced/),
      ]);
      expect(await stageOf('b'.repeat(24))).toEqual([
        'staged',
        expect.stringMatching(/1 chunk\(s\), ~120 tokens, waiting for the next batch run/),
      ]);
      expect(await stageOf('cccccc')).toEqual(['in-run', expect.stringMatching(/^in run r-night/)]);
      const summary = await statusOf(store);
      expect(summary.kind === 'summary' && summary.summary.byStage).toMatchObject({
        registered: 1,
        staged: 1,
        'in-run': 1,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('CLI: docbatch status', () => {
  it('prints the summary, a document and a run', async () => {
    expect(await cli()).toBe(EXIT.ok);
    expect(cap.out).toMatch(
      /documents: 2 \(1 result, 1 rejected, 0 in a run, 0 staged, 0 OCR'd, 0 registered\)/,
    );
    expect(cap.out).toContain(run.runId);
    cap.out = '';
    expect(await cli('not-a-receipt.pdf')).toBe(EXIT.ok);
    expect(cap.out).toMatch(/where\s+rejected at ingest: UNSUPPORTED_MEDIA_TYPE/);
    cap.out = '';
    expect(await cli(run.runId, '--json')).toBe(EXIT.ok);
    expect((JSON.parse(cap.out) as StatusAnswer).kind).toBe('run');
  });

  it('returns 1 with a fix when the work directory does not exist or nothing matches', async () => {
    expect(await main(['node', 'docbatch', 'status', '--workdir', join(t.workdir, 'nope')], cap.io)).toBe(
      EXIT.cannotStart,
    );
    expect(cap.err).toMatch(/no work directory at .*nope.*Fix: run `docbatch run <files>` first/);
    cap.err = '';
    expect(await cli('zzz')).toBe(EXIT.cannotStart);
    expect(cap.err).toMatch(/matches "zzz"/);
  });

  it('reads a deployed bucket through an injected ObjectStore with --stack', async () => {
    const program = new Command('docbatch')
      .exitOverride()
      .configureOutput({ writeOut: cap.io.out, writeErr: cap.io.err });
    const asked: unknown[] = [];
    registerStatus(program, cap.io, async (target) => {
      asked.push(target);
      return t.env.store;
    });
    await program.parseAsync([
      'node',
      'docbatch',
      'status',
      'corner-cafe-receipt.png',
      '--stack',
      'Docbatch',
      '--region',
      'eu-west-1',
    ]);
    expect(asked).toEqual([expect.objectContaining({ stack: 'Docbatch', region: 'eu-west-1' })]);
    expect(cap.out).toMatch(/result\s+s3:\/\/docbatch-local\/results\/receipt\//);
  });

  it('shows examples and exit codes in --help', async () => {
    await main(['node', 'docbatch', 'status', '--help'], cap.io);
    expect(cap.out).toMatch(/Examples:\n\s+\$ docbatch status/);
    expect(cap.out).toMatch(/Exit codes:/);
  });
});
