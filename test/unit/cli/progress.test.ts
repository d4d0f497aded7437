import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../../src/cli/main.ts';
import type { ProgressEvent } from '../../../src/cli/pipeline.ts';
import { createProgressReporter, progressMode } from '../../../src/cli/progress.ts';
import { SAMPLES } from '../../integration/helpers.ts';

let dir: string;
let out: string;
let err: string;
const io = {
  out: (t: string) => {
    out += t;
  },
  err: (t: string) => {
    err += t;
  },
};
const cli = (...args: string[]) => main(['node', 'docbatch', ...args], io);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docbatch-progress-'));
});

afterAll(async () => {
  process.exitCode = undefined;
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  out = '';
  err = '';
  process.exitCode = undefined;
});

/** A run's events as the pipeline emits them, for the reporters alone. */
const EVENTS: ProgressEvent[] = [
  { phase: 'started', runId: 'r1', total: 2 },
  {
    phase: 'document',
    display: 'invoice/a.pdf',
    docId: 'a',
    step: 'registered',
    route: 'text-layer',
    pages: 2,
  },
  { phase: 'document', display: 'invoice/a.pdf', docId: 'a', step: 'chunked', chunks: 1, tokens: 677 },
  { phase: 'ingest', done: 1, total: 2, display: 'invoice/a.pdf', docId: 'a', outcome: 'staged' },
  { phase: 'ingest', done: 2, total: 2, display: 'receipt/b.pdf', docId: 'b', outcome: 'rejected' },
  { phase: 'batch', state: 'Assemble' },
  {
    phase: 'assembled',
    runId: 'r1',
    attempt: 1,
    documents: 1,
    records: 1,
    deferred: 0,
    jobs: [{ job: 0, mode: 'on-demand', records: 1, attempt: 1 }],
  },
  { phase: 'job', job: 0, mode: 'on-demand', status: 'InProgress', attempt: 1 },
  { phase: 'job', job: 0, mode: 'on-demand', status: 'Completed', attempt: 1, jobId: 'ondemand0000' },
  {
    phase: 'collected',
    attempt: 1,
    results: 1,
    rejected: 0,
    redrive: 0,
    records: 1,
    errorRecords: 0,
    tokens: { input: 1779, output: 807 },
  },
  { phase: 'done' },
];

describe('Function: progressMode', () => {
  it('prefers --json, then --quiet, then bars only on a terminal', () => {
    expect(progressMode({ json: true, quiet: true, isTTY: true })).toBe('json');
    expect(progressMode({ quiet: true, isTTY: true })).toBe('quiet');
    expect(progressMode({ isTTY: true })).toBe('tty');
    expect(progressMode({ isTTY: false })).toBe('plain');
  });
});

describe('Function: createProgressReporter', () => {
  it('writes one plain line per step on stderr when not on a terminal', () => {
    const reporter = createProgressReporter('plain', io);
    for (const e of EVENTS) reporter.onProgress(e);
    reporter.stop();
    expect(out).toBe('');
    expect(err.split('\n').filter(Boolean)).toEqual([
      'run r1: 2 documents',
      'ingest 1/2  invoice/a.pdf: staged (text layer, 1 chunk, ~677 tokens)',
      'ingest 2/2  receipt/b.pdf: rejected',
      'batch  attempt 1: assembled 1 record from 1 document into 1 job (1 on-demand)',
      'batch  job 0 (on-demand): InProgress',
      'batch  job 0 (on-demand ondemand0000): Completed',
      'batch  collected 1 record: 1 results, 0 rejected; tokens in 1779, out 807',
    ]);
    expect(err).not.toContain(`${String.fromCharCode(27)}[`); // no escape codes in a log file
  });

  it('writes one JSON object per event on stdout', () => {
    const reporter = createProgressReporter('json', io, { now: () => new Date('2026-11-23T00:00:00Z') });
    for (const e of EVENTS) reporter.onProgress(e);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(EVENTS.length);
    expect(lines[0]).toEqual({ event: 'started', time: '2026-11-23T00:00:00.000Z', runId: 'r1', total: 2 });
    expect(lines.map((l) => l['event'])).toContain('state');
    expect(err).toBe('');
  });

  it('draws bars with cli-progress on a terminal and stops cleanly', () => {
    let drawn = '';
    const stream = Object.assign(
      new Writable({
        write(chunk, _encoding, done) {
          drawn += String(chunk);
          done();
        },
      }),
      { isTTY: true, columns: 160 },
    );
    const reporter = createProgressReporter('tty', io, { stream });
    for (const e of EVENTS) reporter.onProgress(e);
    reporter.stop();
    reporter.stop(); // a second stop draws nothing more
    expect(drawn).toMatch(/ingest .* 2\/2 documents \| 1 staged, 1 rejected/);
    expect(drawn).toMatch(/batch .* 1\/1 jobs \| collected 1 record of 1: 1 results, 0 rejected/);
    expect(out + err).toBe('');
  });
});

describe('CLI: docbatch run progress', () => {
  it('prints plain progress lines on stderr and the table on stdout when stderr is not a terminal', async () => {
    const code = await cli('run', join(SAMPLES, 'invoice'), '--workdir', join(dir, 'plain'));
    expect(code).toBe(EXIT.ok);
    expect(err).toMatch(/^run \S+: 2 documents$/m);
    expect(err).toMatch(
      /^ingest 2\/2 {2}\S+-invoice-\d+\.pdf: staged \(text layer, 1 chunk, ~\d+ tokens\)$/m,
    );
    expect(err).toMatch(/^batch {2}attempt 1: assembled 2 records from 2 documents into 1 job \(1 batch\)$/m);
    expect(err).toMatch(/^batch {2}job 0 \(batch\): Completed$/m);
    expect(err).toMatch(/^batch {2}collected 2 records: 2 results, 0 rejected; tokens in \d+, out \d+$/m);
    expect(out).toMatch(/2 documents, 2 results, 0 rejected/);
  });

  it('prints parseable JSON events with a final summary and no table with --json', async () => {
    const code = await cli('run', join(SAMPLES, 'receipt'), '--workdir', join(dir, 'json'), '--json');
    expect(code).toBe(EXIT.rejected);
    expect(out).not.toMatch(/┌|│/);
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('started');
    expect(names).toEqual(
      expect.arrayContaining(['document', 'ingest', 'assembled', 'job', 'collected', 'done']),
    );
    const summary = events.at(-1) as {
      event: string;
      exitCode: number;
      counts: Record<string, number>;
      documents: { source: string; outcome: string; reasons?: { code: string }[] }[];
    };
    expect(summary.event).toBe('summary');
    expect(summary.exitCode).toBe(EXIT.rejected);
    expect(summary.counts).toEqual({ documents: 2, results: 1, rejected: 1, missing: 0 });
    const rejected = summary.documents.find((d) => d.outcome === 'rejected');
    expect(rejected?.source).toBe('not-a-receipt.pdf');
    expect(rejected?.reasons?.[0]?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(err).toBe('');
  });

  it('keeps --quiet silent on stderr', async () => {
    const code = await cli('run', join(SAMPLES, 'invoice'), '--workdir', join(dir, 'plain'), '--quiet');
    expect(code).toBe(EXIT.ok);
    expect(err).toBe('');
  });
});
