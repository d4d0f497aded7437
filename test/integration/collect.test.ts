/**
 * Collect's outcome writes and Release's bookkeeping after them, for documents uploaded under more
 * than one key: Collect writes the outcome with the index's key, and Release gives it the
 * document's other keys from the record it then updates, including a key registered while the
 * outcome was being written, and one an earlier Collect's outcome does not list yet.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config.ts';
import { keys } from '../../src/core/keys.ts';
import type { DocumentRecord, IndexEntry, ResultRecord, StagedChunk } from '../../src/core/outcomes.ts';
import type { ObjectStore } from '../../src/ports.ts';
import { assemble, collect, type JobResult, release } from '../../src/tasks/batch.ts';
import type { TaskContext } from '../../src/tasks/context.ts';
import { makeEnv, type TestEnv } from './helpers.ts';

const RUN = 'collect-run';
const REGISTERED = '2025-06-01T00:00:00.000Z';

let t: TestEnv | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

/** A receipt of `chunks` chunks per entry, registered under the keys given (the first is its source). */
async function stage(ctx: TaskContext, docs: { docId: string; keys: string[] }[], chunks = 1): Promise<void> {
  for (const { docId, keys: sources } of docs) {
    const source = { key: sources[0] ?? '', sha256: `${docId}${'0'.repeat(40)}` };
    const lines = Array.from({ length: chunks }, (_, chunk) => {
      const staged: StagedChunk = {
        docId,
        type: 'receipt',
        source,
        chunk,
        chunks,
        pageStart: chunk + 1,
        pageEnd: chunk + 1,
        tokens: 100,
        text: 'CORNER CAFE TOTAL 24.84 EUR',
      };
      return JSON.stringify(staged);
    });
    await ctx.store.put(keys.staged(docId), `${lines.join('\n')}\n`);
    const doc: DocumentRecord = {
      docId,
      type: 'receipt',
      source,
      sources,
      size: 1000,
      status: 'staged',
      registeredAt: REGISTERED,
      updatedAt: REGISTERED,
    };
    await ctx.store.put(keys.document(docId), JSON.stringify(doc));
  }
}

/** A valid answer for every record of the run's plan. */
async function answer(ctx: TaskContext): Promise<JobResult[]> {
  const plan = await assemble({ runId: RUN }, ctx);
  const results: JobResult[] = [];
  for (const job of plan.jobs) {
    const lines: string[] = [];
    for await (const line of ctx.store.lines(keys.jobIndex(RUN, 1, job.job))) {
      const entry = JSON.parse(line) as IndexEntry;
      const input = { merchant_name: 'Corner Cafe', date: '2025-03-14', total: 24.84, currency: 'EUR' };
      lines.push(
        JSON.stringify({
          recordId: entry.recordId,
          modelInput: {},
          modelOutput: {
            content: [{ type: 'tool_use', id: 't', name: 'record_receipt', input }],
            stop_reason: 'tool_use',
            usage: { input_tokens: 100, output_tokens: 20 },
          },
        }),
      );
    }
    const jobId = `job${job.job}`;
    await ctx.store.put(`${keys.outputPrefix(RUN, 1)}${jobId}/part-0.jsonl.out`, `${lines.join('\n')}\n`);
    results.push({ job: job.job, mode: 'batch', status: 'Completed', jobId });
  }
  return results;
}

const readResult = async (ctx: TaskContext, docId: string) =>
  JSON.parse(await ctx.store.getText(keys.result('receipt', docId))) as ResultRecord;
const readDocument = async (ctx: TaskContext, docId: string) =>
  JSON.parse(await ctx.store.getText(keys.document(docId))) as DocumentRecord;

describe('Function: collect, documents across jobs', () => {
  it('credits each chunk to the job whose output file it came from, on many partitions', async () => {
    // Documents of 4 records cannot fit in jobs of 3: each one is split across two jobs.
    t = await makeEnv({ config: { quotas: { ...defaultConfig().quotas, maxRecordsPerJob: 3 } } });
    const ctx = t.env.ctx;
    const docIds = ['e', 'f', 'g'].map((c) => c.repeat(24));
    await stage(
      ctx,
      docIds.map((docId) => ({ docId, keys: [`incoming/receipt/${docId}.pdf`] })),
      4,
    );
    const jobResults = await answer(ctx);
    expect(jobResults).toHaveLength(4);
    const summary = await collect(
      { runId: RUN, attempt: 1, jobResults, scratch: { recordsPerPartition: 1, spillChars: 50 } },
      ctx,
    );

    expect(summary).toMatchObject({ results: 3, records: 12 });
    // Index order: e0 e1 e2 | e3 f0 f1 | f2 f3 g0 | g1 g2 g3.
    expect((await readResult(ctx, docIds[0] ?? '')).extraction.jobIds).toEqual(['job0', 'job1']);
    expect((await readResult(ctx, docIds[1] ?? '')).extraction.jobIds).toEqual(['job1', 'job2']);
    expect((await readResult(ctx, docIds[2] ?? '')).extraction.jobIds).toEqual(['job2', 'job3']);
  });
});

