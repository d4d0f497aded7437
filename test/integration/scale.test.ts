/**
 * Assemble and Collect at a modest scale (2,000 records), checked record by record against the
 * whole-run-in-memory path they replaced, and against themselves on one partition versus many.
 * The streaming design is asserted through the store: Collect's scratch partitions exist while it
 * runs (many segments each) and nothing of them is left when it ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config.ts';
import {
  type ChunkOutcome,
  type DocumentDecision,
  decideDocument,
  interpretOutputLine,
} from '../../src/core/collect.ts';
import { familyForModel } from '../../src/core/families/index.ts';
import { maxTokensFor } from '../../src/core/families/prompt.ts';
import { recordId } from '../../src/core/ids.ts';
import { keys } from '../../src/core/keys.ts';
import type { DocumentRecord, IndexEntry, ResultRecord, StagedChunk } from '../../src/core/outcomes.ts';
import type { ObjectStore, PutOptions } from '../../src/ports.ts';
import {
  assemble,
  type CollectSummary,
  collect,
  type JobResult,
  type Plan,
  release,
} from '../../src/tasks/batch.ts';
import type { TaskContext } from '../../src/tasks/context.ts';
import { makeEnv, type TestEnv } from './helpers.ts';

const RECORDS = 2000;
const RUN = 'scale-run';
const REGISTERED = '2025-06-01T00:00:00.000Z';

let t: TestEnv | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

/** The store, with every write and delete of Collect's scratch space counted. */
function watching(store: ObjectStore) {
  const written = new Set<string>();
  const deleted = new Set<string>();
  const scratch = (key: string) => key.includes('/collect-tmp/');
  const watched: ObjectStore = {
    bucket: store.bucket,
    get: (key) => store.get(key),
    getText: (key) => store.getText(key),
    lines: (key) => store.lines(key),
    head: (key) => store.head(key),
    openWriter: (key) => store.openWriter(key),
    list: (prefix) => store.list(prefix),
    async put(key: string, body: Uint8Array | string, options?: PutOptions) {
      await store.put(key, body, options);
      if (scratch(key)) written.add(key);
    },
    async delete(key: string) {
      await store.delete(key);
      if (scratch(key) && written.has(key)) deleted.add(key);
    },
    deleteMany: (keys) => store.deleteMany(keys),
    chunks: (key) => store.chunks(key),
  };
  return { watched, written, deleted };
}

