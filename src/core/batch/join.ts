import type { ChunkOutcome } from '../collect.ts';
import type { IndexEntry } from '../outcomes.ts';
import { RecordIds } from './record-ids.ts';

/** A document with the outcomes of its chunks, ready for `decideDocument`. */
export interface JoinedDocument {
  docId: string;
  /** The document's first index entry: its type, chunk count, attempt, job and source. */
  entry: IndexEntry;
  chunks: Map<number, ChunkOutcome>;
}

interface DocState {
  /** The document's number in the partition, in index order. */
  ordinal: number;
  entry: IndexEntry;
  chunks: Map<number, ChunkOutcome>;
  /** Chunks 0…entry.chunks−1 with an outcome: the document is complete when all are there. */
  present: number;
  /** The highest chunk in range whose outcome keeps its model output (the rejection's lastOutput). */
  outputChunk: number;
  done: boolean;
  /** Out-of-range chunk numbers seen after the document was decided (a malformed index only). */
  extra?: Set<number>;
}

const NO_CHUNKS = new Map<number, ChunkOutcome>();

function inRange(chunk: number, count: number): boolean {
  return Number.isInteger(chunk) && chunk >= 0 && chunk < count;
}

/**
 * Joins output lines to index entries by recordId for one partition of a run, and hands each
 * document over as soon as every chunk has its outcome, so a partition's memory holds only the
 * documents still waiting for a chunk. The rules are Collect's own: the first index entry of a
 * document describes it, the last entry of a recordId places it, the first output line of a chunk
 * wins, and of the model outputs only the one `decideDocument` would keep as `lastOutput` is held.
 *
 * A record is a number (its ordinal) with its chunk, document and entry in arrays, not an object
 * of its own: a partition's index lives as long as the partition, and an object per record (with
 * the entry and recordId JSON.parse made for it) was most of what each young-generation collection
 * copied. Entries are shared between the records of a document that `IndexLineReader` read as
 * twins, so a record costs its recordId, a Map slot and three array elements.
 */
export class DocumentJoin {
  /** Each recordId's ordinal: the last entry of a recordId places it. */
  readonly #ordinals = new RecordIds();
  readonly #chunkOf: number[] = [];
  readonly #docOf: DocState[] = [];
  /** The entry each record was read with (its type decides the schema its line is read with). */
  readonly #entryOf: IndexEntry[] = [];
  readonly #docs = new Map<string, DocState>();
  readonly #docList: DocState[] = [];
  #lastEntry: IndexEntry | undefined;
  #lastDoc: DocState | undefined;

  /**
   * Adds an index entry. `recordId` and `chunk` default to the entry's: `IndexLineReader` passes a
   * document's shared entry with each twin's own.
   */
  addEntry(entry: IndexEntry, recordId: unknown = entry.recordId, chunk: number = entry.chunk): void {
    const ordinal = this.#add(entry, chunk);
    // A recordId that is not a string is never looked up: no output line can name it.
    if (typeof recordId === 'string') this.#ordinals.set(recordId, ordinal);
  }

  /** `addEntry` with the recordId at `bytes[at…at+11)`, eleven ASCII letters or digits. */
  addEntryAt(entry: IndexEntry, bytes: Uint8Array, at: number, chunk: number): void {
    this.#ordinals.setBytes(bytes, at, this.#add(entry, chunk));
  }

