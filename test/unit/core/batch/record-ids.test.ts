import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordIds } from '../../../../src/core/batch/record-ids.ts';

const alnum = fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.split(''));
const canonical = fc.array(alnum, { minLength: 11, maxLength: 11 }).map((cs) => cs.join(''));
/** Few distinct ids, so that sets repeat them, and some that are not eleven letters or digits. */
const recordId = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('AAAAAAAAAAA', 'AAAAAAAAAAB', 'zzzzzzzzzzz', '01234567890') },
  { weight: 3, arbitrary: canonical },
  { weight: 1, arbitrary: fc.constantFrom('AAAAAAAAAA-', 'AAAAAAAAAAÄ', '', 'AAAAAAAAAAAA', 'AAAA') },
  { weight: 1, arbitrary: fc.string() },
);

describe('Class: RecordIds', () => {
  it('answers as a Map does, from strings and from bytes, through its growth', () => {
    const op = fc.record({ id: recordId, set: fc.boolean(), bytes: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 64 }), (ops, capacity) => {
        const ids = new RecordIds(capacity);
        const model = new Map<string, number>();
        const encoder = new TextEncoder();
        ops.forEach(({ id, set, bytes }, ordinal) => {
          const canonicalId = /^[A-Za-z0-9]{11}$/.test(id);
          // Bytes at an offset inside a larger buffer, as the recordId of a line.
          const line = encoder.encode(`{"recordId":"${id}"}`);
          if (set) {
            if (bytes && canonicalId) ids.setBytes(line, 13, ordinal);
            else ids.set(id, ordinal);
            model.set(id, ordinal);
          }
          const expected = model.get(id) ?? -1;
          expect(ids.get(id)).toBe(expected);
          if (canonicalId) expect(ids.getBytes(line, 13)).toBe(expected);
        });
        for (const [id, ordinal] of model) expect(ids.get(id)).toBe(ordinal);
      }),
      { numRuns: 500 },
    );
  });

  it('holds a partition of random recordIds', () => {
    const ids = new RecordIds(4);
    const all = Array.from({ length: 20_000 }, (_, i) => `r${i.toString(36).padStart(10, '0')}`);
    all.forEach((id, i) => {
      ids.set(id, i);
    });
    all.forEach((id, i) => {
      expect(ids.get(id)).toBe(i);
    });
    expect(ids.get('r0000000000')).toBe(0);
    expect(ids.get('rzzzzzzzzzz')).toBe(-1);
  });
});
