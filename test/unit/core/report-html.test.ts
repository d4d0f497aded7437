import { describe, expect, it } from 'vitest';
import { defaultConfig, mergeConfig } from '../../../src/config.ts';
import {
  escapeHtml,
  fieldFailures,
  fieldOfReason,
  formatDuration,
  REPORT_VERSION,
  type RunReportBody,
  renderReportHtml,
  runCost,
} from '../../../src/core/report-html.ts';

describe('Function: fieldOfReason', () => {
  it('names the missing property, not its parent, and folds array indexes', () => {
    expect(
      fieldOfReason({ code: 'schema.required', message: '/ missing required property "total"', path: '/' }),
    ).toBe('/total');
    expect(
      fieldOfReason({
        code: 'schema.required',
        message: '/line_items/3 missing required property "description"',
        path: '/line_items/3',
      }),
    ).toBe('/line_items/*/description');
    expect(fieldOfReason({ code: 'schema.minimum', message: '/total must be >= 0', path: '/total' })).toBe(
      '/total',
    );
    expect(fieldOfReason({ code: 'schema.type', message: '/ must be object', path: '/' })).toBe('/');
    expect(fieldOfReason({ code: 'MODEL_ERROR', message: 'throttled' })).toBeUndefined();
  });
});

describe('Function: fieldFailures', () => {
  it('counts each document once per field, with the rate over the type’s documents', () => {
    const r = fieldFailures(10, [
      {
        reasons: [
          { code: 'schema.required', message: '/ missing required property "total"', path: '/' },
          { code: 'schema.required', message: '/ missing required property "date"', path: '/' },
        ],
      },
      {
        reasons: [
          { code: 'schema.minimum', message: '/total must be >= 0', path: '/total' },
          { code: 'schema.type', message: '/total must be number', path: '/total' },
        ],
      },
      { reasons: [{ code: 'MODEL_ERROR', message: 'no answer' }] },
    ]);
    expect(r.invalid).toBe(2);
    expect(r.fields).toEqual([
      {
        field: '/total',
        documents: 2,
        rate: 0.2,
        codes: ['schema.minimum', 'schema.required', 'schema.type'],
      },
      { field: '/date', documents: 1, rate: 0.1, codes: ['schema.required'] },
    ]);
  });
});

describe('Function: runCost', () => {
  const haiku = 'anthropic.claude-haiku-4-5-20251001-v1:0';
  const tokens = { input: 2_000_000, output: 400_000 };

  it('prices the run at batch and on-demand prices, and as billed by each job’s mode', () => {
    const config = defaultConfig(haiku);
    const { cost } = runCost(
      config,
      haiku,
      tokens,
      [
        { mode: 'batch', tokens: { input: 1_000_000, output: 200_000 } },
        { mode: 'on-demand', tokens: { input: 1_000_000, output: 200_000 } },
      ],
      [],
    );
    // $1 / $5 per million on demand, half in batch
    expect(cost.onDemand).toBeCloseTo(4);
    expect(cost.batch).toBeCloseTo(2);
    expect(cost.billed).toBeCloseTo(1 + 2);
    expect(cost.model?.name).toBe('Claude Haiku 4.5');
    expect(cost.priceDate).toBe(config.prices.date);
    expect(cost.examples).toEqual([]);
  });

  it('uses the configuration’s price rows and Textract features; counts pages by route', () => {
    const config = mergeConfig(defaultConfig(haiku), {
      prices: {
        date: '2030-01-01',
        models: [
          {
            match: 'claude-haiku',
            name: 'negotiated',
            inputPerMillion: 2,
            outputPerMillion: 10,
            batchDiscount: 0.5,
          },
        ],
      },
      ocr: { textractFeatures: { invoice: ['TABLES'] } },
    });
    const { cost, pages } = runCost(
      config,
      haiku,
      tokens,
      [],
      [
        { type: 'invoice', pages: 10, textLayer: true, documents: 4 },
        { type: 'invoice', pages: 2, textLayer: false },
        { type: 'receipt', pages: 3, textLayer: false, documents: 3 },
      ],
    );
    expect(cost.priceDate).toBe('2030-01-01');
    expect(cost.onDemand).toBeCloseTo(8);
    // no manifest counted the tokens: they are billed as a batch run's
    expect(cost.billed).toBeCloseTo(4);
    expect(pages).toEqual({
      pages: 15,
      textLayerDocuments: 4,
      textLayerPages: 10,
      textractDocuments: 4,
      textractPages: 5,
    });
    // TABLES $15 / 1,000 pages for invoices, text detection $1.50 for receipts
    expect(cost.textract).toBeCloseTo((2 * 15 + 3 * 1.5) / 1000);
    expect(cost.textractAvoided).toBeCloseTo((10 * 15) / 1000);
  });

  it('adds what the tokens would cost on priced models when the run’s model is free', () => {
    const { cost } = runCost(defaultConfig(), 'docbatch.rules-v1', tokens, [{ mode: 'batch' }], []);
    expect(cost.batch).toBe(0);
    expect(cost.examples.map((e) => e.name)).toContain('Claude Haiku 4.5');
    expect(cost.examples.find((e) => e.name === 'Claude Haiku 4.5')).toEqual({
      name: 'Claude Haiku 4.5',
      batch: 2,
      onDemand: 4,
    });
  });
});

