import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MupdfReader } from '../../../src/adapters/documents/mupdf-reader.ts';
import { BUILTIN_SCHEMA_DIR, loadSchemaDirs } from '../../../src/adapters/local/schema-files.ts';
import { DEFAULT_OCR_TOKENS_PER_PAGE, type Estimate, estimateDocuments } from '../../../src/cli/estimate.ts';
import { EXIT, main } from '../../../src/cli/main.ts';
import { collectInputs, type PipelineResult, runPipeline } from '../../../src/cli/pipeline.ts';
import { type Config, defaultConfig, mergeConfig, resolveConfig } from '../../../src/config.ts';
import type { ResultRecord } from '../../../src/core/outcomes.ts';
import { SchemaRegistry } from '../../../src/core/validate.ts';
import { makeEnv, SAMPLES, type TestEnv } from '../../integration/helpers.ts';
import { makeMixedPdf } from '../adapters/documents/fixtures.ts';

/**
 * Tolerances, stated: text-layer documents are read, linearized, chunked and wrapped exactly as the
 * pipeline does, so their input tokens must match the run's to the token; an OCR'd page's text is
 * unknown before Textract, so its estimate may be off by up to the per-page assumption; over the
 * whole sample set the estimate must be within 10 % of what the run counted.
 */
const TOTAL_TOLERANCE = 0.1;

let t: TestEnv;
let run: PipelineResult;
/** docId → tokens of the text the run staged (from the Chunk step's progress event). */
const stagedTokens = new Map<string, number>();
const actual = new Map<string, ResultRecord>();
let schemas: SchemaRegistry;

async function estimate(options: { ocrTokensPerPage?: number; model?: string } = {}): Promise<Estimate> {
  const config = options.model
    ? resolveConfig([{ source: 'flag', name: '--model', values: { model: { id: options.model } } }]).config
    : defaultConfig();
  return estimateDocuments(await collectInputs([SAMPLES]), {
    config,
    schemas,
    reader: new MupdfReader(),
    ...(options.ocrTokensPerPage !== undefined ? { ocrTokensPerPage: options.ocrTokensPerPage } : {}),
  });
}

beforeAll(async () => {
  schemas = new SchemaRegistry(await loadSchemaDirs([BUILTIN_SCHEMA_DIR]));
  t = await makeEnv();
  run = await runPipeline(t.env, await collectInputs([SAMPLES]), {
    waitMs: 5,
    retryMs: 0,
    onProgress: (e) => {
      if (e.phase === 'document' && e.step === 'chunked' && e.tokens !== undefined)
        stagedTokens.set(e.docId, e.tokens);
    },
  });
  for (const d of run.documents) {
    if (d.outcome === 'result' && d.outputKey)
      actual.set(
        d.docId,
        JSON.parse(await readFile(join(t.workdir, 'bucket', d.outputKey), 'utf8')) as ResultRecord,
      );
  }
});

afterAll(async () => {
  await t.dispose();
});