/** 2,000 staged records: 400 documents of 1–9 chunks, receipts and invoices, each registered. */
async function stage(ctx: TaskContext): Promise<StagedChunk[]> {
  const all: StagedChunk[] = [];
  let n = 0;
  for (let d = 0; all.length < RECORDS; d++) {
    const chunks = Math.min(1 + (d % 9), RECORDS - all.length);
    const docId = `${d.toString(16).padStart(6, '0')}${'ab'.repeat(9)}`;
    const type = d % 3 === 0 ? 'invoice' : 'receipt';
    const source = { key: `incoming/${type}/doc-${d}.pdf`, sha256: `${docId}${'0'.repeat(40)}` };
    const lines: StagedChunk[] = [];
    for (let c = 0; c < chunks; c++) {
      lines.push({
        docId,
        type,
        source,
        chunk: c,
        chunks,
        pageStart: c + 1,
        pageEnd: c + 1,
        tokens: 200 + (n++ % 50),
        text: `Page ${c + 1} of document ${d}: TOTAL ${d}.50 EUR </document> ünïcødé`,
      });
    }
    all.push(...lines);
    await ctx.store.put(keys.staged(docId), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const doc: DocumentRecord = {
      docId,
      type,
      source,
      sources: [source.key],
      size: 1000,
      status: 'staged',
      registeredAt: REGISTERED,
      updatedAt: REGISTERED,
    };
    await ctx.store.put(keys.document(docId), JSON.stringify(doc));
  }
  return all;
}

function modelOutput(entry: IndexEntry, n: number): string {
  const record =
    entry.type === 'invoice'
      ? {
          invoice_number: `INV-${entry.docId.slice(0, 6)}`,
          invoice_date: '14/03/2025',
          seller_name: 'Acme',
          total_amount: '1,234.50',
        }
      : {
          merchant_name: 'Corner Cafe',
          date: '2025-03-14',
          total: 24.84 + (entry.chunk % 2),
          currency: 'EUR',
        };
  if (n % 37 === 0)
    delete (record as Record<string, unknown>)[entry.type === 'invoice' ? 'seller_name' : 'merchant_name'];
  const content =
    n % 23 === 0
      ? [{ type: 'text', text: `Sure:\n\`\`\`json\n${JSON.stringify(record)}\n\`\`\`` }]
      : [{ type: 'tool_use', id: `t${n}`, name: `record_${entry.type}`, input: record }];
  return JSON.stringify({
    content,
    stop_reason: n % 97 === 0 ? 'max_tokens' : 'tool_use',
    usage: { input_tokens: 100 + (n % 7), output_tokens: 20 + (n % 5) },
  });
}

/**
 * `.jsonl.out` files as Bedrock leaves them: shuffled, two files per job, with per-record errors,
 * records with no output, duplicates, torn lines, blank lines, lines of no record, and a recordId
 * that is not first in its line.
 */
/**
 * Every job's output: shuffled and split into two files named as no input was, or (`byInputFile`)
 * one file per input file, named as Bedrock names them, each with its own records' lines.
 */
async function writeOutputs(ctx: TaskContext, plan: Plan, byInputFile = false): Promise<JobResult[]> {
  const results: JobResult[] = [];
  let n = 0;
  for (const job of plan.jobs) {
    const jobId = `job${String(job.job).padStart(9, '0')}`;
    const byPart: string[][] = job.files.map(() => []);
    let lines: string[] = [];
    let ordinal = 0;
    for await (const line of ctx.store.lines(keys.jobIndex(RUN, 1, job.job))) {
      const entry = JSON.parse(line) as IndexEntry;
      if (byInputFile) lines = byPart[partOfLine(job.files, ordinal++)] as string[];
      n++;
      if (n % 41 === 0) continue; // no output line: MISSING_OUTPUT
      const modelInput = `{"anthropic_version":"bedrock-2023-05-31","n":${n}}`;
      if (n % 29 === 0)
        lines.push(
          `{"recordId":"${entry.recordId}","modelInput":${modelInput},"error":{"errorCode":500,"errorMessage":"Internal"}}`,
        );
      else if (n % 31 === 0)
        lines.push(
          `{"modelInput":${modelInput},"modelOutput":${modelOutput(entry, n)},"recordId":"${entry.recordId}"}`,
        );
      else
        lines.push(
          `{"recordId":"${entry.recordId}","modelInput":${modelInput},"modelOutput":${modelOutput(entry, n)}}`,
        );
      if (n % 43 === 0)
        lines.push(
          `{"recordId":"${entry.recordId}","modelInput":{},"error":{"errorCode":429,"errorMessage":"late duplicate"}}`,
        );
      if (n % 47 === 0) lines.push(`{"recordId":"${entry.recordId}","modelInput":{"torn`);
      if (n % 53 === 0)
        lines.push(`{"recordId":"${recordId('nobody', n)}","modelInput":{},"modelOutput":{}}`, '', '[1,2]');
    }
    if (byInputFile) {
      for (const [part, partLines] of byPart.entries()) {
        shuffle(partLines);
        const name = keys.jobInputFile(RUN, 1, job.job, part).split('/').at(-1);
        await ctx.store.put(`${keys.outputPrefix(RUN, 1)}${jobId}/${name}.out`, `${partLines.join('\n')}\n`);
      }
    } else {
      shuffle(lines);
      const half = Math.ceil(lines.length / 2);
      for (const [part, slice] of [lines.slice(0, half), lines.slice(half)].entries()) {
        await ctx.store.put(
          `${keys.outputPrefix(RUN, 1)}${jobId}/part-${part}.jsonl.out`,
          `${slice.join('\n')}\n`,
        );
      }
    }
    results.push({ job: job.job, mode: 'batch', status: 'Completed', jobId });
  }
  return results;
}

/** A fixed shuffle: output order is not input order. */
function shuffle(lines: string[]): void {
  for (let i = lines.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
  }
}

/** The input file of a job's `ordinal`-th index line, from the plan's records per file. */
function partOfLine(files: readonly number[], ordinal: number): number {
  let end = 0;
  for (const [part, records] of files.entries()) {
    end += records;
    if (ordinal < end) return part;
  }
  return files.length - 1;
}

/** What Collect decided before it streamed: the whole run joined in memory, as the old code did. */
async function referenceDecisions(ctx: TaskContext, plan: Plan) {
  const family = familyForModel(plan.modelId, ctx.config.model.families);
  const entries = new Map<string, IndexEntry>();
  const docs = new Map<string, { entry: IndexEntry; chunks: Map<number, ChunkOutcome> }>();
  for (const job of plan.jobs)
    for await (const line of ctx.store.lines(keys.jobIndex(RUN, 1, job.job))) {
      const entry = JSON.parse(line) as IndexEntry;
      entries.set(entry.recordId, entry);
      if (!docs.has(entry.docId)) docs.set(entry.docId, { entry, chunks: new Map() });
    }
  let records = 0;
  let errorRecords = 0;
  const tokens = { input: 0, output: 0 };
  for await (const obj of ctx.store.list(keys.outputPrefix(RUN, 1))) {
    if (!obj.key.endsWith('.jsonl.out')) continue;
    const jobId = obj.key.slice(keys.outputPrefix(RUN, 1).length).split('/')[0] ?? '';
    for await (const line of ctx.store.lines(obj.key)) {
      let parsed: { recordId?: string; modelOutput?: unknown; error?: { errorCode?: number } };
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof parsed !== 'object' || parsed === null) continue;
      const entry = typeof parsed.recordId === 'string' ? entries.get(parsed.recordId) : undefined;
      const doc = entry ? docs.get(entry.docId) : undefined;
      if (!entry || !doc || doc.chunks.has(entry.chunk)) continue;
      records++;
      if (parsed.error) errorRecords++;
      const outcome = interpretOutputLine(parsed, family, ctx.schemas.schema(entry.type), jobId);
      tokens.input += outcome.tokens.input;
      tokens.output += outcome.tokens.output;
      doc.chunks.set(entry.chunk, outcome);
    }
  }
  const decisions = new Map<string, { entry: IndexEntry; decision: DocumentDecision }>();
  for (const [docId, { entry, chunks }] of docs)
    decisions.set(docId, {
      entry,
      decision: decideDocument(chunks, entry.chunks, (r) => ctx.schemas.validate(entry.type, r)),
    });
  return { records, errorRecords, tokens, decisions };
}

