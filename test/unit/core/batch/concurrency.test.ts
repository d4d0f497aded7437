import { describe, expect, it } from 'vitest';
import { BoundedRunner, mapOrdered } from '../../../../src/core/batch/concurrency.ts';

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
