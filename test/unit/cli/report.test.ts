import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerReport } from '../../../src/cli/commands/report.ts';
import { EXIT, main } from '../../../src/cli/main.ts';
import { collectInputs, type PipelineResult, runPipeline } from '../../../src/cli/pipeline.ts';
import type { RunReportBody } from '../../../src/core/report-html.ts';
import { captureIo, makeEnv, SAMPLES, type TestEnv } from '../../integration/helpers.ts';

const cap = captureIo();
const cli = (...args: string[]) => main(['node', 'docbatch', 'report', ...args], cap.io);

let t: TestEnv;
let inputs: string;
let run: PipelineResult;

/** A born-digital receipt with no total: the rules model leaves it cap.out and validation rejects it. */
async function receiptWithoutTotal(path: string): Promise<void> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([300, 420]);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  [
    'Harbour Bakery',
    '3 Quay Road, Whitby YO21 1DH',
    'Date: 14/03/2025',
    '2 x Sourdough loaf',
    'Thank you',
  ].forEach((text, i) => {
    page.drawText(text, { x: 24, y: 380 - i * 22, size: 11, font });
  });
  await writeFile(path, await doc.save());
}

beforeAll(async () => {
  inputs = await mkdtemp(join(tmpdir(), 'docbatch-report-in-'));
  await mkdir(join(inputs, 'receipt'));
  await receiptWithoutTotal(join(inputs, 'receipt', 'no-total.pdf'));
  t = await makeEnv();
  // The invoices read from their text layer and one receipt rejected by validation: no OCR, quick.
  run = await runPipeline(t.env, await collectInputs([join(SAMPLES, 'invoice'), join(inputs, 'receipt')]), {
    waitMs: 5,
    retryMs: 0,
  });
});

afterAll(async () => {
  process.exitCode = undefined;
  await t.dispose();
  await rm(inputs, { recursive: true, force: true });
});

beforeEach(() => {
  cap.reset();
  process.exitCode = undefined;
});

describe('CLI: docbatch report', () => {
  it('prints the latest run’s summary and writes its HTML page', async () => {
    expect(await cli('--workdir', t.workdir)).toBe(EXIT.ok);
    expect(cap.out).toContain(`run ${run.runId} · docbatch.rules-v1`);
    expect(cap.out).toMatch(/documents 3: 2 results, 1 rejected · 2 attempt\(s\), 1 re-driven/);
    expect(cap.out).toMatch(/the same tokens on Claude Haiku 4\.5 \$[\d.]+ batch/);
    // two invoices (2 + 1 pages) and the receipt, all from text layers: $1.50 per 1,000 pages avoided
    expect(cap.out).toContain(
      'pages 4: 4 from text layers, 0 by Textract ($0); text layers avoided $0.0060 of Textract',
    );
    expect(cap.out).toMatch(/validation failures, receipt \(1 documents\): \/total 1 \(100\.0%\)/);
    expect(cap.out).toMatch(
      /incoming\/receipt\/no-total\.pdf {2}schema\.required: \/ missing required property "total"/,
    );
    expect(cap.out).toMatch(/job 0 \(attempt 2\): batch \S+ Completed · 1 records/);
    const html = await readFile(join(t.workdir, 'bucket/reports', `${run.runId}.html`), 'utf8');
    expect(html).toMatch(/id="count-rejected"[^>]*><span class="n">1</);
    expect(cap.out).toContain(`html: ${join(t.workdir, 'bucket/reports', `${run.runId}.html`)}`);
  });

  it('prints the report JSON with --json, by run id', async () => {
    expect(await cli(run.runId, '--workdir', t.workdir, '--json')).toBe(EXIT.ok);
    const r = JSON.parse(cap.out) as RunReportBody & { html: string };
    expect(r).toMatchObject({ runId: run.runId, results: 2, rejected: 1, pending: 0, attempts: 2 });
    expect(r.byType.find((x) => x.type === 'receipt')?.fields).toEqual([
      { field: '/total', documents: 1, rate: 1, codes: ['schema.required'] },
    ]);
    expect(r.pages).toMatchObject({ textLayerDocuments: 3, textractDocuments: 0 });
    expect(r.cost.textractAvoided).toBeGreaterThan(0);
    expect(r.perAttempt.map((a) => a.attempt)).toEqual([1, 2]);
    expect(r.html).toMatch(/\.html$/);
  });

  it('opens the page with the desktop’s viewer, or says where it is when there is none', async () => {
    const opened: string[] = [];
    const program = (ok: boolean) => {
      const p = new Command('docbatch')
        .exitOverride()
        .configureOutput({ writeOut: cap.io.out, writeErr: cap.io.err });
      registerReport(p, cap.io, async (path) => {
        opened.push(path);
        return ok;
      });
      return p;
    };
    await program(true).parseAsync(['node', 'docbatch', 'report', '--workdir', t.workdir, '--open']);
    expect(opened).toEqual([join(t.workdir, 'bucket/reports', `${run.runId}.html`)]);
    expect(cap.err).toBe('');
    await program(false).parseAsync(['node', 'docbatch', 'report', '--workdir', t.workdir, '--open']);
    expect(cap.err).toMatch(/no viewer to open it with \(xdg-open \/ open\); the page is .*\.html/);
  });

  it('writes a report of an older docbatch again, keeping its report time', async () => {
    const key = join(t.workdir, 'bucket/reports', `${run.runId}.json`);
    const current = JSON.parse(await readFile(key, 'utf8')) as RunReportBody;
    const { runId, modelId, createdAt, documents, results, rejected, tokens, jobs } = current;
    await writeFile(
      key,
      JSON.stringify({ runId, modelId, createdAt, documents, results, rejected, tokens, jobs }),
    );
    expect(await cli(run.runId, '--workdir', t.workdir, '--json')).toBe(EXIT.ok);
    expect(cap.err).toMatch(/written by an older docbatch: writing it again/);
    const again = JSON.parse(await readFile(key, 'utf8')) as RunReportBody;
    expect(again).toEqual(current);
  });

  it('exits 1 with one line for an unknown run, a run without report and a missing work directory', async () => {
    expect(await cli('no-such-run', '--workdir', t.workdir)).toBe(EXIT.cannotStart);
    expect(cap.err).toMatch(/no run no-such-run in/);
    cap.err = '';
    const planned = join(t.workdir, 'bucket/runs/half-done');
    await mkdir(planned, { recursive: true });
    await writeFile(join(planned, 'plan.json'), '{}');
    expect(await cli('half-done', '--workdir', t.workdir)).toBe(EXIT.cannotStart);
    expect(cap.err).toMatch(/run half-done has no report yet: it is in progress or was interrupted/);
    cap.err = '';
    expect(await cli('--workdir', join(t.workdir, 'nope'))).toBe(EXIT.cannotStart);
    expect(cap.err).toMatch(/no work directory at/);
    expect(cap.err.trim().split('\n')).toHaveLength(1);
  });
});