  #add(entry: IndexEntry, chunk: number): number {
    // A document's twins come in a row with its one entry: the lookup is made once for them.
    let doc = entry === this.#lastEntry ? this.#lastDoc : this.#docs.get(entry.docId);
    if (!doc) {
      // Its chunks' map is made when the first outcome comes: one made now would be promoted with
      // the index, and the outcomes it held would then outlive the document (an old object's
      // pointers keep young ones alive until the next full collection).
      doc = {
        ordinal: this.#docList.length,
        entry,
        chunks: NO_CHUNKS,
        present: 0,
        outputChunk: -1,
        done: false,
      };
      this.#docs.set(entry.docId, doc);
      this.#docList.push(doc);
    }
    this.#lastEntry = entry;
    this.#lastDoc = doc;
    const ordinal = this.#chunkOf.length;
    this.#chunkOf.push(chunk);
    this.#docOf.push(doc);
    this.#entryOf.push(entry);
    return ordinal;
  }

  /**
   * The ordinal of the record an output line with this recordId contributes to, or −1 when the
   * line belongs to no record of the partition or its chunk already has an outcome.
   */
  accept(recordId: unknown): number {
    const ordinal = typeof recordId === 'string' ? this.#ordinals.get(recordId) : -1;
    if (ordinal < 0) return -1;
    const doc = this.#docOf[ordinal] as DocState;
    const chunk = this.#chunkOf[ordinal] as number;
    if (doc.done) {
      if (inRange(chunk, doc.entry.chunks) || doc.extra?.has(chunk)) return -1;
      return ordinal;
    }
    return doc.chunks.has(chunk) ? -1 : ordinal;
  }

  /** The ordinal of the record with this recordId, or −1; nothing else is checked. */
  ordinalOf(recordId: string): number {
    return this.#ordinals.get(recordId);
  }

  /** `ordinalOf` the recordId at `bytes[at…at+11)`, eleven ASCII letters or digits. */
  ordinalAt(bytes: Uint8Array, at: number): number {
    return this.#ordinals.getBytes(bytes, at);
  }

  /** The ordinal of a record's document. */
  docOf(ordinal: number): number {
    return (this.#docOf[ordinal] as DocState).ordinal;
  }

  /** How many chunks a document has (its first entry's count). */
  chunksOf(doc: number): number {
    return (this.#docList[doc] as DocState).entry.chunks;
  }

  /** Whether the document was handed over (complete, or by `remaining`). */
  isDone(doc: number): boolean {
    return (this.#docList[doc] as DocState).done;
  }

  /** Whether a record's chunk is one of its document's 0…chunks−1 (an outcome of it counts toward completion). */
  inRange(ordinal: number): boolean {
    return inRange(this.#chunkOf[ordinal] as number, (this.#docOf[ordinal] as DocState).entry.chunks);
  }

  /** The document type of an accepted record (its entry's). */
  typeOf(ordinal: number): string {
    return (this.#entryOf[ordinal] as IndexEntry).type;
  }

  /**
   * Records an accepted record's outcome; returns the document when this completed it (it is then
   * forgotten but for what `accept` needs to refuse later lines of its chunks).
   */
  add(ordinal: number, outcome: ChunkOutcome): JoinedDocument | undefined {
    const doc = this.#docOf[ordinal];
    const chunk = this.#chunkOf[ordinal];
    if (!doc || chunk === undefined) return undefined;
    const count = doc.entry.chunks;
    if (doc.done) {
      // A chunk number outside the document (a malformed index): counted, never decisive.
      doc.extra ??= new Set();
      doc.extra.add(chunk);
      return undefined;
    }
    // An output let go is set to undefined, not deleted or copied away: either would cost an
    // object per line (a copy, or a slower dictionary-mode one), and `decideDocument` reads
    // undefined as no output.
    if (doc.chunks === NO_CHUNKS) doc.chunks = new Map();
    if (!inRange(chunk, count)) {
      outcome.output = undefined;
      doc.chunks.set(chunk, outcome);
      return undefined;
    }
    // `decideDocument` keeps `outcome.output ?? lastOutput`: a null output holds nothing either.
    if (outcome.output !== undefined && outcome.output !== null) {
      if (chunk > doc.outputChunk) {
        const previous = doc.chunks.get(doc.outputChunk);
        if (previous) previous.output = undefined;
        doc.outputChunk = chunk;
      } else {
        outcome.output = undefined;
      }
    }
    doc.chunks.set(chunk, outcome);
    doc.present++;
    if (doc.present < count) return undefined;
    return this.#finish(doc.entry.docId, doc);
  }

  /** Documents not complete yet (some chunk has no output), in index order; each is handed over once. */
  *remaining(): Generator<JoinedDocument> {
    for (const [docId, doc] of this.#docs) if (!doc.done) yield this.#finish(docId, doc);
  }

  #finish(docId: string, doc: DocState): JoinedDocument {
    const joined = { docId, entry: doc.entry, chunks: doc.chunks };
    doc.done = true;
    for (const chunk of doc.chunks.keys()) {
      if (inRange(chunk, doc.entry.chunks)) continue;
      doc.extra ??= new Set();
      doc.extra.add(chunk);
    }
    // Nothing is added to a decided document's chunks (`add` stops at `done`): one empty map serves all.
    doc.chunks = NO_CHUNKS;
    return joined;
  }
}
