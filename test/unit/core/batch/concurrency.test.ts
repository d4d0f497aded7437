import { describe, expect, it } from 'vitest';
import { BoundedRunner, mapOrdered, readingAhead } from '../../../../src/core/batch/concurrency.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Function: mapOrdered', () => {
  it('yields results in source order however the calls finish, with at most `concurrency` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out: number[] = [];
    for await (const v of mapOrdered([5, 1, 4, 2, 3, 0], 3, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick(n * 2);
      inFlight--;
      return n * 10;
    }))
      out.push(v);
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(3);
  });

  it('reads an async source only as far as its window', async () => {
    let read = 0;
    async function* source() {
      for (let i = 0; i < 100; i++) {
        read++;
        yield i;
      }
    }
    for await (const v of mapOrdered(source(), 4, async (n) => n)) if (v === 1) break;
    expect(read).toBeLessThanOrEqual(6);
  });

  it('rethrows a failed call at its place in the order, and no rejection goes unhandled', async () => {
    const seen: number[] = [];
    const run = async () => {
      for await (const v of mapOrdered([1, 2, 3, 4], 4, async (n) => {
        if (n === 3) throw new Error('three');
        if (n === 4) throw new Error('four');
        return n;
      }))
        seen.push(v);
    };
    await expect(run()).rejects.toThrow('three');
    expect(seen).toEqual([1, 2]);
  });
});

describe('Class: BoundedRunner', () => {
  it('holds the producer back while `limit` tasks run, and drain waits for the rest', async () => {
    const runner = new BoundedRunner(2);
    let inFlight = 0;
    let most = 0;
    let done = 0;
    for (let i = 0; i < 10; i++) {
      await runner.run(async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await tick(1 + (i % 3));
        inFlight--;
        done++;
      });
      expect(inFlight).toBeLessThanOrEqual(2);
    }
    await runner.drain();
    expect(done).toBe(10);
    expect(most).toBe(2);
  });

  it('rethrows the first failure from the next run or from drain', async () => {
    const runner = new BoundedRunner(1);
    await runner.run(async () => {
      throw new Error('first');
    });
    await expect(runner.run(async () => {})).rejects.toThrow('first');
    await expect(runner.drain()).rejects.toThrow('first');
  });
});

describe('Function: readingAhead', () => {
  /** A source that counts how far it has been read and whether it was closed. */
  function counted(n: number, failAt = -1) {
    const state = { produced: 0, closed: false };
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; i < n; i++) {
          await new Promise((resolve) => setImmediate(resolve));
          if (i === failAt) throw new Error(`item ${i} unreadable`);
          state.produced++;
          yield i;
        }
      } finally {
        state.closed = true;
      }
    }
    return { state, source: source() };
  }

  it('yields every item in order, reading at most `ahead` items beyond the one being worked on', async () => {
    const { state, source } = counted(20);
    const got: number[] = [];
    for await (const item of readingAhead(source, 2)) {
      // Give the reads ahead every chance to run further than they may.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(state.produced - (item + 1)).toBeLessThanOrEqual(2);
      got.push(item);
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('has the next item read while one is worked on', async () => {
    const { state, source } = counted(5);
    for await (const item of readingAhead(source, 1)) {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      if (item < 4) expect(state.produced).toBe(item + 2);
    }
  });

  it('rethrows a read failure in its place, after the items before it', async () => {
    const { source } = counted(10, 3);
    const got: number[] = [];
    await expect(async () => {
      for await (const item of readingAhead(source, 2)) got.push(item);
    }).rejects.toThrow('item 3 unreadable');
    expect(got).toEqual([0, 1, 2]);
  });

  it('closes the source when the consumer stops early', async () => {
    const { state, source } = counted(100);
    for await (const item of readingAhead(source, 3)) if (item === 4) break;
    expect(state.closed).toBe(true);
    expect(state.produced).toBeLessThanOrEqual(9);
  });
});
