/**
 * Output lines a partition keeps unparsed for their documents: where each is (a byte run, an
 * offset range) and which output file it came from, in typed arrays rather than an object per line,
 * so that keeping a line costs the young generation nothing to copy. A document's lines form a list
 * in the order they came.
 */
export class KeptLines {
  #run = new Int32Array(4096);
  #start = new Int32Array(4096);
  #end = new Int32Array(4096);
  #file = new Int32Array(4096);
  #next = new Int32Array(4096);
  #count = 0;
  /** Per document: its first and last kept line, −1 for none. */
  #head = new Int32Array(1024).fill(-1);
  #tail = new Int32Array(1024).fill(-1);

  /** Keeps a line for a document, after the ones it already has. */
  add(doc: number, run: number, start: number, end: number, file: number): void {
    if (this.#count === this.#run.length) this.#growLines();
    if (doc >= this.#head.length) this.#growDocuments(doc);
    const at = this.#count++;
    this.#run[at] = run;
    this.#start[at] = start;
    this.#end[at] = end;
    this.#file[at] = file;
    this.#next[at] = -1;
    const tail = this.#tail[doc] as number;
    if (tail < 0) this.#head[doc] = at;
    else this.#next[tail] = at;
    this.#tail[doc] = at;
  }

  has(doc: number): boolean {
    return doc < this.#head.length && (this.#head[doc] as number) >= 0;
  }

  /** A document's first kept line (follow `next`), −1 for none; the document then has none. */
  take(doc: number): number {
    if (!this.has(doc)) return -1;
    const head = this.#head[doc] as number;
    this.#head[doc] = -1;
    this.#tail[doc] = -1;
    return head;
  }

  next(at: number): number {
    return this.#next[at] as number;
  }

  run(at: number): number {
    return this.#run[at] as number;
  }

  start(at: number): number {
    return this.#start[at] as number;
  }

  end(at: number): number {
    return this.#end[at] as number;
  }

  file(at: number): number {
    return this.#file[at] as number;
  }

  /** The documents with lines kept. */
  *documents(): Generator<number> {
    for (let doc = 0; doc < this.#head.length; doc++) if ((this.#head[doc] as number) >= 0) yield doc;
  }

  /** Forgets every line; only once every document's lines were taken. */
  clear(): void {
    this.#count = 0;
  }

  #growLines(): void {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.#run = grow(this.#run);
    this.#start = grow(this.#start);
    this.#end = grow(this.#end);
    this.#file = grow(this.#file);
    this.#next = grow(this.#next);
  }

  #growDocuments(doc: number): void {
    const size = Math.max(doc + 1, this.#head.length * 2);
    const grow = (a: Int32Array) => {
      const b = new Int32Array(size).fill(-1);
      b.set(a);
      return b;
    };
    this.#head = grow(this.#head);
    this.#tail = grow(this.#tail);
  }
}
