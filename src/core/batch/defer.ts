import type { Config } from '../../config.ts';

/**
 * What a run does with each planned job: submit it as a Bedrock batch job, send it on-demand, or
 * (policy `defer`) leave its records staged for a later run.
 */
export type JobDisposition = 'batch' | 'on-demand' | 'deferred';

/** Hours a record may wait under the `defer` policy when `batch.deferMaxAgeHours` is not set. */
export const DEFAULT_DEFER_MAX_AGE_HOURS = 24;

/**
 * `batch.deferMaxAgeHours`, or the default when the configuration has no such key (or an unusable
 * value): the key is optional so that configurations written before it existed keep working.
 */
export function deferMaxAgeHours(config: Pick<Config, 'batch'>): number {
  const value = (config.batch as { deferMaxAgeHours?: unknown }).deferMaxAgeHours;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? value
    : DEFAULT_DEFER_MAX_AGE_HOURS;
}

/** What Assemble learnt about one planned job while streaming its records. */
export interface JobFacts {
  records: number;
  /**
   * When the job's longest-waiting document was registered (ms since the epoch); `-Infinity` when
   * one of its documents has no registration to date it; undefined when not tracked (no `defer`).
   */
  oldestRegisteredMs?: number;
  /** The job's first document also has records in the previous job (the planner split it). */
  firstDocContinues: boolean;
}

export interface DispositionRules {
  minRecordsPerJob: number;
  belowMinimum: Config['belowMinimum'];
  nowMs: number;
  maxAgeHours: number;
}

/**
 * One disposition per job, in order. A job with at least the minimum is a batch job. Below it,
 * policy `on-demand` sends it on-demand; policy `defer` leaves it staged, unless
 * - a document of the job has waited `maxAgeHours` since registration (or cannot be dated): the
 *   whole job goes on-demand, its younger records with it (the job is small by definition, and
 *   holding some back would only leave a smaller remainder to wait again), or
 * - the job shares a document with a job that runs: a document is collected as a whole, so its
 *   records cannot be half submitted and half left staged.
 */
export function jobDispositions(jobs: readonly JobFacts[], rules: DispositionRules): JobDisposition[] {
  const maxAgeMs = rules.maxAgeHours * 3_600_000;
  const out: JobDisposition[] = jobs.map((j) => {
    if (j.records >= rules.minRecordsPerJob) return 'batch';
    if (rules.belowMinimum !== 'defer') return 'on-demand';
    const oldest = j.oldestRegisteredMs;
    if (oldest !== undefined && rules.nowMs - oldest >= maxAgeMs) return 'on-demand';
    return 'deferred';
  });
  // A run decision can spread along a chain of jobs sharing documents: repeat until it settles.
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < jobs.length; i++) {
      if (out[i] !== 'deferred') continue;
      const sharesWithPrevious = jobs[i]?.firstDocContinues === true && i > 0 && out[i - 1] !== 'deferred';
      const sharesWithNext =
        i + 1 < jobs.length && jobs[i + 1]?.firstDocContinues === true && out[i + 1] !== 'deferred';
      if (sharesWithPrevious || sharesWithNext) {
        out[i] = 'on-demand';
        changed = true;
      }
    }
  }
  return out;
}
