import type { Quotas } from '../../config.ts';

export interface PlannedFile {
  part: number;
  records: number;
  bytes: number;
}

export interface PlannedJob {
  job: number;
  records: number;
  bytes: number;
  files: PlannedFile[];
}

export interface Placement {
  job: number;
  part: number;
  /** The record opens a new input file (the previous one, if any, is complete). */
  newFile: boolean;
  /** The record opens a new job (the previous one, if any, is complete). */
  newJob: boolean;
}

/**
 * Places records one by one into jobs and input files without ever seeing the whole run: a file
 * rolls over at the per-file record or byte quota, a job at the per-job record or byte quota.
 */
export class JobPlanner {
  readonly #quotas: Quotas;
  readonly #jobs: PlannedJob[] = [];

  constructor(quotas: Quotas) {
    this.#quotas = quotas;
  }

  place(recordBytes: number): Placement {
    const q = this.#quotas;
    if (recordBytes > q.maxFileBytes) {
      throw new RangeError(
        `a record of ${recordBytes} bytes exceeds the input file limit of ${q.maxFileBytes} bytes`,
      );
    }
    let job = this.#jobs.at(-1);
    let newJob = false;
    if (!job || job.records >= q.maxRecordsPerJob || job.bytes + recordBytes > q.maxJobBytes) {
      job = { job: this.#jobs.length, records: 0, bytes: 0, files: [] };
      this.#jobs.push(job);
      newJob = true;
    }
    let file = job.files.at(-1);
    let newFile = false;
    if (!file || file.records >= q.maxRecordsPerFile || file.bytes + recordBytes > q.maxFileBytes) {
      file = { part: job.files.length, records: 0, bytes: 0 };
      job.files.push(file);
      newFile = true;
    }
    file.records++;
    file.bytes += recordBytes;
    job.records++;
    job.bytes += recordBytes;
    return { job: job.job, part: file.part, newFile, newJob };
  }

  jobs(): PlannedJob[] {
    return this.#jobs;
  }
}
