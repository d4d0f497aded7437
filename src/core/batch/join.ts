import type { ChunkOutcome } from '../collect.ts';
import type { IndexEntry } from '../outcomes.ts';

/** A document with the outcomes of its chunks, ready for `decideDocument`. */
export interface JoinedDocument {
  docId: string;
  /** The document's first index entry: its type, chunk count, attempt, job and source. */
  entry: IndexEntry;
  chunks: Map<number, ChunkOutcome>;
}

interface DocState {
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

function inRange(chunk: number, count: number): boolean {
  return Number.isInteger(chunk) && chunk >= 0 && chunk < count;
}

/**
 * Joins output lines to index entries by recordId for one partition of a run, and hands each
 * document over as soon as every chunk has its outcome, so a partition's memory holds only the
 * documents still waiting for a chunk. The rules are Collect's own: the first index entry of a
 * document describes it, the last entry of a recordId places it, the first output line of a chunk
 * wins, and of the model outputs only the one `decideDocument` would keep as `lastOutput` is held.
 */
export class DocumentJoin {
  /** Each recordId's entry with its document's state, so a line costs one lookup, not three. */
  readonly #entries = new Map<string, { entry: IndexEntry; doc: DocState }>();
  readonly #docs = new Map<string, DocState>();
  /** What `accept` last answered, for the `add` that follows it. */
  #accepted: { entry: IndexEntry; doc: DocState } | undefined;

  addEntry(entry: IndexEntry): void {
    let doc = this.#docs.get(entry.docId);
    if (!doc) {
      doc = { entry, chunks: new Map(), present: 0, outputChunk: -1, done: false };
      this.#docs.set(entry.docId, doc);
    }
    this.#entries.set(entry.recordId, { entry, doc });
  }

  /**
   * The index entry an output line with this recordId contributes to, or undefined when the line
   * belongs to no record of the partition or its chunk already has an outcome.
   */
  accept(recordId: unknown): IndexEntry | undefined {
    const slot = typeof recordId === 'string' ? this.#entries.get(recordId) : undefined;
    if (!slot) return undefined;
    const { entry, doc } = slot;
    this.#accepted = slot;
    if (doc.done) {
      if (inRange(entry.chunk, doc.entry.chunks) || doc.extra?.has(entry.chunk)) return undefined;
      return entry;
    }
    return doc.chunks.has(entry.chunk) ? undefined : entry;
  }

  /**
   * Records an accepted entry's outcome; returns the document when this completed it (it is then
   * forgotten but for what `accept` needs to refuse later lines of its chunks).
   */
  add(entry: IndexEntry, outcome: ChunkOutcome): JoinedDocument | undefined {
    const doc = this.#accepted?.entry === entry ? this.#accepted.doc : this.#docs.get(entry.docId);
    if (!doc) return undefined;
    const count = doc.entry.chunks;
    if (doc.done) {
      // A chunk number outside the document (a malformed index): counted, never decisive.
      doc.extra ??= new Set();
      doc.extra.add(entry.chunk);
      return undefined;
    }
    // An output let go is set to undefined, not deleted or copied away: either would cost an
    // object per line (a copy, or a slower dictionary-mode one), and `decideDocument` reads
    // undefined as no output.
    if (!inRange(entry.chunk, count)) {
      outcome.output = undefined;
      doc.chunks.set(entry.chunk, outcome);
      return undefined;
    }
    // `decideDocument` keeps `outcome.output ?? lastOutput`: a null output holds nothing either.
    if (outcome.output !== undefined && outcome.output !== null) {
      if (entry.chunk > doc.outputChunk) {
        const previous = doc.chunks.get(doc.outputChunk);
        if (previous) previous.output = undefined;
        doc.outputChunk = entry.chunk;
      } else {
        outcome.output = undefined;
      }
    }
    doc.chunks.set(entry.chunk, outcome);
    doc.present++;
    if (doc.present < count) return undefined;
    return this.#finish(entry.docId, doc);
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
    doc.chunks = new Map();
    return joined;
  }
}
