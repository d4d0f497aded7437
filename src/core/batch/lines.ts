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
