import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectInputs, runPipeline } from '../../src/cli/pipeline.ts';
import { DocumentRejectedError, RetryableError } from '../../src/errors.ts';
import { eventsNamed, makeEnv, SAMPLES, statesEntered, type TestEnv } from './helpers.ts';

const RECEIPT = join(SAMPLES, 'receipt/corner-cafe-receipt.png');
const INVOICES = join(SAMPLES, 'invoice');
const fast = { waitMs: 5, retryMs: 0 } as const;

let t: TestEnv | undefined;

function first<T>(list: readonly T[]): T {
  return required(list[0]);
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

describe('Scenario: ingest faults', () => {
  it('retries StartTextract through a throttling storm and still stages the document', async () => {
    t = await makeEnv({ textractFaults: { throttleStart: 3 } });
    const run = await runPipeline(t.env, await collectInputs([RECEIPT]), fast);
    const ingest = first(run.ingest);
    const retried = eventsNamed(ingest, 'StateRetried', 'StartTextract');
    expect(retried).toHaveLength(3);
    expect(statesEntered(ingest).at(-1)).toBe('Staged');
    expect(run.documents[0]?.outcome).toBe('result');
  });

  it('quarantines a document whose Textract job FAILED, with the job message as the reason', async () => {
    t = await makeEnv({ textractFaults: { failJobs: true } });
    const run = await runPipeline(t.env, await collectInputs([RECEIPT]), fast);
    const states = statesEntered(first(run.ingest));
    expect(states.slice(-3)).toEqual(['TextractStatus', 'Quarantine', 'Rejected']);
    expect(run.documents[0]?.outcome).toBe('rejected');
    expect(run.documents[0]?.reasons?.[0]?.code).toBe('TEXTRACT_FAILED');
  });

  it('retries a task that throws a retryable error and does not retry a terminal one', async () => {
    t = await makeEnv();
    const chunk = required(t.env.bindings.ingest['Chunk']);
    let calls = 0;
    t.env.bindings.ingest['Chunk'] = async (input) => {
      calls++;
      if (calls === 1) throw new RetryableError('storage briefly unavailable');
      return chunk(input);
    };
    const ok = await runPipeline(t.env, await collectInputs([join(INVOICES, 'acme-invoice-2041.pdf')]), fast);
    expect(eventsNamed(first(ok.ingest), 'StateRetried', 'Chunk')).toHaveLength(1);
    expect(statesEntered(first(ok.ingest)).at(-1)).toBe('Staged');

    t.env.bindings.ingest['Chunk'] = async () => {
      throw new DocumentRejectedError([{ code: 'NO_TEXT', message: 'OCR found no text in the document' }]);
    };
    const bad = await runPipeline(
      t.env,
      await collectInputs([join(INVOICES, 'northwind-invoice-7731.pdf')]),
      fast,
    );
    const ingest = first(bad.ingest);
    expect(eventsNamed(ingest, 'StateRetried', 'Chunk')).toHaveLength(0);
    expect(eventsNamed(ingest, 'StateCaught', 'Chunk')).toHaveLength(1);
    expect(statesEntered(ingest).slice(-2)).toEqual(['Quarantine', 'Rejected']);
    expect(bad.documents[0]?.reasons).toEqual([
      { code: 'NO_TEXT', message: 'OCR found no text in the document' },
    ]);
  });
});

describe('Scenario: batch outcomes', () => {
  it('sends a run below the batch minimum on-demand, with the same outcomes', async () => {
    t = await makeEnv({ config: { quotas: { ...(await import('../../src/config.ts')).DEFAULT_QUOTAS } } });
    const run = await runPipeline(t.env, await collectInputs([INVOICES]), fast);
    const states = statesEntered(run.batch);
    expect(states).toContain('InvokeOnDemand');
    expect(states).not.toContain('CreateJob');
    expect(run.documents.every((d) => d.outcome !== 'missing')).toBe(true);
    expect(run.report?.jobs[0]?.mode).toBe('on-demand');
    expect(run.report?.tokens.input).toBeGreaterThan(0);
  });

  it('re-drives the records of a Failed job once, then rejects them with the job message, and loses none', async () => {
    t = await makeEnv({ bedrock: { faults: { terminalStatus: 'Failed' }, ticksPerStatus: 1 } });
    const run = await runPipeline(t.env, await collectInputs([INVOICES]), fast);
    const states = statesEntered(run.batch);
    expect(states.filter((s) => s === 'BatchJobFailed')).toHaveLength(2);
    expect(states.filter((s) => s === 'NextAttempt')).toHaveLength(1);
    expect(run.report?.attempts).toBe(2);
    expect(run.report?.redriven).toBe(2);
    expect(run.report?.jobs.map((j) => [j.attempt, j.status])).toEqual([
      [1, 'Failed'],
      [2, 'Failed'],
    ]);
    expect(run.documents.map((d) => d.outcome)).toEqual(['rejected', 'rejected']);
    for (const d of run.documents) {
      expect(d.reasons?.[0]?.code).toBe('MISSING_OUTPUT');
      expect(d.reasons?.[0]?.message).toMatch(/batch job ended Failed/);
    }
    expect(run.report?.jobs[0]?.status).toBe('Failed');
  });

  it('keeps what a PartiallyCompleted job produced and re-drives only the records it did not', async () => {
    t = await makeEnv({ bedrock: { faults: { terminalStatus: 'PartiallyCompleted' } } });
    const run = await runPipeline(t.env, await collectInputs([INVOICES]), fast);
    expect(run.report?.jobs[0]).toMatchObject({ attempt: 1, status: 'PartiallyCompleted' });
    expect(run.report?.attempts).toBe(2);
    // Attempt 1 kept its output; only the record without an output line went round again.
    expect(run.report?.jobs.find((j) => j.attempt === 2)?.records).toBe(1);
    expect(run.documents.every((d) => d.outcome !== 'missing')).toBe(true);
    expect(run.documents.filter((d) => d.outcome === 'result').length).toBeGreaterThanOrEqual(1);
  });

  it('collects the records an Expired job never produced as rejections, not silence', async () => {
    t = await makeEnv({ bedrock: { faults: { terminalStatus: 'Expired' } } });
    const run = await runPipeline(t.env, await collectInputs([INVOICES]), fast);
    expect(statesEntered(run.batch)).toContain('BatchJobEnded');
    expect(
      run.documents.every((d) => d.outcome === 'rejected' && d.reasons?.[0]?.message.includes('Expired')),
    ).toBe(true);
  });

  it('stops a job stuck past the deadline and re-drives what it did not finish', async () => {
    t = await makeEnv({
      bedrock: { ticksPerStatus: 3 },
      config: {
        batch: {
          timeoutHours: 24,
          maxAttempts: 3,
          pollSeconds: 300,
          deadlineHours: 0.0001,
          deferMaxAgeHours: 24,
        },
      },
    });
    const run = await runPipeline(t.env, await collectInputs([INVOICES]), fast);
    const states = statesEntered(run.batch);
    expect(states).toContain('StopJob');
    expect(states).toContain('NextAttempt');
    expect(run.report?.jobs[0]?.status).toBe('Stopped');
    expect(run.documents.every((d) => d.outcome !== 'missing')).toBe(true);
    for (const d of run.documents.filter((x) => x.outcome === 'rejected')) {
      expect(d.reasons?.some((r) => r.code === 'MISSING_OUTPUT' && r.message.includes('Stopped'))).toBe(true);
    }
  });

  it('feeds validation errors back on re-drive and rejects with the schema reasons after the last attempt', async () => {
    const schemas = await mkdtemp(join(tmpdir(), 'schemas-'));
    await writeFile(
      join(schemas, 'memo.schema.json'),
      JSON.stringify({
        type: 'object',
        required: ['approver'],
        properties: { approver: { type: 'string', description: 'Who approved the memo' } },
      }),
    );
    t = await makeEnv({ schemaDirs: [schemas] });
    const run = await runPipeline(
      t.env,
      await collectInputs([join(INVOICES, 'acme-invoice-2041.pdf')], 'memo'),
      fast,
    );
    expect(run.report?.attempts).toBe(2);
    const d = run.documents[0];
    expect(d?.outcome).toBe('rejected');
    expect(d?.reasons).toEqual([
      { code: 'schema.required', message: '/ missing required property "approver"', path: '/' },
    ]);
    const retryInput = await readFile(
      join(t.workdir, 'bucket', `runs/${run.runId}/attempt-2/input/job-0/job-0-part-0.jsonl`),
      'utf8',
    );
    const text = JSON.parse(retryInput).modelInput.messages[0].content[0].text as string;
    expect(text).toContain('Previous attempt errors:');
    expect(text).toContain('- schema.required: / missing required property "approver"');
    await rm(schemas, { recursive: true, force: true });
  });

  it('retries a throttled CreateJob and completes the run', async () => {
    t = await makeEnv({ bedrock: { faults: { throttleCreate: 2 } } });
    const run = await runPipeline(t.env, await collectInputs([INVOICES]), fast);
    expect(eventsNamed(run.batch, 'StateRetried', 'CreateJob')).toHaveLength(2);
    expect(run.batch.status).toBe('SUCCEEDED');
    expect(run.documents.every((d) => d.outcome !== 'missing')).toBe(true);
  });
});

describe('Scenario: every model family end to end', () => {
  it.each([
    ['amazon.nova-lite-v1:0', 'nova'],
    ['openai.gpt-oss-20b-1:0', 'openai'],
  ])('runs the receipt through batch jobs with %s and validates the record', async (modelId) => {
    const { DEFAULT_FAMILY_TABLE } = await import('../../src/core/families/index.ts');
    const { DEFAULT_QUOTAS } = await import('../../src/config.ts');
    t = await makeEnv({
      config: {
        model: { id: modelId, families: [...DEFAULT_FAMILY_TABLE] },
        quotas: { ...DEFAULT_QUOTAS, minRecordsPerJob: 1 },
      },
    });
    const run = await runPipeline(t.env, await collectInputs([RECEIPT]), fast);
    expect(statesEntered(run.batch)).toContain('CreateJob');
    expect(run.documents[0]?.outcome).toBe('result');
    const result = JSON.parse(
      await readFile(join(t.workdir, 'bucket', run.documents[0]?.outputKey ?? ''), 'utf8'),
    );
    expect(result.extraction.model).toBe(modelId);
    expect(result.record.total).toBe(24.84);
    expect(result.extraction.tokens.output).toBeGreaterThan(0);
  });
});

describe('Scenario: Textract document analysis and partial success', () => {
  it('analyzes a type configured with FeatureTypes and still stages its text', async () => {
    t = await makeEnv({
      config: {
        ocr: {
          textLayer: 'prefer',
          imageTextMinCoverage: 0.05,
          textractFeatures: { receipt: ['TABLES', 'FORMS'] },
          localEngine: 'paddle',
        },
      },
    });
    const run = await runPipeline(t.env, await collectInputs([RECEIPT]), fast);
    const states = statesEntered(first(run.ingest));
    expect(states.slice(0, 3)).toEqual(['Register', 'Route', 'StartTextractAnalysis']);
    expect(states).toContain('GetTextractAnalysisStatus');
    expect(states).not.toContain('StartTextract');
    expect(states.at(-1)).toBe('Staged');
    expect(run.documents[0]?.outcome).toBe('result');
  });

  it('records the pages a PARTIAL_SUCCESS job could not read on the document', async () => {
    t = await makeEnv();
    const { chunk } = await import('../../src/tasks/ingest.ts');
    const store = t.env.store;
    const docId = 'd'.repeat(24);
    await store.put(
      `documents/${docId}.json`,
      JSON.stringify({ docId, type: 'receipt', status: 'registered', sources: [] }),
    );
    const line = (text: string, page: number) => ({
      BlockType: 'LINE',
      Id: `${text}-${page}`,
      Text: text,
      Page: page,
      Geometry: { BoundingBox: { Top: 0.1, Left: 0.1, Width: 0.5, Height: 0.02 } },
    });
    const warnings = [{ ErrorCode: 'UNSUPPORTED_DOCUMENT', Pages: [2] }];
    await store.put(
      `ocr/${docId}/job/1`,
      JSON.stringify({ JobStatus: 'PARTIAL_SUCCESS', Warnings: warnings, Blocks: [line('TOTAL 9.00', 1)] }),
    );
    await store.put(
      `ocr/${docId}/job/2`,
      JSON.stringify({ JobStatus: 'PARTIAL_SUCCESS', Warnings: warnings, Blocks: [line('THANK YOU', 3)] }),
    );
    const staged = await chunk(
      {
        docId,
        type: 'receipt',
        bucket: store.bucket,
        source: { key: 'incoming/receipt/x.png', sha256: 'x' },
        route: 'ocr',
        ocr: { JobId: 'job' },
      },
      t.env.ctx,
    );
    expect(staged.chunks).toBe(1);
    const doc = JSON.parse(await store.getText(`documents/${docId}.json`));
    expect(doc.status).toBe('staged');
    expect(doc.ocrStatus).toBe('PARTIAL_SUCCESS');
    expect(doc.ocrWarnings).toEqual([{ code: 'UNSUPPORTED_DOCUMENT', pages: [2] }]);
  });
});
