import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IndexLineReader,
  indexLineKeys,
  LeadingRecordIds,
  leadingRecordId,
} from '../../../../src/core/batch/line-keys.ts';
import type { IndexEntry } from '../../../../src/core/outcomes.ts';

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

describe('Class: LeadingRecordIds', () => {
  it('answers for each line of a byte run exactly as leadingRecordId does for its text', () => {
    const line = fc
      .record({ recordId: id, modelInput: fc.jsonValue(), modelOutput: fc.jsonValue() })
      .chain((o) => tweak(JSON.stringify(o)));
    const text = fc.oneof(line, fc.string(), fc.constant(`{"recordId":"${A}","x":"\\u00e9 I \\\\ \\n"}`));
    const run = fc.array(fc.oneof({ weight: 4, arbitrary: line }, { weight: 1, arbitrary: text }));
    fc.assert(
      // One reader for two runs, the first read again after the second, as a decider's runs come.
      fc.property(run, run, (a, b) => {
        const reader = new LeadingRecordIds();
        const runs = [a, b].map((ls) => {
          const lines = ls.map((l) => l.replaceAll('\n', ' '));
          return { lines, bytes: new TextEncoder().encode(lines.join('\n')) };
        });
        for (const { lines, bytes } of [...runs, runs[0] as (typeof runs)[number]]) {
          let start = 0;
          for (const l of lines) {
            const end = start + new TextEncoder().encode(l).length;
            const at = reader.at(bytes, start, end);
            const fast = at < 0 ? undefined : new TextDecoder().decode(bytes.subarray(at, at + 11));
            expect(fast).toBe(leadingRecordId(l));
            start = end + 1;
          }
        }
      }),
      { numRuns: 1000 },
    );
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

/** A line's entry as an object of its own, from the shared one `next` hands over. */
function read(reader: IndexLineReader, line: string): IndexEntry {
  const bytes = new TextEncoder().encode(`\n${line}\n`);
  const entry = reader.next(bytes, 1, bytes.length - 1);
  const at = reader.recordIdAt;
  const recordId = at < 0 ? entry.recordId : new TextDecoder().decode(bytes.subarray(at, at + 11));
  return { ...entry, recordId, chunk: reader.chunk };
}

describe('Class: IndexLineReader', () => {
  const entryOf = (docId: string, type: string, chunk: number, recordId: string, key: string) => ({
    recordId,
    docId,
    type,
    chunk,
    chunks: 3,
    attempt: 1,
    job: 0,
    source: { key, sha256: 'ab'.repeat(32) },
  });
  /**
   * Lines as Assemble writes them (a document's in a row), each sometimes tweaked, and some
   * documents' lines all ending in a key that overrides the chunk or the recordId.
   */
  const lines = fc
    .array(
      fc.record({
        docId: fc.oneof(fc.stringMatching(/^[0-9a-f]{24}$/), fc.string({ maxLength: 6 })),
        type: fc.constantFrom('invoice', 'receipt', 'a"b', 'caf\u00e9'),
        key: fc.oneof(fc.constant('incoming/x.pdf'), fc.string({ maxLength: 6 })),
        // A repeated key (or one spelled with an escape) with the value of the document's first line.
        suffix: fc.constantFrom('', '', ',"chunk":0', ',"recordId":FIRST', ',"ch\\u0075nk":0'),
        chunks: fc.array(
          fc.tuple(id, fc.oneof(fc.constant(0), fc.nat(12), fc.integer({ min: -3, max: 2e9 }))),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
      }),
      { minLength: 1, maxLength: 6 },
    )
    .chain((docs) =>
      fc.tuple(
        ...docs.flatMap((d) =>
          d.chunks.map(([recordId, chunk]) => {
            const line = JSON.stringify(entryOf(d.docId, d.type, chunk, recordId, d.key)).replace(
              /}$/,
              `${d.suffix.replace('FIRST', JSON.stringify(d.chunks[0]?.[0]))}}`,
            );
            return fc.oneof(
              { weight: 4, arbitrary: fc.constant(line) },
              { weight: 1, arbitrary: tweak(line) },
              { weight: 1, arbitrary: fc.constant(line.replace(/"chunk":(\d+)/, '"chunk":0$1')) },
            );
          }),
        ),
      ),
    );

  it('reads every line as JSON.parse does, twins of the line before included', () => {
    fc.assert(
      fc.property(lines, (ls) => {
        const reader = new IndexLineReader();
        for (const l of ls) {
          let expected: unknown;
          try {
            expected = JSON.parse(l);
          } catch {
            expect(() => read(reader, l)).toThrow();
            continue;
          }
          expect(read(reader, l)).toStrictEqual(expected);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('builds a document’s later entries from its first, sharing its source', () => {
    const reader = new IndexLineReader();
    const first = read(reader, JSON.stringify(entryOf('d1', 'receipt', 0, A, 'k')));
    const second = read(reader, JSON.stringify(entryOf('d1', 'receipt', 1, B, 'k')));
    expect(second).toStrictEqual(entryOf('d1', 'receipt', 1, B, 'k'));
    expect(second.source).toBe(first.source);
    // Another document, or a line that differs elsewhere, is parsed in full.
    const other = read(reader, JSON.stringify(entryOf('d2', 'receipt', 0, A, 'k')));
    expect(other.source).not.toBe(first.source);
    const moved = read(reader, JSON.stringify({ ...entryOf('d2', 'receipt', 1, B, 'k'), attempt: 2 }));
    expect(moved.attempt).toBe(2);
  });
});
