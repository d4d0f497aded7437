import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprint, MAX_ROUTES, RecordRouter } from '../../../../src/core/batch/record-router.ts';
import { recordId } from '../../../../src/core/ids.ts';

const partition = fc.nat({ max: MAX_ROUTES - 1 });

describe('Class: RecordRouter', () => {
  it('routes every id that was set to the partition it was last set to, growing past its expected size', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), partition), { maxLength: 400 }), (pairs) => {
        const router = new RecordRouter(4);
        const want = new Map<string, number>();
        for (const [id, p] of pairs) {
          router.set(id, p);
          want.set(id, p);
        }
        for (const [id, p] of want) expect(router.route(id)).toBe(p);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps ids apart whose fingerprints collide, whatever order they are set in', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const id = recordId('collide', i);
      const other = seen.get(fingerprint(id));
      if (other) pair = [other, id];
      else seen.set(fingerprint(id), id);
    }
    const [a, b] = pair;
    expect(a).not.toBe(b);
    for (const [first, second] of [pair, [b, a]] as const) {
      const router = new RecordRouter(8);
      router.set(first, 1);
      router.set(second, 2);
      expect([router.route(first), router.route(second)]).toEqual([1, 2]);
      router.set(first, 3);
      router.set(second, 1);
      expect([router.route(first), router.route(second)]).toEqual([3, 1]);
    }
  });

  it('routes 300,000 real recordIds exactly and refuses out-of-range partitions', () => {
    const router = new RecordRouter(300_000);
    const ids: string[] = [];
    for (let i = 0; i < 300_000; i++) ids.push(recordId('run', `doc${i >> 3}`, i & 7, 1));
    for (const [i, id] of ids.entries()) router.set(id, i % 250);
    expect(ids.every((id, i) => router.route(id) === i % 250)).toBe(true);
    // An id never set is mostly unknown; when routed it is a harmless false positive.
    let unknown = 0;
    for (let i = 0; i < 1000; i++) if (router.route(recordId('other', i)) === undefined) unknown++;
    expect(unknown).toBeGreaterThan(990);
    expect(() => router.set('x', MAX_ROUTES)).toThrow(RangeError);
    expect(() => router.set('x', -1)).toThrow(RangeError);
  });
});
