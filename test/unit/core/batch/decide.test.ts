import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DeciderSettings,
  FILE_MARKER,
  type OutcomeWrite,
  PartitionDecider,
} from '../../../../src/core/batch/decide.ts';
import { familyByName } from '../../../../src/core/families/index.ts';
import type { IndexEntry, RejectedRecord, ResultRecord } from '../../../../src/core/outcomes.ts';
import type { Reason } from '../../../../src/errors.ts';

const schemas = {
  schema: () => ({ type: 'object', properties: { total: { type: 'number' } } }),
  validate: (_type: string, r: unknown): Reason[] =>
    typeof (r as { total?: unknown }).total === 'number'
      ? []
      : [{ code: 'schema.required', message: '/ missing property "total"' }],
};

function settings(maxAttempts: number): DeciderSettings {
  return {
    runId: 'run-1',
    modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0',
    maxAttempts,
    jobIds: ['job-a', 'job-b'],
    jobMessages: new Map([[1, 'batch job ended Expired']]),
  };
}

function index(docId: string, chunks: number, attempt = 1, job = 0): string {
  return Array.from({ length: chunks }, (_, chunk) =>
    JSON.stringify({
      recordId: `${docId}${chunk}`.padEnd(11, 'x'),
      docId,
      type: 'receipt',
      chunk,
      chunks,
      attempt,
      job,
      source: { key: `incoming/receipt/${docId}.pdf`, sha256: docId },
    } satisfies IndexEntry),
  ).join('\n');
}

function line(docId: string, chunk: number, total: unknown): string {
  return JSON.stringify({
    recordId: `${docId}${chunk}`.padEnd(11, 'x'),
    modelInput: {},
    modelOutput: {
      content: [{ type: 'tool_use', id: 't', name: 'record_receipt', input: { total } }],
      stop_reason: 'tool_use',
      usage: { input_tokens: 10, output_tokens: 2 },
    },
  });
}

/** A multi-byte suffix for every third document's source key, so pieces cut through UTF-8 text. */
const i18n = (docId: string) => (Number(docId.slice(1)) % 3 === 0 ? '-überweisung-€.pdf' : '.pdf');

describe('Class: PartitionDecider', () => {
  it('writes a result with the job of each chunk’s file, and counts records and tokens', () => {
    const decider = new PartitionDecider(settings(2), familyByName('anthropic'), schemas);
    decider.addIndex(`${index('doc1', 2)}\n`);
    const out: OutcomeWrite[] = [];
    decider.addOutput(
      `${FILE_MARKER}1\n${line('doc1', 1, 5)}\n${FILE_MARKER}0\n${line('doc1', 0, 5)}\n`,
      out,
    );
    decider.finish(out);

    expect(out).toHaveLength(1);
    const write = out[0] as OutcomeWrite & { kind: 'result' };
    expect(write).toMatchObject({
      kind: 'result',
      docId: 'doc1',
      key: 'results/receipt/doc1.json',
      sourceKey: 'incoming/receipt/doc1.pdf',
    });
    expect(write.body.endsWith('}\n')).toBe(true);
    const result = JSON.parse(write.body) as ResultRecord;
    expect(result.sources).toEqual(['incoming/receipt/doc1.pdf']);
    expect(result.record).toEqual({ total: 5 });
    expect(result.extraction).toMatchObject({ runId: 'run-1', jobIds: ['job-a', 'job-b'], chunks: 2 });
    expect([decider.records, decider.errorRecords, decider.tokens]).toEqual([2, 0, { input: 20, output: 4 }]);
  });

  it('decides the same from output in one buffer and in many runs of whole lines', () => {
    // 3,000 documents of 2 chunks, some with a non-ASCII source key, their lines far apart.
    const docs = Array.from({ length: 3000 }, (_, i) => `d${String(i).padStart(5, '0')}`);
    const indexText = `${docs.map((d) => index(d, 2).replace('.pdf', i18n(d))).join('\n')}\n`;
    const lines = [
      ...docs.map((d, i) => line(d, 1, i % 7 === 0 ? 'n/a' : i)),
      ...docs.map((d, i) => line(d, 0, i % 7 === 0 ? 'n/a' : i)),
    ];
    const encoder = new TextEncoder();
    const decide = (runs: string[]) => {
      const decider = new PartitionDecider(settings(2), familyByName('anthropic'), schemas);
      const out: OutcomeWrite[] = [];
      decider.addIndexBytes(encoder.encode(indexText));
      for (const run of runs) decider.addOutputBytes(encoder.encode(run), out);
      decider.finish(out);
      return { out, records: decider.records };
    };
    const whole = decide([`${FILE_MARKER}0\n${lines.join('\n')}\n`]);
    // Runs of 1 to 97 lines, each a buffer of its own, as lineRuns hands them over.
    const runs: string[] = [`${FILE_MARKER}0\n`];
    for (let at = 0, n = 1; at < lines.length; at += n, n = (n * 31) % 97 || 1)
      runs.push(`${lines.slice(at, at + n).join('\n')}\n`);
    const pieces = decide(runs);
    expect(pieces.out).toEqual(whole.out);
    expect(whole.out).toHaveLength(3000);
    expect([whole.records, pieces.records]).toEqual([6000, 6000]);
  });

  it('re-stages a failed document below the attempt limit, with its reasons as feedback', () => {
    const decider = new PartitionDecider(settings(2), familyByName('anthropic'), schemas);
    decider.addIndex(index('doc2', 1));
    const out: OutcomeWrite[] = [];
    decider.addOutput(`${FILE_MARKER}0\n${line('doc2', 0, 'n/a')}`, out);
    expect(out).toEqual([
      {
        kind: 'redrive',
        docId: 'doc2',
        attempt: 2,
        feedback: ['schema.required: / missing property "total"'],
      },
    ]);
  });

  it('rejects at the attempt limit, with the last output, and notes why a job left a chunk missing', () => {
    const decider = new PartitionDecider(settings(2), familyByName('anthropic'), schemas);
    decider.addIndex(`${index('doc3', 1, 2)}\n${index('doc4', 1, 2, 1)}`);
    const out: OutcomeWrite[] = [];
    decider.addOutput(`${FILE_MARKER}0\n${line('doc3', 0, 'n/a')}\n{"recordId":"doc3torn`, out);
    decider.finish(out);

    expect(out.map((w) => [w.kind, w.docId])).toEqual([
      ['rejected', 'doc3'],
      ['rejected', 'doc4'],
    ]);
    const [torn, missing] = out.map((w) => JSON.parse((w as { body: string }).body) as RejectedRecord);
    expect(torn).toMatchObject({ stage: 'validate', runId: 'run-1' });
    expect(torn?.lastOutput).toMatchObject({ stop_reason: 'tool_use' });
    expect(missing?.reasons).toEqual([
      { code: 'MISSING_OUTPUT', message: 'chunk 1/1 has no model output (batch job ended Expired)' },
    ]);
  });
});

