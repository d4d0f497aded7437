import { indexOfBytes } from './bytes.ts';

/** What `BatchedLines` writes to: an `ObjectWriter` of the store, typed structurally so core stays pure. */
export interface LineSink {
  write(data: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Hands lines to a streaming writer in pieces of about `pieceChars` characters: one store write per
 * 64 K characters instead of one per record keeps the per-write overhead (a promise, a stream chunk,
 * a multipart bookkeeping step) off the per-record path. Pieces stay below V8's large-object size
 * (128 KiB), so they die young instead of piling up in the old generation until a full GC.
 *
 * `add` waits only when two pieces are already waiting behind the one being written: a caller that
 * waited for each write (as it did) held up whatever it was working through meanwhile, and in
 * Collect that was a worker's answer, whose outcome bodies then outlived young-generation
 * collections. A failed write is rethrown by the next `add`, `flush` or `close`.
 */
export class BatchedLines {
  readonly #sink: LineSink;
  readonly #pieceChars: number;
  #parts: string[] = [];
  #chars = 0;
  /** The sink's writes, one after the other: callers that do not await each other must not interleave them. */
  #writing: Promise<void> = Promise.resolve();
  /** Pieces handed to `#writing` and not written yet. */
  #pending = 0;
  #failure: { error: unknown } | undefined;

  constructor(sink: LineSink, pieceChars = 64 * 1024) {
    this.#sink = sink;
    this.#pieceChars = pieceChars;
  }

  /** Adds text that ends with its own newline. */
  async add(text: string): Promise<void> {
    this.#throwIfFailed();
    this.#parts.push(text);
    this.#chars += text.length;
    if (this.#chars < this.#pieceChars) return;
    const written = this.#write();
    if (this.#pending > MAX_QUEUED_PIECES) {
      await written;
      this.#throwIfFailed();
    }
  }

  async flush(): Promise<void> {
    if (this.#parts.length > 0) this.#write();
    await this.#writing;
    this.#throwIfFailed();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#sink.close();
  }

  /** Queues the lines added so far as one write; the promise settles (never rejects) once it is done. */
  #write(): Promise<void> {
    const piece = this.#parts.join('');
    this.#parts = [];
    this.#chars = 0;
    this.#pending++;
    this.#writing = this.#writing
      .then(() => this.#sink.write(piece))
      .then(
        () => {
          this.#pending--;
        },
        (error: unknown) => {
          this.#pending--;
          this.#failure ??= { error };
        },
      );
    return this.#writing;
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}

/** Pieces `BatchedLines` has queued (the one being written and two behind it) before `add` waits. */
const MAX_QUEUED_PIECES = 3;

/**
 * Whole lines of UTF-8 `bytes`, about `size` bytes at a time (each piece ends with a newline but
 * for the last; views, not copies).
 */
export function* linePieces(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  let start = 0;
  while (start < bytes.length) {
    let end = start + size;
    if (end >= bytes.length) end = bytes.length;
    else {
      const nl = indexOfBytes(bytes, 10, end);
      end = nl < 0 ? bytes.length : nl + 1;
    }
    yield bytes.subarray(start, end);
    start = end;
  }
}

/**
 * Regroups a byte stream's chunks into runs of whole lines of at least `minBytes` (the last run
 * may be shorter, and ends where the stream does). Each run is a copy in a buffer of its own, so it
 * can be handed to a worker thread without another; a line longer than `minBytes` is one run.
 */
export async function* lineRuns(
  chunks: AsyncIterable<Uint8Array>,
  minBytes: number,
): AsyncGenerator<Uint8Array> {
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  for await (const chunk of chunks) {
    held.push(chunk);
    heldBytes += chunk.length;
    if (heldBytes < minBytes) continue;
    const cut = chunk.lastIndexOf(10);
    if (cut < 0 || heldBytes - (chunk.length - cut - 1) < minBytes) continue;
    const rest = chunk.subarray(cut + 1);
    held[held.length - 1] = chunk.subarray(0, cut + 1);
    yield joined(held, heldBytes - rest.length);
    held = rest.length > 0 ? [rest] : [];
    heldBytes = rest.length;
  }
  if (heldBytes > 0) yield joined(held, heldBytes);
}

function joined(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A text's lines as `ObjectStore.lines` yields them: split at `\n`, `\r\n` or a lone `\r`, no empty ones. */
export function textLines(text: string): string[] {
  return text.split(/\r?\n|\r/).filter((line) => line.length > 0);
}

/**
 * Cuts a byte stream of lines into consecutive slices of given line counts, each a copy of its own,
 * read only as far as the slices asked for: Collect takes a job index's slice per output file this
 * way instead of holding the whole index (27 MB for 100,000 records) while its files are decided.
 * Slices may be asked for in any order; the ones before an asked-for slice are read and kept until
 * asked for (Collect asks about in order). A stream that ends early gives shorter or empty slices.
 */
export class LineSlices {
  readonly #chunks: AsyncIterator<Uint8Array>;
  readonly #counts: readonly number[];
  readonly #made = new Map<number, Uint8Array>();
  /** Bytes read but not sliced yet, in order. */
  #held: Uint8Array[] = [];
  #next = 0;
  #ended = false;
  #busy: Promise<void> = Promise.resolve();

  constructor(chunks: AsyncIterable<Uint8Array>, counts: readonly number[]) {
    this.#chunks = chunks[Symbol.asyncIterator]();
    this.#counts = counts;
  }

  /** Slice `index` (its lines, newline-terminated as in the stream); each is handed out once. */
  take(index: number): Promise<Uint8Array> {
    const made = this.#busy.then(async () => {
      while (this.#next <= index && this.#next < this.#counts.length)
        this.#made.set(this.#next, await this.#cut(this.#counts[this.#next++] as number));
      // Past the last slice, what the stream holds beyond it is not read: the stream is closed
      // (a file left open otherwise).
      if (this.#next === this.#counts.length && !this.#ended) {
        this.#ended = true;
        await this.#chunks.return?.();
      }
    });
    this.#busy = made.catch(() => {});
    return made.then(() => {
      const slice = this.#made.get(index) ?? new Uint8Array();
      this.#made.delete(index);
      return slice;
    });
  }

  /** The next `lines` lines of the stream, reading as far as they need. */
  async #cut(lines: number): Promise<Uint8Array> {
    const pieces: Uint8Array[] = [];
    let bytes = 0;
    let left = lines;
    while (left > 0) {
      const piece = this.#held.shift() ?? (await this.#read());
      if (!piece) break;
      let at = 0;
      while (left > 0) {
        const nl = indexOfBytes(piece, 10, at);
        if (nl < 0) break;
        at = nl + 1;
        left--;
      }
      if (left > 0 || at === piece.length) {
        // All of the piece belongs to this slice (its last line may go on in the next piece, or
        // end with the stream).
        pieces.push(piece);
        bytes += piece.length;
        continue;
      }
      pieces.push(piece.subarray(0, at));
      bytes += at;
      this.#held.unshift(piece.subarray(at));
    }
    return joined(pieces, bytes);
  }

  async #read(): Promise<Uint8Array | undefined> {
    if (this.#ended) return undefined;
    const next = await this.#chunks.next();
    if (next.done) {
      this.#ended = true;
      return undefined;
    }
    return next.value;
  }
}
