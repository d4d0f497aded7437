import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../../src/config.ts';
import {
  DEFAULT_DEFER_MAX_AGE_HOURS,
  deferMaxAgeHours,
  type JobFacts,
  jobDispositions,
} from '../../../../src/core/batch/defer.ts';

const HOUR = 3_600_000;
const now = Date.parse('2025-06-02T12:00:00Z');
const rules = { minRecordsPerJob: 100, belowMinimum: 'defer' as const, nowMs: now, maxAgeHours: 24 };
const job = (records: number, ageHours?: number, firstDocContinues = false): JobFacts => ({
  records,
  firstDocContinues,
  ...(ageHours !== undefined ? { oldestRegisteredMs: now - ageHours * HOUR } : {}),
});

describe('Function: deferMaxAgeHours', () => {
  it('reads batch.deferMaxAgeHours, with the default when it is missing or unusable', () => {
    const config = defaultConfig();
    expect(deferMaxAgeHours(config)).toBe(DEFAULT_DEFER_MAX_AGE_HOURS);
    for (const [value, want] of [
      [6, 6],
      [0, 0],
      [-1, DEFAULT_DEFER_MAX_AGE_HOURS],
      ['12', DEFAULT_DEFER_MAX_AGE_HOURS],
      [Number.NaN, DEFAULT_DEFER_MAX_AGE_HOURS],
    ] as const) {
      expect(deferMaxAgeHours({ batch: { ...config.batch, deferMaxAgeHours: value } as never })).toBe(want);
    }
  });
});

describe('Function: jobDispositions', () => {
  it('submits jobs at the minimum as batch jobs and, with policy on-demand, the rest on-demand', () => {
    expect(jobDispositions([job(100), job(99)], { ...rules, belowMinimum: 'on-demand' })).toEqual([
      'batch',
      'on-demand',
    ]);
  });

  it('defers a job below the minimum until its oldest document reaches the maximum age', () => {
    expect(jobDispositions([job(100, 50), job(10, 23.9)], rules)).toEqual(['batch', 'deferred']);
    expect(jobDispositions([job(10, 24)], rules)).toEqual(['on-demand']);
    expect(jobDispositions([job(10, 1)], { ...rules, maxAgeHours: 0 })).toEqual(['on-demand']);
  });

  it('does not hold back a document it cannot date', () => {
    expect(
      jobDispositions(
        [{ records: 5, firstDocContinues: false, oldestRegisteredMs: Number.NEGATIVE_INFINITY }],
        rules,
      ),
    ).toEqual(['on-demand']);
  });

  it('never leaves half a document staged: a deferred job sharing a document with a running one runs too', () => {
    expect(jobDispositions([job(100, 1), job(10, 1, true)], rules)).toEqual(['batch', 'on-demand']);
    // …along a chain of small jobs split through documents, and not past an unshared boundary.
    expect(
      jobDispositions([job(100, 1), job(10, 1, true), job(10, 1, true), job(10, 1, false)], {
        ...rules,
        minRecordsPerJob: 100,
      }),
    ).toEqual(['batch', 'on-demand', 'on-demand', 'deferred']);
    expect(jobDispositions([job(10, 1), job(100, 1, true)], rules)).toEqual(['on-demand', 'batch']);
  });
});