describe('PartitionDecider: lines kept for their document', () => {
  const docs = ['da', 'db', 'dc', 'dd'];
  const counts = [1, 2, 3, 2];
  const indexText = `${docs.map((d, i) => index(d, counts[i] ?? 1, 1 + (i % 2), i % 2)).join('\n')}\n`;
  /** Every kind of output line a partition may hold: good, failing, torn, doubtful, foreign, errors. */
  const outputLine = fc.oneof(
    fc
      .tuple(fc.constantFrom(...docs), fc.nat(3), fc.oneof(fc.integer(), fc.constant('n/a')))
      .map(([d, c, total]) => line(d, c, total)),
    fc
      .tuple(fc.constantFrom(...docs), fc.nat(2), fc.nat(40))
      .map(([d, c, cut]) => line(d, c, 1).slice(0, cut)),
    // Its recordId is not certain without parsing it: a \u escape, a space, a second recordId key.
    fc
      .tuple(fc.constantFrom(...docs), fc.nat(2))
      .map(([d, c]) => line(d, c, 2).replace('"modelInput"', '"model\\u0049nput"')),
    fc
      .tuple(fc.constantFrom(...docs), fc.nat(2))
      .map(([d, c]) => line(d, c, 3).replace('{"recordId":', '{ "recordId":')),
    fc
      .tuple(fc.constantFrom(...docs), fc.constantFrom(...docs), fc.nat(2))
      .map(([d, e, c]) => line(d, c, 4).replace(/}$/, `,"recordId":"${`${e}${c}`.padEnd(11, 'x')}"}`)),
    fc.tuple(fc.constantFrom(...docs), fc.nat(2)).map(([d, c]) =>
      JSON.stringify({
        recordId: `${d}${c}`.padEnd(11, 'x'),
        modelInput: {},
        error: { errorCode: 429, errorMessage: 'Throttled' },
      }),
    ),
    fc.constant(line('zz', 0, 1)),
    fc.constantFrom(`${FILE_MARKER}0`, `${FILE_MARKER}1`),
  );
  const scenario = fc.tuple(fc.array(outputLine, { maxLength: 24 }), fc.array(fc.nat(), { maxLength: 4 }));

  /** The decider's writes and tallies, the output fed as bytes cut at whole lines where `cuts` say. */
  function run(lines: string[], cuts: number[], deferBytes?: number) {
    const decider = new PartitionDecider(
      settings(2),
      familyByName('anthropic'),
      schemas,
      deferBytes === undefined ? {} : { deferBytes },
    );
    decider.addIndex(indexText);
    const out: OutcomeWrite[] = [];
    const at = [...new Set(cuts.map((c) => c % (lines.length + 1)))].sort((a, b) => a - b);
    let from = 0;
    for (const to of [...at, lines.length]) {
      const part = lines.slice(from, to);
      from = to;
      if (part.length > 0) decider.addOutputBytes(new TextEncoder().encode(`${part.join('\n')}\n`), out);
    }
    decider.finish(out);
    const { records, errorRecords, tokens } = decider;
    const byDoc = [...out].sort((a, b) => (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : 0));
    return { writes: byDoc, tally: { records, errorRecords, tokens } };
  }

  it('decides as a decider that parses every line as it comes, whatever the lines and their cuts', () => {
    fc.assert(
      fc.property(scenario, ([lines, cuts]) => {
        const eager = run(lines, cuts, 0);
        expect(run(lines, cuts)).toEqual(eager);
        // A budget smaller than the lines: kept lines are worked through part-way.
        expect(run(lines, cuts, 200)).toEqual(eager);
      }),
      { numRuns: 3000 },
    );
  });
});
