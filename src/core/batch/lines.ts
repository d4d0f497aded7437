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
 */
export class BatchedLines {
  readonly #sink: LineSink;
  readonly #pieceChars: number;
  #parts: string[] = [];
  #chars = 0;
  /** The sink's writes, one after the other: callers that do not await each other must not interleave them. */
  #writing: Promise<void> = Promise.resolve();

  constructor(sink: LineSink, pieceChars = 64 * 1024) {
    this.#sink = sink;
    this.#pieceChars = pieceChars;
  }

  /** Adds text that ends with its own newline. */
  async add(text: string): Promise<void> {
    this.#parts.push(text);
    this.#chars += text.length;
    if (this.#chars >= this.#pieceChars) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const piece = this.#parts.join('');
    this.#parts = [];
    this.#chars = 0;
    const written = this.#writing.then(() => this.#sink.write(piece));
    this.#writing = written.catch(() => {});
    await written;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#writing;
    await this.#sink.close();
  }
}

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
      const nl = bytes.indexOf(10, end);
      end = nl < 0 ? bytes.length : nl + 1;
    }
    yield bytes.subarray(start, end);
    start = end;
  }
}