describe('Estimate vs a real offline run on the samples', () => {
  it('counts exactly the input tokens the run used for text-layer documents', async () => {
    const e = await estimate();
    const textLayer = e.documents.filter((d) => d.route === 'text-layer');
    expect(textLayer.length).toBeGreaterThan(0);
    for (const d of textLayer) {
      const result = actual.get(d.docId ?? '');
      expect(result, d.source).toBeDefined();
      expect(d.input.total, d.source).toBe(result?.extraction.tokens.input);
      expect(d.chunks, d.source).toBe(result?.extraction.chunks);
      expect(d.input.prompt + d.input.content).toBe(d.input.total);
      expect(d.input.prompt).toBeGreaterThan(0);
    }
  });

  it('estimates OCR pages within the per-page assumption, and exactly given the page’s real text size', async () => {
    const e = await estimate();
    const ocr = e.documents.filter((d) => d.route === 'ocr');
    expect(ocr.length).toBeGreaterThan(0);
    for (const d of ocr) {
      const real = actual.get(d.docId ?? '')?.extraction.tokens.input ?? 0;
      expect(d.estimated).toBe(true);
      expect(Math.abs(d.input.total - real), d.source).toBeLessThanOrEqual(
        d.pages * DEFAULT_OCR_TOKENS_PER_PAGE,
      );
      // The same document, told how much text OCR found: the prompt overhead and wrapper are exact.
      const perPage = (stagedTokens.get(d.docId ?? '') ?? 0) / d.pages;
      const told = await estimateDocuments(
        await collectInputs([join(SAMPLES, 'receipt', d.source.split('/').pop() ?? '')]),
        {
          config: defaultConfig(),
          schemas,
          reader: new MupdfReader(),
          ocrTokensPerPage: perPage,
        },
      );
      expect(Math.abs((told.documents[0]?.input.total ?? 0) - real), d.source).toBeLessThanOrEqual(1);
    }
  });

  it(`is within ${TOTAL_TOLERANCE * 100} % of the run's input tokens over all samples, and rejects what the run rejected`, async () => {
    const e = await estimate();
    const runInput = run.report?.tokens.input ?? 0;
    expect(runInput).toBeGreaterThan(0);
    expect(Math.abs(e.totals.input.total - runInput) / runInput).toBeLessThanOrEqual(TOTAL_TOLERANCE);
    const rejectedByRun = run.documents.filter((d) => d.outcome === 'rejected').map((d) => d.docId);
    const rejectedByEstimate = e.documents.filter((d) => d.route === 'rejected').map((d) => d.docId);
    expect(rejectedByEstimate).toEqual(rejectedByRun);
    expect(e.totals.records).toBe(run.report?.records);
  });

  it('bounds the output tokens by max_tokens and is close to them in total', async () => {
    const e = await estimate();
    const runOutput = run.report?.tokens.output ?? 0;
    expect(runOutput).toBeLessThanOrEqual(e.totals.output.max);
    // The typical figure is a share of the budgets; on these samples it lands within 30 %.
    expect(Math.abs(e.totals.output.typical - runOutput) / runOutput).toBeLessThanOrEqual(0.3);
  });
});

describe('Function: estimateDocuments', () => {
  it('prices a real model at batch and on-demand, and warns when its batch minimum is not reached', async () => {
    const e = await estimate({ model: 'anthropic.claude-haiku-4-5-20251001-v1:0' });
    expect(e.cost?.name).toBe('Claude Haiku 4.5');
    expect(e.cost?.typical.batch).toBeCloseTo((e.cost?.typical.onDemand ?? 0) / 2, 12);
    expect(e.cost?.belowMinimum).toBe(true);
    expect(e.cost?.expected).toBe(e.cost?.typical.onDemand);
    expect(e.jobs).toEqual([expect.objectContaining({ mode: 'on-demand', records: 3 })]);
    expect(e.warnings.join('\n')).toMatch(
      /below the minimum of 100 records per batch job .* on-demand at the full price/,
    );
    expect(e.comparison).toEqual([]);
  });

  it('expects the batch price when records below the minimum are deferred to a larger run', async () => {
    const { config } = resolveConfig([
      {
        source: 'file',
        name: 'docbatch.config.json',
        values: { model: { id: 'anthropic.claude-haiku-4-5-20251001-v1:0' }, belowMinimum: 'defer' },
      },
    ]);
    const e = await estimateDocuments(await collectInputs([SAMPLES]), {
      config,
      schemas,
      reader: new MupdfReader(),
    });
    expect(e.jobs.map((j) => j.mode)).toEqual(['deferred']);
    expect(e.cost?.deferred).toBe(true);
    expect(e.cost?.expected).toBe(e.cost?.typical.batch);
    expect(e.warnings.join('\n')).toMatch(/with belowMinimum "defer" they stay staged until a run has 100/);
  });

  it('shows what real models would cost when the configured one is free, and Textract for OCR pages', async () => {
    const e = await estimate();
    expect(e.cost?.typical.onDemand).toBe(0);
    expect(e.comparison.map((c) => c.name)).toEqual([
      'Claude Haiku 4.5',
      'Claude Sonnet 4.5',
      'Amazon Nova Lite',
      'gpt-oss-20b',
    ]);
    expect(e.totals.ocrPages).toBe(1);
    expect(e.totals.textractUsd).toBeCloseTo(0.0015, 10);
  });
});

