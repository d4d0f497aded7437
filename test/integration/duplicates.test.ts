/**
 * Duplicates and re-runs: the same bytes under two names, the same key uploaded again, an ingest
 * execution run again, and one S3 event delivered twice at once. Whatever arrives twice, a
 * document is submitted once, written once and has one outcome that lists every key it came under.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ExecutionOutcome, execute } from '../../src/cli/local-engine.ts';
import type { LocalEnvironment } from '../../src/cli/local-env.ts';
import { collectInputs, type PipelineResult, runPipeline } from '../../src/cli/pipeline.ts';
import { docIdFromSha256, sha256Hex } from '../../src/core/ids.ts';
import { keys } from '../../src/core/keys.ts';
import type { DocumentRecord, IndexEntry, RejectedRecord, ResultRecord } from '../../src/core/outcomes.ts';
import { invoiceDocument, receiptDocument, simplePdf } from './generate.ts';
import { listFiles, makeEnv, readJsonFile, SAMPLES, statesEntered, type TestEnv } from './helpers.ts';

const fast = { waitMs: 5, retryMs: 0 } as const;
const HTML = Buffer.from('<!DOCTYPE html><html><body>not an invoice</body></html>');

/** An S3 "Object Created" event as EventBridge delivers it. */
function uploadEvent(env: LocalEnvironment, key: string) {
  return {
    version: '0',
    source: 'aws.s3',
    'detail-type': 'Object Created',
    detail: { bucket: { name: env.store.bucket }, object: { key }, reason: 'PutObject' },
  };
}

let executions = 0;
function ingest(env: LocalEnvironment, key: string): Promise<ExecutionOutcome> {
  return execute(env.definitions.ingest, uploadEvent(env, key), {
    bindings: env.bindings.ingest,
    executionName: `dup-ingest-${executions++}`,
    ...fast,
  });
}

function batch(env: LocalEnvironment, runId: string): Promise<ExecutionOutcome> {
  return execute(env.definitions.batch, {}, { bindings: env.bindings.batch, executionName: runId, ...fast });
}

/** Every record submitted to the model (batch or on-demand), as index entries. */
async function submitted(t: TestEnv): Promise<IndexEntry[]> {
  const out: IndexEntry[] = [];
  for (const f of (await listFiles(join(t.workdir, 'bucket/runs'))).filter((f) => f.includes('/index/'))) {
    for await (const line of t.env.store.lines(`runs/${f}`)) out.push(JSON.parse(line) as IndexEntry);
  }
  return out;
}

/** Bytes and modification time of every object under the given prefixes: what "no second write" means. */
async function snapshot(t: TestEnv, prefixes: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const prefix of prefixes) {
    for (const f of await listFiles(join(t.workdir, 'bucket', prefix))) {
      const path = join(t.workdir, 'bucket', prefix, f);
      out.set(`${prefix}/${f}`, `${(await stat(path)).mtimeMs} ${await readFile(path, 'utf8')}`);
    }
  }
  return out;
}

const last = (outcome: ExecutionOutcome) => statesEntered(outcome).at(-1);

