import type { Reason } from '../errors.ts';

export interface Source {
  key: string;
  sha256: string;
}

/** `documents/<docId>.json`: what Register learnt, and where the document is now. */
export interface DocumentRecord {
  docId: string;
  type: string;
  source: Source;
  /** Every key these bytes were uploaded under (the same bytes twice are one document). */
  sources: string[];
  size: number;
  mediaType?: string;
  pages?: number;
  textLayerPages?: number;
  status: 'registered' | 'staged' | 'result' | 'rejected';
  registeredAt: string;
  updatedAt: string;
  runId?: string;
  /** The OCR job's final status (PARTIAL_SUCCESS when Textract could not read some pages). */
  ocrStatus?: string;
  /** Textract's warnings, by code, with the pages they concern. */
  ocrWarnings?: { code: string; pages: number[] }[];
}

export interface ResultRecord {
  docId: string;
  type: string;
  source: Source;
  sources: string[];
  record: Record<string, unknown>;
  extraction: {
    model: string;
    runId: string;
    jobIds: string[];
    tokens: { input: number; output: number };
    attempts: number;
    chunks: number;
    warnings: string[];
  };
}

export interface RejectedRecord {
  docId: string;
  type: string;
  source: Source;
  sources: string[];
  stage: 'ingest' | 'extract' | 'validate';
  reasons: Reason[];
  runId?: string;
  /** The last model output, when there was one, so a person can see what was refused. */
  lastOutput?: unknown;
}

/** One line of `staged/<docId>.jsonl`. */
export interface StagedChunk {
  docId: string;
  type: string;
  source: Source;
  chunk: number;
  chunks: number;
  pageStart: number;
  pageEnd: number;
  tokens: number;
  text: string;
  /** 1 for a first submission; a re-drive re-stages the document with the next attempt. */
  attempt?: number;
  /** Why the previous attempt failed, fed back to the model on re-drive. */
  feedback?: string[];
}

/** One line of `runs/<runId>/index/job-<n>.jsonl`: recordId → where it came from. */
export interface IndexEntry {
  recordId: string;
  docId: string;
  type: string;
  chunk: number;
  chunks: number;
  attempt: number;
  job: number;
  source: Source;
}
