import type { Quotas } from '../../config.ts';
import { RECORDS_PER_PARTITION } from './partition.ts';

/**
 * The quotas Assemble plans with: the model's, with input files of at most RECORDS_PER_PARTITION
 * records. With every document inside one file, each output file is then a partition Collect can
 * decide on its own, without first splitting the run's output by document.
 */
export function assemblyQuotas(quotas: Quotas): Quotas {
  return { ...quotas, maxRecordsPerFile: Math.min(quotas.maxRecordsPerFile, RECORDS_PER_PARTITION) };
}

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
 * Told where a document starts and how many records it has, it keeps the document in one file
 * (and so one job) when it fits in one: `aligned` says whether every document so far did.
 */
export class JobPlanner {
  readonly #quotas: Quotas;
  readonly #jobs: PlannedJob[] = [];
  /** A document was started: every record placed without a count continues it. */
  #inDocument = false;
  #aligned = true;

  constructor(quotas: Quotas) {
    this.#quotas = quotas;
  }

  /** Whether no document's records were split across input files. */
  get aligned(): boolean {
    return this.#aligned;
  }

  /**
   * Places a record of `recordBytes` bytes. `documentRecords`, given with a document's first
   * record, is the document's record count: a document that fits in an empty file but not in
   * what is left of the current one (or of the current job) opens a new one. Records placed
   * without it continue the document.
   */
  place(recordBytes: number, documentRecords?: number): Placement {
    const q = this.#quotas;
    if (recordBytes > q.maxFileBytes) {
      throw new RangeError(
        `a record of ${recordBytes} bytes exceeds the input file limit of ${q.maxFileBytes} bytes`,
      );
    }
    const starts = documentRecords !== undefined;
    const wanted =
      starts && documentRecords <= Math.min(q.maxRecordsPerFile, q.maxRecordsPerJob) ? documentRecords : 1;
    let job = this.#jobs.at(-1);
    let newJob = false;
    if (!job || job.records + wanted > q.maxRecordsPerJob || job.bytes + recordBytes > q.maxJobBytes) {
      job = { job: this.#jobs.length, records: 0, bytes: 0, files: [] };
      this.#jobs.push(job);
      newJob = true;
    }
    let file = job.files.at(-1);
    let newFile = false;
    if (!file || file.records + wanted > q.maxRecordsPerFile || file.bytes + recordBytes > q.maxFileBytes) {
      file = { part: job.files.length, records: 0, bytes: 0 };
      job.files.push(file);
      newFile = true;
    }
    // A record of the current document in another file than its first one: a document too large
    // for one file, or more records than it said.
    if (starts) this.#inDocument = true;
    else if (this.#inDocument && newFile) this.#aligned = false;
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