describe('Function: collect, documents under several keys', () => {
  it('gives each result every key of its document, in the document’s order', async () => {
    t = await makeEnv();
    const ctx = t.env.ctx;
    const one = 'a'.repeat(24);
    const two = 'b'.repeat(24);
    await stage(ctx, [
      { docId: one, keys: ['incoming/receipt/one.pdf'] },
      { docId: two, keys: ['incoming/receipt/two.pdf', 'incoming/receipt/two-copy.pdf'] },
    ]);
    const summary = await collect({ runId: RUN, attempt: 1, jobResults: await answer(ctx) }, ctx);
    expect(summary).toMatchObject({ results: 2, rejected: 0, redrive: 0 });
    // Collect leaves the bookkeeping to Release: the documents are still staged and claimed.
    expect((await readResult(ctx, two)).sources).toEqual(['incoming/receipt/two.pdf']);
    for (const docId of [one, two]) {
      expect(await readDocument(ctx, docId)).toMatchObject({ status: 'staged' });
      expect(await ctx.store.head(keys.staged(docId))).toBeDefined();
      expect(await ctx.store.head(keys.claim(docId))).toBeDefined();
    }

    expect(await release({ runId: RUN, attempt: 1 }, ctx)).toMatchObject({ released: 2, sourcesAdded: 1 });
    expect((await readResult(ctx, one)).sources).toEqual(['incoming/receipt/one.pdf']);
    expect((await readResult(ctx, two)).sources).toEqual([
      'incoming/receipt/two.pdf',
      'incoming/receipt/two-copy.pdf',
    ]);
    for (const docId of [one, two]) {
      expect(await readDocument(ctx, docId)).toMatchObject({ status: 'result', runId: RUN });
      expect(await ctx.store.head(keys.staged(docId))).toBeUndefined();
      expect(await ctx.store.head(keys.claim(docId))).toBeUndefined();
    }
  });

  it('adds a key registered while the result was being written', async () => {
    t = await makeEnv();
    const base = t.env.ctx;
    const docId = 'c'.repeat(24);
    await stage(base, [{ docId, keys: ['incoming/receipt/three.pdf'] }]);
    const jobResults = await answer(base);
    // Register adds a key to the record just after the result is published.
    const store: ObjectStore = {
      bucket: base.store.bucket,
      get: (key) => base.store.get(key),
      getText: (key) => base.store.getText(key),
      lines: (key) => base.store.lines(key),
      head: (key) => base.store.head(key),
      openWriter: (key) => base.store.openWriter(key),
      list: (prefix) => base.store.list(prefix),
      delete: (key) => base.store.delete(key),
      deleteMany: (keys) => base.store.deleteMany(keys),
      chunks: (key) => base.store.chunks(key),
      async put(key, body, options) {
        await base.store.put(key, body, options);
        if (key === keys.result('receipt', docId) && options?.ifNoneMatch) {
          const doc = await readDocument(base, docId);
          doc.sources.push('incoming/receipt/three-late.pdf');
          await base.store.put(keys.document(docId), JSON.stringify(doc));
        }
      },
    };
    await collect({ runId: RUN, attempt: 1, jobResults }, { ...base, store });
    await release({ runId: RUN, attempt: 1 }, base);

    expect((await readResult(base, docId)).sources).toEqual([
      'incoming/receipt/three.pdf',
      'incoming/receipt/three-late.pdf',
    ]);
    expect((await readDocument(base, docId)).sources).toEqual([
      'incoming/receipt/three.pdf',
      'incoming/receipt/three-late.pdf',
    ]);
  });

  it('leaves a result an earlier Collect wrote, adding only the keys it lacks', async () => {
    t = await makeEnv();
    const ctx = t.env.ctx;
    const docId = 'd'.repeat(24);
    await stage(ctx, [{ docId, keys: ['incoming/receipt/four.pdf', 'incoming/receipt/four-copy.pdf'] }]);
    const jobResults = await answer(ctx);
    const earlier = { docId, sources: ['incoming/receipt/four.pdf'], note: 'written by an earlier Collect' };
    await ctx.store.put(keys.result('receipt', docId), JSON.stringify(earlier));
    await collect({ runId: RUN, attempt: 1, jobResults }, ctx);
    await release({ runId: RUN, attempt: 1 }, ctx);

    expect(await readResult(ctx, docId)).toEqual({
      ...earlier,
      sources: ['incoming/receipt/four.pdf', 'incoming/receipt/four-copy.pdf'],
    });
    expect(await readDocument(ctx, docId)).toMatchObject({ status: 'result', runId: RUN });
  });

  it('releases again without harm: a retried Release changes nothing and deletes keys already gone', async () => {
    t = await makeEnv();
    const ctx = t.env.ctx;
    const docId = 'h'.repeat(24);
    await stage(ctx, [{ docId, keys: ['incoming/receipt/five.pdf', 'incoming/receipt/five-copy.pdf'] }]);
    await collect({ runId: RUN, attempt: 1, jobResults: await answer(ctx) }, ctx);
    await release({ runId: RUN, attempt: 1 }, ctx);
    const record = await ctx.store.getText(keys.document(docId));
    const result = await ctx.store.getText(keys.result('receipt', docId));

    expect(await release({ runId: RUN, attempt: 1 }, ctx)).toMatchObject({ released: 1, sourcesAdded: 0 });
    expect(await ctx.store.getText(keys.document(docId))).toBe(record);
    expect(await ctx.store.getText(keys.result('receipt', docId))).toBe(result);
    expect(await ctx.store.head(keys.staged(docId))).toBeUndefined();
  });
});
