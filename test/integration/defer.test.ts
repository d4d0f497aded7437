import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execute } from '../../src/cli/local-engine.ts';
import { collectInputs, runPipeline } from '../../src/cli/pipeline.ts';
import { DEFAULT_QUOTAS } from '../../src/config.ts';
import { DEFAULT_DEFER_MAX_AGE_HOURS } from '../../src/core/batch/defer.ts';
import { keys } from '../../src/core/keys.ts';
import type { DocumentRecord } from '../../src/core/outcomes.ts';
import type { RunReport } from '../../src/tasks/batch.ts';
import { makeEnv, SAMPLES, statesEntered, type TestEnv } from './helpers.ts';

const INVOICES = join(SAMPLES, 'invoice');
const fast = { waitMs: 5, retryMs: 0 } as const;
const HOUR = 3_600_000;
const REGISTERED = Date.parse('2025-06-01T22:00:00Z');

let t: TestEnv | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

/** A local environment whose tasks read the time from `clock.at`. */
async function deferringEnv() {
  t = await makeEnv({ config: { belowMinimum: 'defer', quotas: { ...DEFAULT_QUOTAS } } });
  const clock = { at: REGISTERED };
  t.env.ctx.clock = { now: () => new Date(clock.at) };
  return { env: t.env, clock };
}

/** One nightly batch execution, without new uploads. */
async function nightlyBatch(env: TestEnv['env'], runId: string) {
  const outcome = await execute(
    env.definitions.batch,
    {},
    { bindings: env.bindings.batch, executionName: runId, ...fast },
  );
  const report = JSON.parse(await env.store.getText(keys.report(runId))) as RunReport;
  return { outcome, report };
}

describe('Scenario: belowMinimum "defer" with a maximum age', () => {
  it('leaves a small run staged, then sends it on-demand once it has waited batch.deferMaxAgeHours', async () => {
    const { env, clock } = await deferringEnv();
    const first = await runPipeline(env, await collectInputs([INVOICES]), { ...fast, runId: 'night-1' });
    const docIds = first.documents.map((d) => d.docId);
    expect(docIds.length).toBe(2);

    // Night 1: two documents are far below Bedrock's minimum of 100 records: nothing is submitted.
    expect(statesEntered(first.batch)).toContain('NothingToRun');
    expect(statesEntered(first.batch)).not.toContain('InvokeOnDemand');
    expect(first.batch.status).toBe('SUCCEEDED');
    expect(first.documents.map((d) => d.outcome)).toEqual(['missing', 'missing']);
    expect(first.report?.deferred).toBeGreaterThanOrEqual(2);
    for (const docId of docIds) {
      // Still staged, and free for the next run to claim; not marked as taken by this one.
      expect(await env.store.head(keys.staged(docId))).toBeDefined();
      expect(await env.store.head(keys.claim(docId))).toBeUndefined();
      const doc = JSON.parse(await env.store.getText(keys.document(docId))) as DocumentRecord;
      expect(doc.status).toBe('staged');
      expect(doc.runId).toBeUndefined();
    }

    // Night 2, just under the maximum age: still deferred.
    clock.at = REGISTERED + (DEFAULT_DEFER_MAX_AGE_HOURS - 1) * HOUR;
    const second = await nightlyBatch(env, 'night-2');
    expect(statesEntered(second.outcome)).toContain('NothingToRun');
    expect(second.report.deferred).toBe(first.report?.deferred);
    for (const docId of docIds) expect(await env.store.head(keys.staged(docId))).toBeDefined();

    // Night 3, past the maximum age: the same records go on-demand and every document gets its outcome.
    clock.at = REGISTERED + (DEFAULT_DEFER_MAX_AGE_HOURS + 1) * HOUR;
    const third = await nightlyBatch(env, 'night-3');
    const states = statesEntered(third.outcome);
    expect(states).toContain('InvokeOnDemand');
    expect(states).not.toContain('CreateJob');
    expect(third.report.deferred).toBe(0);
    // (A document the model gets wrong once is re-driven within the run: on-demand again.)
    expect(third.report.jobs.every((j) => j.mode === 'on-demand')).toBe(true);
    expect(third.report.jobs[0]?.records).toBe(first.report?.deferred);
    for (const docId of docIds) {
      const doc = JSON.parse(await env.store.getText(keys.document(docId))) as DocumentRecord;
      expect(doc.status).toBe('result');
      expect(doc.runId).toBe('night-3');
      expect(await env.store.head(keys.result('invoice', docId))).toBeDefined();
      expect(await env.store.head(keys.staged(docId))).toBeUndefined();
      expect(await env.store.head(keys.claim(docId))).toBeUndefined();
    }
  });

  it('reads the maximum age from batch.deferMaxAgeHours', async () => {
    const { env, clock } = await deferringEnv();
    (env.ctx.config.batch as Record<string, unknown>)['deferMaxAgeHours'] = 2;
    const first = await runPipeline(env, await collectInputs([INVOICES]), { ...fast, runId: 'night-1' });
    expect(first.documents.map((d) => d.outcome)).toEqual(['missing', 'missing']);
    clock.at = REGISTERED + 3 * HOUR;
    const later = await nightlyBatch(env, 'night-2');
    expect(statesEntered(later.outcome)).toContain('InvokeOnDemand');
    expect(later.report.results).toBe(2);
  });
});
