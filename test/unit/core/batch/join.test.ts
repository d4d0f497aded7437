import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DocumentJoin } from '../../../../src/core/batch/join.ts';
import { type ChunkOutcome, type DocumentDecision, decideDocument } from '../../../../src/core/collect.ts';
import type { IndexEntry } from '../../../../src/core/outcomes.ts';
import type { Reason } from '../../../../src/errors.ts';

const validate = (r: Record<string, unknown>): Reason[] =>
  typeof r['total'] === 'number' ? [] : [{ code: 'schema.required', message: '/ missing total' }];

function entry(docId: string, chunk: number, chunks: number, recordId = `${docId}-${chunk}`): IndexEntry {
  return {
    recordId,
    docId,
    type: 'receipt',
    chunk,
    chunks,
    attempt: 1,
    job: 0,
    source: { key: `incoming/receipt/${docId}`, sha256: docId },
  };
}

const outcome: fc.Arbitrary<ChunkOutcome> = fc
  .record({
    record: fc.option(fc.record({ total: fc.oneof(fc.integer(), fc.string()), note: fc.string() }), {
      nil: undefined,
    }),
    reasons: fc.array(fc.record({ code: fc.constantFrom('MODEL_ERROR', 'NO_JSON'), message: fc.string() }), {
      maxLength: 1,
    }),
    warnings: fc.array(fc.string(), { maxLength: 1 }),
    jobId: fc.constantFrom('job-a', 'job-b'),
    tokens: fc.record({ input: fc.nat(100), output: fc.nat(100) }),
    output: fc.oneof(fc.constant(undefined), fc.constant(null), fc.record({ n: fc.nat() })),
  })
  .map(({ record, output, ...rest }) => ({
    ...rest,
    ...(record ? { record } : {}),
    ...(output !== undefined ? { output } : {}),
  }));

/** The whole-run-in-memory join Collect used to do: the reference the streaming join must equal. */
function reference(entries: IndexEntry[], lines: { recordId: string; outcome: ChunkOutcome }[]) {
  const byRecord = new Map<string, IndexEntry>();
  const docs = new Map<string, { entry: IndexEntry; chunks: Map<number, ChunkOutcome> }>();
  for (const e of entries) {
    byRecord.set(e.recordId, e);
    if (!docs.has(e.docId)) docs.set(e.docId, { entry: e, chunks: new Map() });
  }
  let accepted = 0;
  for (const line of lines) {
    const e = byRecord.get(line.recordId);
    const doc = e ? docs.get(e.docId) : undefined;
    if (!e || !doc || doc.chunks.has(e.chunk)) continue;
    accepted++;
    doc.chunks.set(e.chunk, line.outcome);
  }
  const decisions = new Map<string, DocumentDecision>();
  for (const [docId, { entry: e, chunks }] of docs)
    decisions.set(docId, decideDocument(chunks, e.chunks, validate, 'note'));
  return { accepted, decisions };
}

/**
 * The streaming join. `shared`: each record added with its document's first entry and its own
 * recordId and chunk, as Collect adds the twins `IndexLineReader` reads.
 */
function streamed(
  entries: IndexEntry[],
  lines: { recordId: string; outcome: ChunkOutcome }[],
  shared = false,
) {
  const join = new DocumentJoin();
  const first = new Map<string, IndexEntry>();
  for (const e of entries) {
    if (!first.has(e.docId)) first.set(e.docId, e);
    if (shared) join.addEntry(first.get(e.docId) as IndexEntry, e.recordId, e.chunk);
    else join.addEntry(e);
  }
  let accepted = 0;
  const decisions = new Map<string, DocumentDecision>();
  let early = 0;
  const decide = (d: { docId: string; entry: IndexEntry; chunks: Map<number, ChunkOutcome> }) => {
    expect(decisions.has(d.docId)).toBe(false);
    decisions.set(d.docId, decideDocument(d.chunks, d.entry.chunks, validate, 'note'));
  };
  for (const line of lines) {
    const e = join.accept(line.recordId);
    if (e < 0) continue;
    accepted++;
    const complete = join.add(e, line.outcome);
    if (complete) {
      early++;
      decide(complete);
    }
  }
  for (const d of join.remaining()) decide(d);
  return { accepted, decisions, early };
}

describe('Class: DocumentJoin', () => {
  it('decides every document exactly as the whole-run join would, whatever the line order and duplicates', () => {
    const scenario = fc
      .array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 })
      .chain((counts) => {
        const entries = counts.flatMap((n, d) => Array.from({ length: n }, (_, c) => entry(`d${d}`, c, n)));
        // A malformed index: a chunk number outside its document, and a recordId entered twice.
        const extras = fc.array(
          fc.oneof(
            fc.nat(counts.length - 1).map((d) => entry(`d${d}`, 7, counts[d] ?? 1, `d${d}-x`)),
            fc
              .tuple(fc.nat(counts.length - 1), fc.nat(counts.length - 1))
              .map(([a, b]) => entry(`d${b}`, 0, counts[b] ?? 1, `d${a}-0`)),
          ),
          { maxLength: 2 },
        );
        return fc.tuple(fc.constant(entries), extras).chain(([base, more]) => {
          const all = [...base, ...more];
          const ids = [...new Set(all.map((e) => e.recordId)), 'unknown'];
          return fc.tuple(
            fc.constant(all),
            fc.array(fc.record({ recordId: fc.constantFrom(...ids), outcome }), { maxLength: 14 }),
          );
        });
      });
    fc.assert(
      fc.property(scenario, ([entries, lines]) => {
        // The streaming join may drop model outputs it no longer needs: give each side its own copies.
        const want = reference(entries, structuredClone(lines));
        for (const shared of [false, true]) {
          const got = streamed(entries, structuredClone(lines), shared);
          expect(got.accepted).toBe(want.accepted);
          expect(got.decisions).toEqual(want.decisions);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('hands a document over as soon as its last chunk arrives and keeps only the last model output', () => {
    const join = new DocumentJoin();
    for (let c = 0; c < 3; c++) join.addEntry(entry('doc', c, 3));
    const out = (n: number): ChunkOutcome => ({
      record: { total: n },
      reasons: [],
      warnings: [],
      jobId: 'j',
      tokens: { input: 1, output: 1 },
      output: { n },
    });
    expect(join.add(join.accept('doc-2'), out(2))).toBeUndefined();
    expect(join.add(join.accept('doc-0'), out(0))).toBeUndefined();
    expect(join.accept('doc-0')).toBe(-1);
    const done = join.add(join.accept('doc-1'), out(1));
    expect(done?.docId).toBe('doc');
    expect([...(done?.chunks.values() ?? [])].map((o) => o.output)).toEqual([{ n: 2 }, undefined, undefined]);
    expect(join.accept('doc-1')).toBe(-1);
    expect([...join.remaining()]).toEqual([]);
  });
});
