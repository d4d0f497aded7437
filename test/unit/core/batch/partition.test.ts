import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_PARTITIONS,
  PartitionSpill,
  partitionCount,
  partitionOf,
  RECORDS_PER_PARTITION,
  SEGMENT_CHARS,
  SPILL_MAX_CHARS,
  spillBudget,
} from '../../../../src/core/batch/partition.ts';
import { docIdFromSha256, sha256Hex } from '../../../../src/core/ids.ts';

describe('Function: partitionCount', () => {
  it('gives one partition per RECORDS_PER_PARTITION records, at least 1 and at most MAX_PARTITIONS', () => {
    expect(partitionCount(0)).toBe(1);
    expect(partitionCount(RECORDS_PER_PARTITION)).toBe(1);
    expect(partitionCount(RECORDS_PER_PARTITION + 1)).toBe(2);
    expect(partitionCount(1_000_000)).toBe(Math.ceil(1_000_000 / RECORDS_PER_PARTITION));
    expect(partitionCount(10 ** 12)).toBe(MAX_PARTITIONS);
  });
});

describe('Function: spillBudget', () => {
  it('buffers about one segment per partition, never more than SPILL_MAX_CHARS in all', () => {
    expect(spillBudget(1)).toBe(SEGMENT_CHARS);
    expect(spillBudget(4)).toBe(4 * SEGMENT_CHARS);
    expect(spillBudget(MAX_PARTITIONS)).toBe(SPILL_MAX_CHARS);
    expect(spillBudget(0)).toBe(SEGMENT_CHARS);
  });
});

describe('Function: partitionOf', () => {
  it('is stable, in range, and spreads real docIds evenly', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) {
      const docId = docIdFromSha256(sha256Hex(`doc ${i}`));
      const p = partitionOf(docId, 16);
      expect(partitionOf(docId, 16)).toBe(p);
      counts[p] = (counts[p] ?? 0) + 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(800);
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 300 }), (id, n) => {
        const p = partitionOf(id, n);
        expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true);
      }),
    );
  });
});

describe('Class: PartitionSpill', () => {
  it('writes each partition’s lines, in arrival order, across numbered segments within the budget', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: 4 }), fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' })), {
          maxLength: 200,
        }),
        fc.integer({ min: 1, max: 200 }),
        async (adds, budget) => {
          const segments = new Map<string, string>();
          const spill = new PartitionSpill(
            5,
            async (p, s, body) => {
              expect(segments.has(`${p}/${s}`)).toBe(false);
              segments.set(`${p}/${s}`, new TextDecoder().decode(body));
            },
            budget,
          );
          for (const [p, line] of adds) {
            await spill.add(p, line);
          }
          await spill.flush();
          expect(spill.lines).toBe(adds.length);
          for (let p = 0; p < 5; p++) {
            let text = '';
            for (let s = 0; s < spill.segments(p); s++) {
              const body = segments.get(`${p}/${s}`);
              expect(body).toBeDefined();
              text += body;
            }
            const want = adds.filter(([q]) => q === p).map(([, l]) => `${l}\n`);
            expect(text).toBe(want.join(''));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps lines in order through the pieces long lines are joined into, multi-byte text included', async () => {
    const segments = new Map<number, string[]>();
    const spill = new PartitionSpill(
      3,
      async (p, _s, body) => {
        segments.set(p, [...(segments.get(p) ?? []), new TextDecoder().decode(body)]);
      },
      200_000,
    );
    const want = new Map<number, string[]>();
    for (let i = 0; i < 300; i++) {
      const p = (i * 7) % 3;
      const line = `${i}:${'ü€'.repeat(1000 + (i % 13) * 300)}`;
      want.set(p, [...(want.get(p) ?? []), line]);
      const flush = spill.add(p, line);
      if (flush) await flush;
    }
    await spill.flush();
    for (const [p, lines] of want) {
      expect(spill.segments(p)).toBeGreaterThan(1);
      expect((segments.get(p) ?? []).join('')).toBe(`${lines.join('\n')}\n`);
    }
  });

  it('refuses a partition out of range', () => {
    const spill = new PartitionSpill(2, async () => {});
    expect(() => spill.add(2, 'x')).toThrow(RangeError);
  });

  it('returns a flush to wait for only when the line filled the budget', async () => {
    const written: string[] = [];
    const spill = new PartitionSpill(
      2,
      async (_p, _s, body) => void written.push(new TextDecoder().decode(body)),
      6,
    );
    expect(spill.add(0, 'ab')).toBeUndefined();
    const flush = spill.add(1, 'cd');
    expect(flush).toBeInstanceOf(Promise);
    await flush;
    expect(written).toEqual(['ab\n', 'cd\n']);
  });
});
