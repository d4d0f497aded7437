/**
 * Bounded concurrency for the batch tasks' per-document storage calls (claims, document records,
 * outcomes). Each call is a round trip (an S3 request, a file creation offline) that does little
 * work: run a few at once, but never an unbounded number, so memory stays independent of the run.
 */

/**
 * Maps `source` through `fn` with at most `concurrency` calls in flight and yields the results in
 * source order. The source is read only as far as the window needs: a consumer that stops early
 * leaves the rest unread.
 */
export async function* mapOrdered<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const window: Promise<R>[] = [];
  const width = Math.max(1, Math.floor(concurrency));
  for await (const item of source) {
    const p = fn(item);
    // Awaited in order below; until then a rejection must not count as unhandled.
    p.catch(() => {});
    window.push(p);
    if (window.length >= width) yield await (window.shift() as Promise<R>);
  }
  while (window.length > 0) yield await (window.shift() as Promise<R>);
}

/**
 * Runs tasks with at most `limit` in flight. `run` resolves once the task has *started* (waiting
 * for a free slot first), so a producer that awaits it is held back instead of queueing the whole
 * run; `drain` waits for the rest. The first failure is rethrown by the next `run` or by `drain`.
 */
export class BoundedRunner {
  readonly #limit: number;
  readonly #inFlight = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  async run(task: () => Promise<void>): Promise<void> {
    while (this.#inFlight.size >= this.#limit) await Promise.race(this.#inFlight);
    this.#throwIfFailed();
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}

/**
 * Yields `source`'s items in order while reading up to `ahead` items beyond the one being worked
 * on, so the reads (a file's next piece, an S3 body's next bytes) overlap the work instead of
 * leaving the thread idle while they complete.
 */
export async function* readingAhead<T>(source: AsyncIterable<T>, ahead: number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  // Requests to an async generator queue up and are answered in order; past its end, each is done.
  const queue: Promise<IteratorResult<T>>[] = [];
  try {
    for (;;) {
      while (queue.length <= ahead) {
        const next = it.next();
        // Awaited in order below; until then a rejection must not count as unhandled.
        next.catch(() => {});
        queue.push(next);
      }
      const r = await (queue.shift() as Promise<IteratorResult<T>>);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}
