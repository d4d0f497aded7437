import type { Reason } from '../../errors.ts';
import { decideDocument, interpretOutputLine } from '../collect.ts';
import type { JsonSchema, ModelFamily } from '../families/types.ts';
import { keys } from '../keys.ts';
import type { RejectedRecord, ResultRecord } from '../outcomes.ts';
import { DocumentJoin, type JoinedDocument } from './join.ts';
import { IndexLineReader } from './line-keys.ts';
import { linePieces } from './lines.ts';

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
 * Bytes of a segment decoded and parsed at once. A whole file's lines, held while all of them
 * were parsed, outlived the young generation's collections and were promoted by the thousand;
 * pieces of this size die young. They also stay below V8's large-object size (128 KiB, which a
 * two-byte string of 32 K characters still is): a string of 256 KB is allocated in the
 * large-object space, which made decoding cost 30–40 times more than the same bytes in 32 KB
 * pieces (300 MB/s against 8–13 GB/s on the 2-core reference machine).
 */
const SEGMENT_PIECE_BYTES = 32 * 1024;

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
  #jobId = '';

  constructor(settings: DeciderSettings, family: ModelFamily, schemas: DocumentSchemas) {
    this.#settings = settings;
    this.#family = family;
    this.#schemas = schemas;
  }

  /** An index segment's bytes (whole UTF-8 lines), decoded a piece at a time. */
  addIndexBytes(bytes: Uint8Array): void {
    for (const piece of linePieces(bytes, SEGMENT_PIECE_BYTES)) this.addIndex(this.#decoder.decode(piece));
  }

  /** An output segment's bytes (whole UTF-8 lines), decoded a piece at a time; see `addOutput`. */
  addOutputBytes(bytes: Uint8Array, out: OutcomeWrite[]): void {
    for (const piece of linePieces(bytes, SEGMENT_PIECE_BYTES))
      this.addOutput(this.#decoder.decode(piece), out);
  }

  addIndex(text: string): void {
    const reader = this.#index;
    for (const line of text.split('\n'))
      if (line.length > 0) this.#join.addEntry(reader.next(line), reader.recordId, reader.chunk);
  }

  /** Works through one output segment; the documents it completed are appended to `out`. */
  addOutput(text: string, out: OutcomeWrite[]): void {
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      if (line.startsWith(FILE_MARKER)) {
        this.#jobId = this.#settings.jobIds[Number(line.slice(FILE_MARKER.length))] ?? '';
        continue;
      }
      let parsed: {
        recordId?: unknown;
        modelOutput?: unknown;
        error?: { errorCode?: number; errorMessage?: string };
      };
      try {
        parsed = JSON.parse(line);
      } catch {
        continue; // routed by its leading recordId, but torn further on: it belongs to no record
      }
      const record = this.#join.accept(parsed.recordId);
      if (record < 0) continue;
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
  }

  /** The documents still missing a chunk, decided as they are; appended to `out`. */
  finish(out: OutcomeWrite[]): void {
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
