import type { Reason } from '../../errors.ts';
import { decideDocument, interpretOutputLine } from '../collect.ts';
import type { JsonSchema, ModelFamily } from '../families/types.ts';
import { keys } from '../keys.ts';
import type { RejectedRecord, ResultRecord } from '../outcomes.ts';
import { lineEnd } from './bytes.ts';
import { DocumentJoin, type JoinedDocument } from './join.ts';
import { KeptLines } from './kept-lines.ts';
import { IndexLineReader, LeadingRecordIds } from './line-keys.ts';

/**
 * Collect's decisions for one partition of a run, from its segment texts to the outcome objects to
 * write: pure, so that it runs the same in the task's thread or in a worker thread beside it.
 */

/**
 * Starts a line of a partition's output segments that names the output file its next lines come
 * from. No routed line starts with it: every one starts with `{`, or with blanks and `{`.
 */
export const FILE_MARKER = '#file ';

export interface DeciderSettings {
  runId: string;
  modelId: string;
  /** `batch.maxAttempts`: a document that fails below it is re-staged, at it rejected. */
  maxAttempts: number;
  /** The job id of each output file, by the number its marker lines carry. */
  jobIds: readonly string[];
  /** Why a job's records may be missing (the job did not complete), by job number. */
  jobMessages: ReadonlyMap<number, string>;
}

/**
 * Bytes of output lines a partition keeps unparsed while their documents wait for a chunk: past it,
 * the waiting documents are worked through as they stand. A partition of Bedrock's own output is
 * one output file (at most 128 MB, `FILE_PARTITION_MAX_BYTES`); the benchmark's are 6.5 MB.
 */
const DEFER_MAX_BYTES = 48 * 1024 * 1024;

const ENCODER = new TextEncoder();

type OutputLine = {
  recordId?: unknown;
  modelOutput?: unknown;
  error?: { errorCode?: number; errorMessage?: string };
};

/** The document types' schemas, as `SchemaRegistry` has them. */
export interface DocumentSchemas {
  schema(type: string): JsonSchema;
  validate(type: string, record: unknown): Reason[];
}

/**
 * What Collect writes for one document: its outcome object (serialized as every outcome is, with
 * `sources` holding the index's key only: the task adds the document's other keys), or its
 * re-staging for the next attempt with the reasons fed back.
 */
export type OutcomeWrite =
  | {
      kind: 'result' | 'rejected';
      docId: string;
      key: string;
      body: string;
      sourceKey: string;
    }
  | { kind: 'redrive'; docId: string; attempt: number; feedback: string[] };

/** An outcome object as docbatch writes every JSON object (`json()` in src/tasks/context.ts). */
export function outcomeJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Joins a partition's output lines to its index entries and decides each document as soon as
 * its last chunk arrives. Feed it the partition's index segments first, then its output segments,
 * in segment order, then `finish` for the documents still missing a chunk.
 *
 * Segment lines never hold a newline and are never empty but for the split's last piece, so the
 * split gives back the lines as they were spilled; raw lines are parsed here, never re-serialized,
 * so every decision is the one the whole run in memory would give.
 */
export class PartitionDecider {
  records = 0;
  errorRecords = 0;
  readonly tokens = { input: 0, output: 0 };
  readonly #join = new DocumentJoin();
  readonly #settings: DeciderSettings;
  readonly #family: ModelFamily;
  readonly #schemas: DocumentSchemas;
  readonly #decoder = new TextDecoder();
  readonly #index = new IndexLineReader();
  readonly #leading = new LeadingRecordIds();
  /** The output file (its number in `jobIds`) the lines come from, and its job id. */
  #job = -1;
  #jobId = '';
  /** Byte runs that lines kept for later (`#kept`) point into. */
  readonly #runs: Uint8Array[] = [];
  #deferredBytes = 0;
  readonly #deferMax: number;
  /** Each document's lines kept for later, in the order they came. */
  readonly #kept = new KeptLines();
  /** Per record: whether a line of it was kept (its chunk counted toward its document). */
  readonly #counted: boolean[] = [];
  /** Per document: how many of its chunks have had a line kept. */
  readonly #plausible: number[] = [];

  /**
   * `deferBytes`: the bytes of lines kept unparsed at most (DEFER_MAX_BYTES); 0 parses every line
   * as it comes.
   */
  constructor(
    settings: DeciderSettings,
    family: ModelFamily,
    schemas: DocumentSchemas,
    { deferBytes = DEFER_MAX_BYTES }: { deferBytes?: number } = {},
  ) {
    this.#deferMax = deferBytes;
    this.#settings = settings;
    this.#family = family;
    this.#schemas = schemas;
  }

