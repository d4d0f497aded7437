/**
 * The HTML run report as a person sees it: the pipeline runs on the samples (plus a receipt that
 * validation rejects), then headless Chromium renders reports/<runId>.html and the rendered DOM must
 * show the run's counts. Chromium is Debian's package (.ci/run installs it); without it this test
 * fails rather than skips, so CI cannot pass without having looked at the page.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectInputs, type PipelineResult, runPipeline } from '../../src/cli/pipeline.ts';
import { makeEnv, SAMPLES, type TestEnv } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);

let t: TestEnv;
let scratch: string;
let result: PipelineResult;
let htmlPath: string;

/** Headless Chromium on a local file, isolated from the network and from any profile. */
async function chromium(args: string[]): Promise<string> {
  const { stdout } = await run(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      `--user-data-dir=${join(scratch, 'profile')}`,
      ...args,
    ],
    { timeout: 15_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

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

/** The number a count tile shows in the rendered DOM. */
function tile(dom: string, id: string): string | undefined {
  return new RegExp(`id="count-${id}"[^>]*><span class="n">([^<]*)</span>`).exec(dom)?.[1];
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'docbatch-browser-'));
  await mkdir(join(scratch, 'receipt'));
  await receiptWithoutTotal(join(scratch, 'receipt', 'no-total.pdf'));
  t = await makeEnv();
  result = await runPipeline(
    t.env,
    await collectInputs([SAMPLES, join(scratch, 'receipt', 'no-total.pdf')]),
    {
      waitMs: 5,
      retryMs: 0,
    },
  );
  htmlPath = join(t.workdir, 'bucket/reports', `${result.runId}.html`);
});

afterAll(async () => {
  await t?.dispose();
  await rm(scratch, { recursive: true, force: true });
});

describe('Report: the HTML page rendered by headless Chromium', () => {
  it('has Chromium to render with (installed by .ci/run)', () => {
    expect(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium (as .ci/run does)`,
    ).toBe(true);
  });

  it('shows the run’s counts: 3 results, 1 rejected, with the rejected document and its reason', async () => {
    const dom = await chromium(['--dump-dom', `file://${htmlPath}`]);
    expect(dom).toContain(`<title>docbatch run ${result.runId}</title>`);
    expect(tile(dom, 'documents')).toBe('4');
    expect(tile(dom, 'results')).toBe('3');
    expect(tile(dom, 'rejected')).toBe('1');
    expect(tile(dom, 'pending')).toBe('0');
    expect(tile(dom, 'attempts')).toBe('2');
    expect(dom).toMatch(/incoming\/receipt\/no-total\.pdf/);
    expect(dom).toMatch(/missing required property "total"/);
    // the charts are there: outcome bar, tokens, costs, pages, per-field failures
    expect(dom.match(/<svg /g)?.length ?? 0).toBeGreaterThanOrEqual(6);
    expect(dom).toContain('/total');
  });

  it('lays the page out (a screenshot is drawn) without any request leaving the file', async () => {
    const html = await readFile(htmlPath, 'utf8');
    expect(html).not.toMatch(/<script|<link|https?:\/\/|url\(/i);
    const png = join(scratch, 'report.png');
    await chromium(['--window-size=1000,1600', `--screenshot=${png}`, `file://${htmlPath}`]);
    expect((await stat(png)).size).toBeGreaterThan(20_000);
  });
});
