import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { indexLineKeys, leadingRecordId } from '../../../../src/core/batch/line-keys.ts';

const alnum = fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.split(''));
const id = fc.array(alnum, { minLength: 11, maxLength: 11 }).map((cs) => cs.join(''));
const A = 'AAAAAAAAAAA';
const B = 'BBBBBBBBBBB';

/** JSON text of a value, sometimes with a key spelled through a \u escape or a key repeated. */
const tweak = (json: string) =>
  fc.constantFrom(
    json,
    json.replace('"docId"', '"doc\\u0049d"'),
    json.replace(/}$/, `,"recordId":"${B}"}`),
    json.replace(/}$/, `,"record\\u0049d":"${B}"}`),
    json.replace(/}$/, `,"docId":"other"}`),
    json.replace(/^\{"recordId":/, '{ "recordId" : '),
    json.slice(0, Math.max(1, json.length - 5)),
  );

/** What JSON.parse makes of a field of the line, or undefined when the line does not parse. */
function parsed(line: string, field: string): unknown {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    return v[field];
  } catch {
    return undefined;
  }
}

describe('Function: leadingRecordId', () => {
  it('answers only when JSON.parse would give the same recordId (or the line is torn)', () => {
    const line = fc
      .record({ recordId: id, modelInput: fc.jsonValue(), modelOutput: fc.jsonValue() })
      .chain((o) => tweak(JSON.stringify(o)));
    fc.assert(
      fc.property(fc.oneof(line, fc.string()), (l) => {
        const fast = leadingRecordId(l);
        if (fast === undefined) return;
        const full = parsed(l, 'recordId');
        // A torn line is routed, then dropped by the join when it does not parse.
        if (full !== undefined) expect(full).toBe(fast);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads the common line and steps aside for every doubtful one', () => {
    expect(leadingRecordId(`{"recordId":"${A}","modelInput":{},"modelOutput":{"text":"a\\nb"}}`)).toBe(A);
    expect(leadingRecordId(`{"recordId":"${A}","x":1,"recordId":"${B}"}`)).toBeUndefined();
    expect(leadingRecordId(`{"recordId":"${A}","record\\u0049d":"${B}"}`)).toBeUndefined();
    expect(leadingRecordId(`{"recordId":"${A}","x":{"recordId":"${B}"}}`)).toBeUndefined();
    expect(leadingRecordId(`{"recordId": "${A}"}`)).toBeUndefined();
    expect(leadingRecordId(`{"recordId":"AAAAAAAAAA-","x":1}`)).toBeUndefined();
    expect(leadingRecordId(`{"recordId":"${A}A"}`)).toBeUndefined();
    expect(leadingRecordId(`{"modelInput":{},"recordId":"${A}"}`)).toBeUndefined();
  });
});

describe('Function: indexLineKeys', () => {
  it('answers only with what JSON.parse would read', () => {
    const entry = fc
      .record({
        recordId: id,
        docId: fc.oneof(fc.stringMatching(/^[0-9a-f]{24}$/), fc.string()),
        type: fc.string(),
        chunk: fc.nat(),
        chunks: fc.nat(),
        attempt: fc.nat(),
        job: fc.nat(),
        source: fc.record({ key: fc.string(), sha256: fc.string() }),
      })
      .chain((e) => tweak(JSON.stringify(e)));
    fc.assert(
      fc.property(entry, (l) => {
        const fast = indexLineKeys(l);
        if (fast === undefined) return;
        const recordId = parsed(l, 'recordId');
        if (recordId === undefined) return; // torn: JSON.parse fails later and Collect with it
        expect(fast).toEqual({ recordId, docId: parsed(l, 'docId') });
      }),
      { numRuns: 3000 },
    );
  });

  it('reads Assemble’s own lines', () => {
    const line = JSON.stringify({
      recordId: A,
      docId: 'ba7816bf8f01cfea414140de',
      type: 'receipt',
      chunk: 0,
    });
    expect(indexLineKeys(line)).toEqual({ recordId: A, docId: 'ba7816bf8f01cfea414140de' });
    expect(indexLineKeys(JSON.stringify({ recordId: A, docId: 'a"b' }))).toBeUndefined();
    expect(indexLineKeys(JSON.stringify({ docId: 'x', recordId: A }))).toBeUndefined();
  });
});