describe('The same bytes under two names, in one run, then uploaded again', () => {
  let t: TestEnv;
  let dir: string;
  let first: PipelineResult;
  const invoice = simplePdf(invoiceDocument(7).lines);
  const other = simplePdf(invoiceDocument(8).lines);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'docbatch-dup-'));
    await mkdir(join(dir, 'invoice'));
    await writeFile(join(dir, 'invoice', 'acme.pdf'), invoice);
    await writeFile(join(dir, 'invoice', 'acme (copy).pdf'), invoice);
    await writeFile(join(dir, 'invoice', 'other.pdf'), other);
    await writeFile(join(dir, 'invoice', 'page.pdf'), HTML);
    await writeFile(join(dir, 'invoice', 'page again.pdf'), HTML);
    t = await makeEnv();
    first = await runPipeline(t.env, await collectInputs([dir]), fast);
  });

  afterAll(async () => {
    await t.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const named = (result: PipelineResult, name: string) => {
    const d = result.documents.find((x) => basename(x.input.path) === name);
    if (!d) throw new Error(`no outcome for ${name}`);
    return d;
  };

  it('makes one document with one extraction and one result listing both keys', async () => {
    const a = named(first, 'acme.pdf');
    const copy = named(first, 'acme (copy).pdf');
    expect(copy.docId).toBe(a.docId);
    expect([a.outcome, copy.outcome]).toEqual(['result', 'result']);
    expect(copy.outputKey).toBe(a.outputKey);

    const records = await submitted(t);
    expect(records.filter((r) => r.docId === a.docId)).toHaveLength(1);
    expect(records).toHaveLength(2); // acme and other: the HTML pair never reaches the model

    const result = await readJsonFile<ResultRecord>(join(t.workdir, 'bucket', a.outputKey ?? ''));
    expect([...result.sources].sort()).toEqual([a.key, copy.key].sort());
    const doc = await readJsonFile<DocumentRecord>(join(t.workdir, 'bucket', keys.document(a.docId)));
    expect([...doc.sources].sort()).toEqual([a.key, copy.key].sort());
    expect(await listFiles(join(t.workdir, 'bucket/results'))).toHaveLength(2);

    // Either the second execution found the first one's registration (AlreadyIngested), or both
    // were in Register together and the second carried on harmlessly: one staged document anyway.
    const ends = [a, copy].map((d) => last(first.ingest[first.documents.indexOf(d)] as ExecutionOutcome));
    expect(ends).toContain('Staged');
    for (const end of ends) expect(['Staged', 'AlreadyIngested']).toContain(end);
  });

  it('makes one rejection listing both keys for the same refused bytes', async () => {
    const page = named(first, 'page.pdf');
    const again = named(first, 'page again.pdf');
    expect(again.docId).toBe(page.docId);
    expect([page.outcome, again.outcome]).toEqual(['rejected', 'rejected']);
    expect(await listFiles(join(t.workdir, 'bucket/rejected'))).toEqual([`${page.docId}.json`]);
    const rejection = await readJsonFile<RejectedRecord>(
      join(t.workdir, 'bucket', keys.rejected(page.docId)),
    );
    expect([...rejection.sources].sort()).toEqual([page.key, again.key].sort());
    expect(rejection.reasons.map((r) => r.code)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
  });

  it('re-uploading the same keys submits nothing and writes no outcome or registration again', async () => {
    const before = await snapshot(t, ['results', 'rejected', 'documents', 'ocr']);
    const recordsBefore = await submitted(t);
    const again = await runPipeline(t.env, await collectInputs([dir]), fast);

    expect(again.documents.map((d) => [d.docId, d.outcome, d.outputKey])).toEqual(
      first.documents.map((d) => [d.docId, d.outcome, d.outputKey]),
    );
    for (const outcome of again.ingest)
      expect(statesEntered(outcome)).toEqual(['Register', 'Route', 'AlreadyIngested']);
    expect(statesEntered(again.batch)).toEqual([
      'StartRun',
      'Assemble',
      'AnythingToRun',
      'NothingToRun',
      'Report',
    ]);
    expect(again.report?.records).toBe(0);
    expect(await submitted(t)).toEqual(recordsBefore);
    expect(await snapshot(t, ['results', 'rejected', 'documents', 'ocr'])).toEqual(before);
    expect(await listFiles(join(t.workdir, 'bucket/staged'))).toEqual([]);
  });

  it('a third name for the same bytes, after the result exists, joins the result’s sources', async () => {
    const late = join(dir, 'late');
    await mkdir(join(late, 'invoice'), { recursive: true });
    await copyFile(join(dir, 'invoice', 'acme.pdf'), join(late, 'invoice', 'acme-final.pdf'));
    const run = await runPipeline(t.env, await collectInputs([late]), fast);
    const d = run.documents[0];
    expect(statesEntered(run.ingest[0] as ExecutionOutcome)).toEqual([
      'Register',
      'Route',
      'AlreadyIngested',
    ]);
    const result = await readJsonFile<ResultRecord>(join(t.workdir, 'bucket', d?.outputKey ?? ''));
    expect(result.sources).toHaveLength(3);
    expect(result.sources).toContain('incoming/invoice/acme-final.pdf');
    expect(run.report?.records).toBe(0);
  });
});

describe('Re-running ingest and at-least-once delivery', () => {
  let t: TestEnv | undefined;
  afterEach(async () => {
    await t?.dispose();
    t = undefined;
  });

  it('re-running ingest for a staged and then a done document ends in AlreadyIngested and writes nothing', async () => {
    t = await makeEnv();
    const key = 'incoming/receipt/till.pdf';
    await t.env.store.put(key, simplePdf(receiptDocument(3).lines));
    expect(last(await ingest(t.env, key))).toBe('Staged');

    const staged = await snapshot(t, ['staged', 'documents', 'ocr']);
    expect(statesEntered(await ingest(t.env, key))).toEqual(['Register', 'Route', 'AlreadyIngested']);
    expect(await snapshot(t, ['staged', 'documents', 'ocr'])).toEqual(staged);

    expect((await batch(t.env, 'dup-night-1')).status).toBe('SUCCEEDED');
    const done = await snapshot(t, ['results', 'documents']);
    expect(done.size).toBe(2);
    expect(statesEntered(await ingest(t.env, key))).toEqual(['Register', 'Route', 'AlreadyIngested']);
    expect(await snapshot(t, ['results', 'documents'])).toEqual(done);

    // A second delivery that carried on through Register while the first was still ingesting
    // reaches Chunk only now, after the night took the document: it must not stage it again.
    const bytes = await t.env.store.get(key);
    const sha256 = sha256Hex(bytes);
    const chunk = t.env.bindings.ingest['Chunk'];
    await chunk?.({
      docId: docIdFromSha256(sha256),
      type: 'receipt',
      bucket: t.env.store.bucket,
      source: { key, sha256 },
      ocr: { JobId: 'text-layer' },
    });
    expect(await listFiles(join(t.workdir, 'bucket/staged'))).toEqual([]);
    expect(await snapshot(t, ['results', 'documents'])).toEqual(done);
    expect((await batch(t.env, 'dup-night-2')).status).toBe('SUCCEEDED');
    expect(await submitted(t)).toHaveLength(1);
  });

  it('one event delivered twice at once stages one document, runs one OCR job and ends in one outcome', async () => {
    t = await makeEnv();
    const env = t.env;
    const uploads: { key: string; bytes: Uint8Array }[] = [
      {
        key: 'incoming/receipt/scan.png',
        bytes: await readFile(join(SAMPLES, 'receipt/corner-cafe-receipt.png')),
      },
      ...[0, 1, 2, 3].map((n) => ({
        key: `incoming/invoice/inv-${n}.pdf`,
        bytes: simplePdf(invoiceDocument(20 + n).lines),
      })),
      { key: 'incoming/invoice/page.pdf', bytes: HTML },
    ];
    for (const u of uploads) await env.store.put(u.key, u.bytes);
    // Every event twice, all at once: the copies race through Register, OCR and Chunk together.
    const outcomes = await Promise.all(uploads.flatMap((u) => [ingest(env, u.key), ingest(env, u.key)]));

    const ids = uploads.map((u) => docIdFromSha256(sha256Hex(u.bytes)));
    expect((await listFiles(join(t.workdir, 'bucket/staged'))).sort()).toEqual(
      ids
        .slice(0, 5)
        .map((id) => `${id}.jsonl`)
        .sort(),
    );
    for (const [i, id] of ids.entries()) {
      const pair = [outcomes[2 * i], outcomes[2 * i + 1]] as ExecutionOutcome[];
      const doc = await readJsonFile<DocumentRecord>(join(t.workdir, 'bucket', keys.document(id)));
      expect(doc.sources).toEqual([uploads[i]?.key]);
      if (i < 5) {
        expect(pair.map(last)).toContain('Staged');
        for (const o of pair) expect(['Staged', 'AlreadyIngested']).toContain(last(o));
        // One OCR job or text-layer extraction: Textract's ClientRequestToken is the docId.
        expect(
          new Set(
            (await listFiles(join(t.workdir, 'bucket', keys.ocrPrefix(id)))).map((f) => f.split('/')[0]),
          ),
        ).toHaveProperty('size', 1);
      } else {
        for (const o of pair) expect(['Rejected', 'AlreadyIngested']).toContain(last(o));
      }
    }
    expect(await listFiles(join(t.workdir, 'bucket/rejected'))).toEqual([`${ids[5]}.json`]);

    expect((await batch(env, 'dup-night-3')).status).toBe('SUCCEEDED');
    const records = await submitted(t);
    expect(records.map((r) => r.docId).sort()).toEqual(ids.slice(0, 5).sort());
    const results = await listFiles(join(t.workdir, 'bucket/results'));
    expect(results).toHaveLength(5);
    for (const f of results) {
      const result = await readJsonFile<ResultRecord>(join(t.workdir, 'bucket/results', f));
      expect(result.sources).toHaveLength(1);
    }
  });
});

describe('The same image under two names, OCR’d concurrently in one run', () => {
  let t: TestEnv | undefined;
  afterEach(async () => {
    await t?.dispose();
    t = undefined;
  });

  it('runs one Textract job, stages once and gives one result listing both keys', async () => {
    t = await makeEnv();
    const dir = await mkdtemp(join(tmpdir(), 'dup-ocr-'));
    await mkdir(join(dir, 'receipt'));
    const png = join(SAMPLES, 'receipt/corner-cafe-receipt.png');
    await copyFile(png, join(dir, 'receipt', 'scan-a.png'));
    await copyFile(png, join(dir, 'receipt', 'scan-b.png'));
    const run = await runPipeline(t.env, await collectInputs([dir]), { ...fast, concurrency: 2 });
    expect(run.documents.map((d) => d.outcome)).toEqual(['result', 'result']);
    // Both executions asked Textract with the document's first key, so neither was refused.
    for (const ingest of run.ingest) expect(statesEntered(ingest)).not.toContain('Quarantine');
    const result = await readJsonFile<ResultRecord>(
      join(t.workdir, 'bucket', run.documents[0]?.outputKey ?? ''),
    );
    expect([...result.sources].sort()).toEqual([
      'incoming/receipt/scan-a.png',
      'incoming/receipt/scan-b.png',
    ]);
    const ocrJobs = (await listFiles(join(t.workdir, 'bucket/ocr'))).filter((f) => f.endsWith('/1'));
    expect(ocrJobs).toHaveLength(1);
    await rm(dir, { recursive: true, force: true });
  });
});
