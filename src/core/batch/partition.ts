import { BoundedRunner } from './concurrency.ts';

/**
 * Collect's partitions: a run's records split by document into P groups small enough to join in
 * memory one at a time, whatever the size of the run. The groups live in the store as segment
 * objects written in order, so the only memory that grows with the run is a buffer of fixed size.
 */

/**
 * A partition's buffered lines are joined into one piece every this many characters, kept as
 * UTF-8 bytes. Lines are slices of the text they were read from: held one by one until their
 * segment was written, they outlived the young generation's collections by the million (each
 * copied, then promoted, then collected again as old garbage), kept their source texts alive, and
 * made V8 grow its young generation to the maximum (128 MB on 64-bit). Bytes live outside the
 * JavaScript heap, and the store writes bytes anyway.
 */
const PIECE_CHARS = 32 * 1024;

/** Segment writes in flight during a flush. */
const FLUSH_CONCURRENCY = 4;

/**
 * Records per partition Collect aims at: its join of one partition holds about this many in memory.
 * Halving it from 20,000 cut a 1M-line run's CPU time by a fifth (the join's state, promoted to the
 * old generation, is collected there), for twice the segment objects.
 */
export const RECORDS_PER_PARTITION = 10_000;
/** More partitions only add segment objects; 250 keeps 25 M records within ~100 k each (and fits a byte). */
export const MAX_PARTITIONS = 250;

/** How many partitions a run of `records` records gets (at least 1). */
export function partitionCount(records: number, perPartition = RECORDS_PER_PARTITION): number {
  return Math.min(MAX_PARTITIONS, Math.max(1, Math.ceil(records / Math.max(1, perPartition))));
}

/** Characters a partition's segment holds at most, about: large enough for few store round trips. */
export const SEGMENT_CHARS = 256 * 1024;
/** Characters buffered across all partitions at most, whatever their number. */
export const SPILL_MAX_CHARS = 8 * 1024 * 1024;

/**
 * The spill budget for `partitions`: segments of about SEGMENT_CHARS each (buffers fill evenly,
 * documents being hashed), within SPILL_MAX_CHARS in all. A small run buffers little; a large one
 * writes segments of SPILL_MAX_CHARS / P characters.
 */
export function spillBudget(partitions: number): number {
  return Math.min(SPILL_MAX_CHARS, Math.max(1, partitions) * SEGMENT_CHARS);
}

/** The partition of a document: FNV-1a of its id, so every chunk of a document lands in the same one. */
export function partitionOf(docId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < docId.length; i++) {
    h ^= docId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

/**
 * Buffers lines per partition and writes them out as numbered segment objects whenever the
 * buffered total passes `budgetChars`: each partition's lines are its segments read in key order.
 * Writing whole objects (not one open stream per partition) keeps memory to the budget on any
 * store: an S3 multipart writer would hold a part buffer of several MB per open partition.
 */
export class PartitionSpill {
  /** Per partition: its lines since the last piece. */
  readonly #buffers: string[][];
  /** Per partition: the characters of those lines (newlines included). */
  readonly #pending: number[];
  /** Per partition: pieces of its next segment, each whole lines joined, newline-terminated, UTF-8. */
  readonly #pieces: Uint8Array[][];
  readonly #segments: number[];
  readonly #budget: number;
  readonly #write: (partition: number, segment: number, body: Uint8Array) => Promise<void>;
  readonly #encoder = new TextEncoder();
  #buffered = 0;
  #lines = 0;

  /**
   * `write` stores one segment; segments of one partition are numbered 0, 1, … in the order their
   * lines arrived, so a key that sorts by that number (zero-padded) reads them back in order.
   */
  constructor(
    partitions: number,
    write: (partition: number, segment: number, body: Uint8Array) => Promise<void>,
    budgetChars = SPILL_MAX_CHARS,
  ) {
    this.#buffers = Array.from({ length: partitions }, () => []);
    this.#pending = new Array<number>(partitions).fill(0);
    this.#pieces = Array.from({ length: partitions }, () => []);
    this.#segments = new Array<number>(partitions).fill(0);
    this.#budget = budgetChars;
    this.#write = write;
  }

  /** Lines added so far. */
  get lines(): number {
    return this.#lines;
  }

  /**
   * Adds one line (without its newline). Returns the flush it caused, to be awaited, or undefined
   * when the line only joined its buffer: a run adds millions of lines, and a promise per line cost
   * more than the line.
   */
  add(partition: number, line: string): Promise<void> | undefined {
    const buffer = this.#buffers[partition];
    if (!buffer) throw new RangeError(`partition ${partition} out of range 0–${this.#buffers.length - 1}`);
    buffer.push(line);
    this.#lines++;
    // UTF-16 length, not bytes: the budget bounds memory, which is what strings cost.
    this.#buffered += line.length + 1;
    const pending = (this.#pending[partition] ?? 0) + line.length + 1;
    if (pending >= PIECE_CHARS) {
      (this.#pieces[partition] as Uint8Array[]).push(this.#encoder.encode(`${buffer.join('\n')}\n`));
      this.#buffers[partition] = [];
      this.#pending[partition] = 0;
    } else {
      this.#pending[partition] = pending;
    }
    return this.#buffered >= this.#budget ? this.flush() : undefined;
  }

  /**
   * Writes every non-empty buffer as the next segment of its partition, a few at a time (a store
   * round trip each): a buffer is released as its segment is handed over, so a flush holds little
   * more than the budget.
   */
  async flush(): Promise<void> {
    const writes = new BoundedRunner(FLUSH_CONCURRENCY);
    for (const [partition, buffer] of this.#buffers.entries()) {
      const pieces = this.#pieces[partition] as Uint8Array[];
      if (buffer.length > 0) pieces.push(this.#encoder.encode(`${buffer.join('\n')}\n`));
      if (pieces.length === 0) continue;
      const segment = this.#segments[partition] ?? 0;
      this.#segments[partition] = segment + 1;
      this.#buffers[partition] = [];
      this.#pending[partition] = 0;
      this.#pieces[partition] = [];
      await writes.run(() => this.#write(partition, segment, concat(pieces)));
    }
    await writes.drain();
    this.#buffered = 0;
  }

  /** Segments written for a partition so far. */
  segments(partition: number): number {
    return this.#segments[partition] ?? 0;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