/** Every outcome object Collect wrote, and every staged object it left, by key. */
async function snapshot(store: ObjectStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const prefix of ['results/', 'rejected/', 'staged/', 'claims/'])
    for await (const o of store.list(prefix)) out.set(o.key, await store.getText(o.key));
  for await (const o of store.list('documents/')) {
    const { updatedAt: _u, ...doc } = JSON.parse(await store.getText(o.key)) as DocumentRecord;
    out.set(o.key, JSON.stringify(doc));
  }
  return out;
}

describe('Scale: 2,000 records through streaming Assemble and Collect', () => {
  it('assembles every staged record exactly once, as the record-at-a-time path builds it', async () => {
    t = await makeEnv();
    const ctx = t.env.ctx;
    const staged = await stage(ctx);
    const plan = await assemble({ runId: RUN }, ctx);
    expect(plan.records).toBe(RECORDS);
    expect(plan.documents).toBe(new Set(staged.map((s) => s.docId)).size);

    const family = familyForModel(plan.modelId, ctx.config.model.families);
    const want = new Map(
      staged.map((s) => {
        const schema = ctx.schemas.schema(s.type);
        const body = family.buildRequest({
          type: s.type,
          schema,
          text: s.text,
          chunk: { index: s.chunk, count: s.chunks, pageStart: s.pageStart, pageEnd: s.pageEnd },
          maxTokens: maxTokensFor(schema, s.tokens, 1),
        });
        return [
          recordId(RUN, s.docId, s.chunk, 1),
          { s, line: JSON.stringify({ recordId: recordId(RUN, s.docId, s.chunk, 1), modelInput: body }) },
        ];
      }),
    );
    const seen = new Set<string>();
    let bytes = 0;
    for (const job of plan.jobs) {
      const index: IndexEntry[] = [];
      for await (const line of ctx.store.lines(keys.jobIndex(RUN, 1, job.job))) index.push(JSON.parse(line));
      const inputs: string[] = [];
      for await (const o of ctx.store.list(keys.jobInputPrefix(RUN, 1, job.job))) {
        bytes += o.size;
        for await (const line of ctx.store.lines(o.key)) inputs.push(line);
      }
      expect(inputs.length).toBe(job.records);
      // The index lists the input's records in the input's order.
      expect(inputs.map((l) => JSON.parse(l).recordId)).toEqual(index.map((e) => e.recordId));
      for (const [i, line] of inputs.entries()) {
        const entry = index[i] as IndexEntry;
        const expected = want.get(entry.recordId);
        expect(line).toBe(expected?.line);
        expect(entry).toEqual({
          recordId: entry.recordId,
          docId: expected?.s.docId,
          type: expected?.s.type,
          chunk: expected?.s.chunk,
          chunks: expected?.s.chunks,
          attempt: 1,
          job: job.job,
          source: expected?.s.source,
        });
        expect(seen.has(entry.recordId)).toBe(false);
        seen.add(entry.recordId);
      }
    }
    expect(seen.size).toBe(RECORDS);
    expect(bytes).toBe(plan.jobs.reduce((n, j) => n + j.bytes, 0));
    // Every document is claimed by the run; the document record learns the run only with its outcome.
    for (const docId of new Set(staged.map((s) => s.docId))) {
      expect(JSON.parse(await ctx.store.getText(keys.claim(docId))).runId).toBe(RUN);
    }
  });

  it('collects the same outcomes as the whole-run join, on one partition or many, in worker threads or not, and cleans its scratch', async () => {
    t = await makeEnv();
    const ctx = t.env.ctx;
    await stage(ctx);
    const plan = await assemble({ runId: RUN }, ctx);
    const jobResults = await writeOutputs(ctx, plan);
    const reference = await referenceDecisions(ctx, plan);

    // A copy of the bucket before Collect, for the one-partition run.
    const before = new Map<string, string>();
    for await (const o of ctx.store.list('')) before.set(o.key, await ctx.store.getText(o.key));

    const many = watching(ctx.store);
    const summary = await collect(
      // Decided in two worker threads, each taking partitions as it finishes one.
      {
        runId: RUN,
        attempt: 1,
        jobResults,
        scratch: { recordsPerPartition: 150, spillChars: 20_000, workers: 2 },
      },
      { ...ctx, store: many.watched },
    );
    await release({ runId: RUN, attempt: 1 }, ctx);
    const afterMany = await snapshot(ctx.store);

    // Many partitions, each in several segments, and none left behind.
    const partitions = new Set([...many.written].map((k) => /collect-tmp\/\w+-(\d+)-/.exec(k)?.[1]));
    expect(partitions.size).toBeGreaterThanOrEqual(10);
    expect([...many.written].filter((k) => k.includes('/output-')).length).toBeGreaterThan(
      2 * partitions.size,
    );
    expect(many.deleted).toEqual(many.written);
    const left: string[] = [];
    for await (const o of ctx.store.list(keys.collectTmpPrefix(RUN, 1))) left.push(o.key);
    expect(left).toEqual([]);

    // The summary and every outcome are the reference's.
    const decided = [...reference.decisions.values()];
    expect(summary).toMatchObject({
      records: reference.records,
      errorRecords: reference.errorRecords,
      tokens: reference.tokens,
      results: decided.filter((d) => d.decision.kind === 'result').length,
      redrive: decided.filter((d) => d.decision.kind === 'rejected').length,
      rejected: 0,
    } satisfies Partial<CollectSummary>);
    expect(summary.results).toBeGreaterThan(100);
    expect(summary.redrive).toBeGreaterThan(50);
    for (const [docId, { entry, decision }] of reference.decisions) {
      if (decision.kind === 'result') {
        const result = JSON.parse(afterMany.get(keys.result(entry.type, docId)) ?? 'null') as ResultRecord;
        expect(result.record).toEqual(decision.record);
        expect(result.extraction.warnings).toEqual(decision.warnings);
        expect(result.extraction.tokens).toEqual(decision.tokens);
        expect(result.extraction.jobIds).toEqual(decision.jobIds);
        expect(afterMany.has(keys.staged(docId))).toBe(false);
        expect(afterMany.has(keys.claim(docId))).toBe(false);
        expect(JSON.parse(afterMany.get(keys.document(docId)) ?? '{}')).toMatchObject({
          status: 'result',
          runId: RUN,
        });
      } else {
        const restaged = (afterMany.get(keys.staged(docId)) ?? '')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as StagedChunk);
        expect(restaged.length).toBe(entry.chunks);
        for (const s of restaged) {
          expect(s.attempt).toBe(2);
          expect(s.feedback).toEqual(decision.reasons.map((r) => `${r.code}: ${r.message}`));
        }
      }
    }

    // The same Collect on one partition, in the task's own thread (the defaults at this size),
    // writes the very same objects.
    for await (const o of ctx.store.list('')) await ctx.store.delete(o.key);
    for (const [key, body] of before) await ctx.store.put(key, body);
    const one = watching(ctx.store);
    const single = await collect({ runId: RUN, attempt: 1, jobResults }, { ...ctx, store: one.watched });
    await release({ runId: RUN, attempt: 1 }, ctx);
    expect(new Set([...one.written].map((k) => /collect-tmp\/\w+-(\d+)-/.exec(k)?.[1]))).toEqual(
      new Set(['000']),
    );
    expect(single).toEqual(summary);
    expect(await snapshot(ctx.store)).toEqual(afterMany);
  });

  it('decides each output file as a partition of its own when Assemble kept documents whole, as the spill decides', async () => {
    t = await makeEnv({
      config: { quotas: { ...defaultConfig().quotas, maxRecordsPerFile: 150, maxRecordsPerJob: 600 } },
    });
    const ctx = t.env.ctx;
    await stage(ctx);
    const plan = await assemble({ runId: RUN }, ctx);
    expect(plan.aligned).toBe(true);
    expect(plan.jobs.flatMap((j) => j.files).length).toBeGreaterThanOrEqual(14);
    const jobResults = await writeOutputs(ctx, plan, true);
    const reference = await referenceDecisions(ctx, plan);
    const before = new Map<string, string>();
    for await (const o of ctx.store.list('')) before.set(o.key, await ctx.store.getText(o.key));
    const restore = async () => {
      for await (const o of ctx.store.list('')) await ctx.store.delete(o.key);
      for (const [key, body] of before) await ctx.store.put(key, body);
    };

    const runs: { summary: CollectSummary; after: Map<string, string>; scratch: Set<string> }[] = [];
    for (const scratch of [{ workers: 2 }, { workers: 0 }, { recordsPerPartition: 150, workers: 0 }]) {
      await restore();
      const watched = watching(ctx.store);
      const summary = await collect(
        { runId: RUN, attempt: 1, jobResults, scratch },
        { ...ctx, store: watched.watched },
      );
      await release({ runId: RUN, attempt: 1 }, ctx);
      runs.push({ summary, after: await snapshot(ctx.store), scratch: watched.written });
    }
    const [byFileInWorkers, byFileHere, spilled] = runs as [
      (typeof runs)[0],
      (typeof runs)[0],
      (typeof runs)[0],
    ];
    // By file: no scratch segment at all. Forced to spill: segments, as before.
    expect(byFileInWorkers.scratch.size).toBe(0);
    expect(byFileHere.scratch.size).toBe(0);
    expect(spilled.scratch.size).toBeGreaterThan(0);
    expect(byFileInWorkers.summary).toMatchObject({
      records: reference.records,
      errorRecords: reference.errorRecords,
      tokens: reference.tokens,
    });
    expect(byFileInWorkers.summary.results + byFileInWorkers.summary.redrive).toBe(reference.decisions.size);
    for (const run of [byFileHere, spilled]) {
      expect(run.summary).toEqual(byFileInWorkers.summary);
      expect(run.after).toEqual(byFileInWorkers.after);
    }
  });

  it('fails as the task’s own thread would when a worker meets a torn index line', async () => {
    t = await makeEnv();
    const ctx = t.env.ctx;
    await stage(ctx);
    const plan = await assemble({ runId: RUN }, ctx);
    const jobResults = await writeOutputs(ctx, plan);
    // Its keys can be read without parsing it, so only the partition's join finds it torn.
    const index = keys.jobIndex(RUN, 1, 0);
    await ctx.store.put(
      index,
      `${await ctx.store.getText(index)}{"recordId":"AAAAAAAAAAA","docId":"${'f'.repeat(24)}","chunk":\n`,
    );
    for (const workers of [0, 1])
      await expect(
        collect({ runId: RUN, attempt: 1, jobResults, scratch: { workers } }, ctx),
      ).rejects.toMatchObject({ name: 'SyntaxError' });
  });
});
