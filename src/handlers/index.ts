import type { TaskName } from '../tasks/index.ts';

/**
 * Each Task state's Lambda entry file (relative to this folder); the stack builds one function per
 * entry and a test checks the list against the task registry.
 */
export const HANDLER_ENTRIES: Record<TaskName, string> = {
  Register: 'register.ts',
  ExtractTextLayer: 'extract-text-layer.ts',
  Chunk: 'chunk.ts',
  Quarantine: 'quarantine.ts',
  Assemble: 'assemble.ts',
  InvokeOnDemand: 'invoke-on-demand.ts',
  Collect: 'collect.ts',
  Release: 'release.ts',
  Report: 'report.ts',
};

/** The functions that read documents with mupdf and so ship its `.wasm` as a node module. */
export const NEEDS_MUPDF: ReadonlySet<TaskName> = new Set(['Register', 'ExtractTextLayer']);