describe('Function: estimateDocuments, a page with text in a picture', () => {
  let dir: string;
  let inputs: Awaited<ReturnType<typeof collectInputs>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'estimate-mixed-'));
    await writeFile(join(dir, 'mixed.pdf'), makeMixedPdf());
    inputs = await collectInputs([join(dir, 'mixed.pdf')], 'invoice');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const estimateWith = (ocr: Partial<Config['ocr']>) =>
    estimateDocuments(inputs, {
      config: mergeConfig(defaultConfig(), { ocr }),
      schemas,
      reader: new MupdfReader(),
    });

  it('counts the page as a Textract page under "prefer", as Register routes it', async () => {
    const e = await estimateWith({ textLayer: 'prefer' });
    expect(e.documents[0]).toMatchObject({
      route: 'ocr',
      pages: 1,
      textLayerPages: 0,
      ocrPages: 1,
      imageTextPages: [1],
      estimated: true,
    });
    expect(e.totals).toMatchObject({ textLayerPages: 0, ocrPages: 1 });
    expect(e.totals.textractUsd).toBeCloseTo(0.0015, 10);
    expect(e.warnings.join('\n')).toMatch(
      /1 page\(s\) in 1 document\(s\) show text in an image .* go to Textract/,
    );
  });

  it('reads the text layer under "only", or below ocr.imageTextMinCoverage, at no Textract cost', async () => {
    const only = await estimateWith({ textLayer: 'only' });
    expect(only.documents[0]).toMatchObject({ route: 'text-layer', ocrPages: 0, imageTextPages: [1] });
    expect(only.totals.textractUsd).toBe(0);
    expect(only.warnings.join('\n')).toMatch(
      /ocr.textLayer "only" reads their text layer and leaves the image text unread/,
    );
    const above = await estimateWith({ textLayer: 'prefer', imageTextMinCoverage: 0.2 });
    expect(above.documents[0]).toMatchObject({ route: 'text-layer', textLayerPages: 1, ocrPages: 0 });
    expect(above.documents[0]).not.toHaveProperty('imageTextPages');
    expect(above.warnings.join('\n')).not.toMatch(/show text in an image/);
  });
});

describe('CLI: docbatch estimate', () => {
  let out = '';
  let err = '';
  const io = {
    out: (s: string) => {
      out += s;
    },
    err: (s: string) => {
      err += s;
    },
  };
  beforeEach(() => {
    out = '';
    err = '';
    process.exitCode = undefined;
  });

  it('prints pages, the token split, jobs, costs and warnings', async () => {
    const code = await main(
      ['node', 'docbatch', 'estimate', SAMPLES, '--model', 'anthropic.claude-haiku-4-5-20251001-v1:0'],
      io,
    );
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/acme-invoice-2041\.pdf\s+│\s+2 │ text layer/);
    expect(out).toMatch(
      /prompt overhead \(system prompt, tool schema, wrapper\) \+ ~[\d,]+ document content/,
    );
    expect(out).toMatch(/rejected before any spend/);
    expect(out).toMatch(/Textract, 1 page/);
    expect(out).toMatch(/warning: 3 records in 1 job\(s\) below the minimum of 100/);
    expect(err).toBe('');
  });

  it('prints one JSON object with --json, and refuses a bad --ocr-tokens-per-page', async () => {
    expect(await main(['node', 'docbatch', 'estimate', SAMPLES, '--json'], io)).toBe(EXIT.ok);
    const parsed = JSON.parse(out) as Estimate;
    expect(parsed.totals.documents).toBe(4);
    expect(parsed.documents[0]).not.toHaveProperty('recordBytes');
    expect(await main(['node', 'docbatch', 'estimate', SAMPLES, '--ocr-tokens-per-page', 'lots'], io)).toBe(
      EXIT.cannotStart,
    );
    expect(err).toMatch(/--ocr-tokens-per-page must be a whole number .*received "lots".*Fix/);
  });
});