  /** An index segment's bytes (whole UTF-8 lines); only a document's first line is decoded. */
  addIndexBytes(bytes: Uint8Array): void {
    const reader = this.#index;
    for (let start = 0, end = 0; start < bytes.length; start = end + 1) {
      end = lineEnd(bytes, start);
      if (end === start) continue;
      const entry = reader.next(bytes, start, end);
      if (reader.recordIdAt >= 0) this.#join.addEntryAt(entry, bytes, reader.recordIdAt, reader.chunk);
      else this.#join.addEntry(entry, entry?.recordId, reader.chunk);
    }
  }

  /** An index segment's text; see `addIndexBytes`. */
  addIndex(text: string): void {
    this.addIndexBytes(ENCODER.encode(text));
  }

  /**
   * Works through output lines (whole UTF-8 lines); the documents they completed are appended to
   * `out`. A line is parsed when its document has all its chunks (see `#defer`), not when it comes:
   * Bedrock's output is in no order, and a document's parsed chunks, held until its last one came,
   * outlived the young generation's collections and were copied there, then promoted, by the
   * hundred megabytes. Held unparsed, a line is a few numbers pointing into `bytes`, which is kept
   * (outside V8's heap) while a line in it waits.
   */
  addOutputBytes(bytes: Uint8Array, out: OutcomeWrite[]): void {
    let run = -1;
    for (let lineStart = 0, end = 0; lineStart < bytes.length; lineStart = end + 1) {
      end = lineEnd(bytes, lineStart);
      if (end === lineStart) continue;
      const idAt = this.#leading.at(bytes, lineStart, end);
      if (idAt < 0) {
        this.#other(this.#decoder.decode(bytes.subarray(lineStart, end)), out);
        continue;
      }
      const record = this.#join.ordinalAt(bytes, idAt);
      if (record < 0) continue; // a line of no record of the partition
      const doc = this.#join.docOf(record);
      // A document with a line for every chunk had its kept lines worked through; still not
      // done (a torn line, two records of one chunk), it takes its next lines as they come.
      if (this.#join.isDone(doc) || this.#mayBeComplete(doc)) {
        this.#lineAt(bytes, lineStart, end, out);
        continue;
      }
      if (this.#deferredBytes >= this.#deferMax) {
        // Past the budget: the document's kept lines first, as they came first.
        if (this.#kept.has(doc)) this.#replay(doc, out);
        this.#lineAt(bytes, lineStart, end, out);
        continue;
      }
      if (run < 0) {
        run = this.#runs.length;
        this.#runs.push(bytes);
        this.#deferredBytes += bytes.length;
      }
      if (this.#defer(record, doc, run, lineStart, end)) this.#replay(doc, out);
    }
    // Past the budget, every waiting document is worked through now and the bytes let go: those
    // still missing a chunk take their next lines as they come.
    if (this.#deferredBytes >= this.#deferMax) this.#replayAll(out);
  }

  /** A line that does not open with a certain recordId: a file marker, or a doubtful line. */
  #other(line: string, out: OutcomeWrite[]): void {
    if (line.startsWith(FILE_MARKER)) {
      this.#job = Number(line.slice(FILE_MARKER.length));
      this.#jobId = this.#settings.jobIds[this.#job] ?? '';
      return;
    }
    this.#doubtful(line, out);
  }

  /** Works through one output segment's text; see `addOutputBytes`. */
  addOutput(text: string, out: OutcomeWrite[]): void {
    this.addOutputBytes(ENCODER.encode(text), out);
  }

  /**
   * Keeps a line for its document; true when the document now has a line for every chunk, and so
   * may be complete (a line that does not parse, or two records of one chunk, can leave it short:
   * it then takes its next lines as they come).
   */
  #defer(record: number, doc: number, run: number, start: number, end: number): boolean {
    this.#kept.add(doc, run, start, end, this.#job);
    if (!this.#counted[record]) {
      this.#counted[record] = true;
      if (this.#join.inRange(record)) this.#plausible[doc] = (this.#plausible[doc] ?? 0) + 1;
    }
    return this.#mayBeComplete(doc);
  }

  /** Whether a document has had a line kept for every chunk. */
  #mayBeComplete(doc: number): boolean {
    return (this.#plausible[doc] ?? 0) >= this.#join.chunksOf(doc);
  }

  /** A document's kept lines, parsed and joined in the order they came. */
  #replay(doc: number, out: OutcomeWrite[]): void {
    const job = this.#job;
    const jobId = this.#jobId;
    const kept = this.#kept;
    for (let at = kept.take(doc); at >= 0; at = kept.next(at)) {
      const bytes = this.#runs[kept.run(at)] as Uint8Array;
      this.#job = kept.file(at);
      this.#jobId = this.#settings.jobIds[this.#job] ?? '';
      this.#lineAt(bytes, kept.start(at), kept.end(at), out);
    }
    this.#job = job;
    this.#jobId = jobId;
  }

  #replayAll(out: OutcomeWrite[]): void {
    for (const doc of this.#kept.documents()) this.#replay(doc, out);
    this.#runs.length = 0;
    this.#kept.clear();
    this.#deferredBytes = 0;
  }

  /**
   * A line whose recordId cannot be read without parsing it. If its document has lines kept,
   * they come first, as they came first.
   */
  #doubtful(line: string, out: OutcomeWrite[]): void {
    let parsed: OutputLine;
    try {
      parsed = JSON.parse(line);
    } catch {
      return; // it belongs to no record
    }
    const record = typeof parsed?.recordId === 'string' ? this.#join.ordinalOf(parsed.recordId) : -1;
    const doc = record >= 0 ? this.#join.docOf(record) : -1;
    if (doc >= 0 && this.#kept.has(doc)) this.#replay(doc, out);
    this.#joinLine(parsed, out);
  }

  /** The output line `bytes[start, end)`, decoded, parsed and joined now. */
  #lineAt(bytes: Uint8Array, start: number, end: number, out: OutcomeWrite[]): void {
    let parsed: OutputLine;
    try {
      parsed = JSON.parse(this.#decoder.decode(bytes.subarray(start, end)));
    } catch {
      return; // routed by its leading recordId, but torn further on: it belongs to no record
    }
    this.#joinLine(parsed, out);
  }

  #joinLine(parsed: OutputLine, out: OutcomeWrite[]): void {
    const record = this.#join.accept(parsed?.recordId);
    if (record < 0) return;
    this.records++;
    if (parsed.error) this.errorRecords++;
    const outcome = interpretOutputLine(
      parsed,
      this.#family,
      this.#schemas.schema(this.#join.typeOf(record)),
      this.#jobId,
    );
    this.tokens.input += outcome.tokens.input;
    this.tokens.output += outcome.tokens.output;
    const complete = this.#join.add(record, outcome);
    if (complete) out.push(this.#decide(complete));
  }

  /** The documents still missing a chunk, decided as they are; appended to `out`. */
  finish(out: OutcomeWrite[]): void {
    this.#replayAll(out);
    for (const doc of this.#join.remaining()) out.push(this.#decide(doc));
  }

  #decide({ docId, entry, chunks }: JoinedDocument): OutcomeWrite {
    const { runId, modelId, maxAttempts, jobMessages } = this.#settings;
    const decision = decideDocument(
      chunks,
      entry.chunks,
      (r) => this.#schemas.validate(entry.type, r),
      jobMessages.get(entry.job),
    );
    const source = entry.source;
    const sources = [source.key];
    if (decision.kind === 'result') {
      const result: ResultRecord = {
        docId,
        type: entry.type,
        source,
        sources,
        record: decision.record,
        extraction: {
          model: modelId,
          runId,
          jobIds: decision.jobIds,
          tokens: decision.tokens,
          attempts: entry.attempt,
          chunks: entry.chunks,
          warnings: decision.warnings,
        },
      };
      return write('result', keys.result(entry.type, docId), result);
    }
    // Another attempt can succeed: a transient error, a job that did not finish, a budget that
    // was too small, or a record the model can correct once it sees the validation errors.
    if (entry.attempt < maxAttempts)
      return {
        kind: 'redrive',
        docId,
        attempt: entry.attempt + 1,
        feedback: decision.reasons.map((r) => `${r.code}: ${r.message}`),
      };
    const rejection: RejectedRecord = {
      docId,
      type: entry.type,
      source,
      sources,
      stage: decision.stage,
      reasons: decision.reasons,
      runId,
      ...(decision.lastOutput !== undefined ? { lastOutput: decision.lastOutput } : {}),
    };
    return write('rejected', keys.rejected(docId), rejection);
  }
}

function write(
  kind: 'result' | 'rejected',
  key: string,
  outcome: ResultRecord | RejectedRecord,
): OutcomeWrite {
  return { kind, docId: outcome.docId, key, body: outcomeJson(outcome), sourceKey: outcome.source.key };
}
