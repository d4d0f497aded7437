import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionOutcome } from '../../src/cli/local-engine.ts';
import { collectInputs, type PipelineResult, runPipeline } from '../../src/cli/pipeline.ts';
import type { RejectedRecord, ResultRecord } from '../../src/core/outcomes.ts';
import {
  EXPECTED,
  listFiles,
  makeEnv,
  readJsonFile,
  SAMPLES,
  statesEntered,
  type TestEnv,
} from './helpers.ts';

let t: TestEnv;
let first: PipelineResult;

beforeAll(async () => {
  t = await makeEnv();
  first = await runPipeline(t.env, await collectInputs([SAMPLES]), { waitMs: 5, retryMs: 0 });
});

afterAll(async () => {
  await t.dispose();
});

function byName(result: PipelineResult, name: string) {
  const d = result.documents.find((x) => basename(x.input.path) === name);
  if (!d) throw new Error(`no outcome for ${name}`);
  return d;
}

/** The ingest execution of one input (executions are in input order). */
function ingestOf(result: PipelineResult, name: string): ExecutionOutcome {
  const outcome = result.ingest[result.documents.indexOf(byName(result, name))];
  if (!outcome) throw new Error(`no ingest execution for ${name}`);
  return outcome;
}

describe('Pipeline: docbatch run on the samples', () => {
  it('gives every input exactly one outcome', async () => {
    const inputs = await collectInputs([SAMPLES]);
    expect(first.documents).toHaveLength(inputs.length);
    expect(first.documents.filter((d) => d.outcome === 'missing')).toEqual([]);
    const results = (await listFiles(join(t.workdir, 'bucket/results'))).length;
    const rejected = (await listFiles(join(t.workdir, 'bucket/rejected'))).length;
    expect(results + rejected).toBe(inputs.length);
  });

  it('rejects exactly the samples listed as rejected, with reason codes', async () => {
    const expectedRejected = await readJsonFile<string[]>(join(EXPECTED, 'rejected.json'));
    const rejected = first.documents.filter((d) => d.outcome === 'rejected').map((d) => d.input.display);
    expect(rejected.sort()).toEqual([...expectedRejected].sort());
    const html = byName(first, 'not-a-receipt.pdf');
    expect(html.reasons?.map((r) => r.code)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
  });

  it('writes results that carry their source, validate against the schema and match the expected records', async () => {
    for (const d of first.documents.filter((x) => x.outcome === 'result')) {
      const result = await readJsonFile<ResultRecord>(join(t.workdir, 'bucket', d.outputKey ?? ''));
      const bytes = await readFile(d.input.path);
      expect(result.source.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(result.source.key).toBe(d.key);
      expect(t.env.ctx.schemas.validate(result.type, result.record)).toEqual([]);
      expect(result.extraction.model).toBe(t.env.ctx.config.model.id);
      expect(result.extraction.tokens.input).toBeGreaterThan(0);
      const stem = basename(d.input.path).replace(/\.[^.]+$/, '');
      const expected = await readJsonFile<Record<string, unknown>>(
        join(EXPECTED, d.input.type, `${stem}.json`),
      );
      expect(result.record).toEqual(expected);
    }
  });

  it('routes digital PDFs through the text layer and the image through Textract', () => {
    const pdf = statesEntered(ingestOf(first, 'acme-invoice-2041.pdf'));
    expect(pdf).toEqual(['Register', 'Route', 'ExtractTextLayer', 'Chunk', 'Staged']);
    const image = statesEntered(ingestOf(first, 'corner-cafe-receipt.png'));
    expect(image.slice(0, 5)).toEqual([
      'Register',
      'Route',
      'StartTextract',
      'WaitForTextract',
      'GetTextractStatus',
    ]);
    expect(image.slice(-3)).toEqual(['TextractStatus', 'Chunk', 'Staged']);
  });

  it('quarantines the HTML file and fails its execution with DocumentRejected', () => {
    const outcome = ingestOf(first, 'not-a-receipt.pdf');
    expect(statesEntered(outcome)).toEqual(['Register', 'Route', 'Quarantine', 'Rejected']);
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error?.Error).toBe('DocumentRejected');
  });

  it('runs the nightly machine through job creation, polling, collection and the report', () => {
    const states = statesEntered(first.batch);
    expect(first.batch.status).toBe('SUCCEEDED');
    expect(states.slice(0, 2)).toEqual(['StartRun', 'Assemble']);
    expect(states).toContain('CreateJob');
    expect(states.filter((s) => s === 'GetJob').length).toBeGreaterThan(1);
    expect(states).toContain('BatchJobEnded');
    expect(states.slice(-4)).toEqual(['Collect', 'Release', 'RedriveNeeded', 'Report']);
    expect(first.report?.attempts).toBe(1);
    expect(first.report?.results).toBe(first.documents.filter((d) => d.outcome === 'result').length);
  });

  it('keeps the batch input in the Bedrock contract: 11-character recordIds, no modelId in modelInput', async () => {
    const inputs = (await listFiles(join(t.workdir, 'bucket/runs'))).filter(
      (f) => f.endsWith('.jsonl') && f.includes('/input/'),
    );
    expect(inputs.length).toBeGreaterThan(0);
    for (const f of inputs) {
      for (const line of (await readFile(join(t.workdir, 'bucket/runs', f), 'utf8')).trim().split('\n')) {
        const record = JSON.parse(line) as { recordId: string; modelInput: Record<string, unknown> };
        expect(record.recordId).toMatch(/^[A-Za-z0-9]{11}$/);
        expect(record.modelInput).not.toHaveProperty('modelId');
        expect(record.modelInput['anthropic_version']).toBe('bedrock-2023-05-31');
      }
    }
  });

  it('is idempotent: running the same inputs again adds no result and keeps every outcome', async () => {
    const before = await listFiles(join(t.workdir, 'bucket/results'));
    const again = await runPipeline(t.env, await collectInputs([SAMPLES]), { waitMs: 5, retryMs: 0 });
    expect(await listFiles(join(t.workdir, 'bucket/results'))).toEqual(before);
    expect(again.documents.map((d) => [d.docId, d.outcome])).toEqual(
      first.documents.map((d) => [d.docId, d.outcome]),
    );
    for (const d of again.documents.filter((x) => x.outcome === 'result')) {
      expect(statesEntered(ingestOf(again, basename(d.input.path)))).toEqual([
        'Register',
        'Route',
        'AlreadyIngested',
      ]);
    }
    expect(statesEntered(again.batch)).toEqual([
      'StartRun',
      'Assemble',
      'AnythingToRun',
      'NothingToRun',
      'Report',
    ]);
    const rejection = await readJsonFile<RejectedRecord>(
      join(t.workdir, 'bucket', byName(again, 'not-a-receipt.pdf').outputKey ?? ''),
    );
    expect(rejection.reasons[0]?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});