function sampleReport(overrides: Partial<RunReportBody> = {}): RunReportBody {
  return {
    reportVersion: REPORT_VERSION,
    runId: '20261123T043827Z-00b6',
    modelId: 'docbatch.rules-v1',
    createdAt: '2026-11-23T04:38:31.000Z',
    startedAt: '2026-11-23T04:38:29.500Z',
    durationMs: 1500,
    documents: 4,
    records: 5,
    deferred: 0,
    attempts: 2,
    results: 3,
    rejected: 1,
    pending: 0,
    redriven: 1,
    errorRecords: 0,
    tokens: { input: 3192, output: 964 },
    jobs: [
      { attempt: 1, job: 0, mode: 'batch', status: 'Completed', jobId: 'abc123', records: 4 },
      { attempt: 2, job: 0, mode: 'batch', status: 'Completed', jobId: 'def456', records: 1 },
    ],
    perAttempt: [
      {
        attempt: 1,
        plannedAt: '2026-11-23T04:38:29.500Z',
        durationMs: 1000,
        documents: 4,
        records: 4,
        deferred: 0,
        jobs: 1,
        collected: true,
        results: 3,
        rejected: 0,
        redriven: 1,
        errorRecords: 0,
        tokens: { input: 3000, output: 900 },
      },
    ],
    byType: [
      {
        type: 'receipt',
        documents: 2,
        results: 1,
        rejected: 1,
        invalid: 1,
        fields: [{ field: '/total', documents: 1, rate: 0.5, codes: ['schema.required'] }],
      },
    ],
    rejectedDocuments: [
      {
        docId: 'd1',
        type: 'receipt',
        source: 'incoming/receipt/<script>alert(1)</script>.png',
        stage: 'validate',
        reasons: [
          {
            code: 'schema.required',
            message: '/ missing required property "total" & <b>bold</b>',
            path: '/',
          },
        ],
      },
    ],
    pages: {
      pages: 4,
      textLayerDocuments: 2,
      textLayerPages: 3,
      textractDocuments: 1,
      textractPages: 1,
      unknownDocuments: 0,
    },
    cost: {
      priceDate: '2025-11-01',
      batch: 0,
      onDemand: 0,
      billed: 0,
      textract: 0.0015,
      textractAvoided: 0.0045,
      examples: [{ name: 'Claude Haiku 4.5', batch: 0.0028, onDemand: 0.0056 }],
    },
    ...overrides,
  };
}

describe('Function: renderReportHtml', () => {
  const html = renderReportHtml(sampleReport());

  it('is self-contained: no script, stylesheet link, remote URL or external font', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/@import|@font-face|url\(/);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    expect(html).toMatch(/<svg /);
  });

  it('escapes every document-derived string', () => {
    expect(html).toContain('incoming/receipt/&lt;script&gt;alert(1)&lt;/script&gt;.png');
    expect(html).toContain('&quot;total&quot; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toContain('<b>bold</b>');
  });

  it('shows the counts, costs, pages and the field failure chart', () => {
    expect(html).toMatch(/id="count-results"[^>]*><span class="n">3<\/span>/);
    expect(html).toMatch(/id="count-rejected"[^>]*><span class="n">1<\/span>/);
    expect(html).toContain('Claude Haiku 4.5, batch');
    expect(html).toContain('$0.0045');
    expect(html).toContain('50% (1 of 2)');
    expect(html).toContain('abc123');
  });

  it('says so when nothing was rejected, and names an unpriced model', () => {
    const clean = renderReportHtml(
      sampleReport({
        rejected: 0,
        rejectedDocuments: [],
        byType: [],
        cost: { ...sampleReport().cost, examples: [] },
      }),
    );
    expect(clean).toContain('No document of this run was rejected for a field.');
    expect(clean).toMatch(/id="rejected"><h2>Rejected documents<\/h2><p class="empty">None\./);
    expect(clean).toContain('no price for <code>docbatch.rules-v1</code>');
  });

  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('formats durations for people', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(3_800)).toBe('3.8 s');
    expect(formatDuration(252_000)).toBe('4 min 12 s');
    expect(formatDuration(7_500_000)).toBe('2 h 5 min');
  });
});
