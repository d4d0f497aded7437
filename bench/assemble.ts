/**
 * Assembly benchmark: Assemble streaming staged chunk records into Bedrock batch input files.
 *
 *   node bench/assemble.ts                                  (part of `npm run bench`)
 *   node bench/assemble.ts --sizes 10000,100000 --chunks-per-doc 1 --dir /dev/shm --keep
 *   node bench/assemble.ts --node-flag=--max-semi-space-size=16   (flags for the measured process)
 *
 * For every size of the growth series (default 10k, 100k, 1M records) it generates that many staged
 * chunk records of about 1 KB of OCR-like text each (half receipts, half invoices, the built-in
 * schemas) with their `documents/<docId>.json`, in a temp FsStore, then runs `assemble()` in a child
 * process of its own so each size's peak RSS is its own. Generation is not timed.
 *
 * Shape: by default 10 chunks per document (100,000 documents for 1M records). Claims and document
 * updates cost a few file creations per *document* on the local store; with one chunk per document
 * that per-document cost, not the record path, sets the pace (see --chunks-per-doc 1).
 *
 * Prints MB/s of JSONL written (batch input; the index beside it is reported apart), records/s, time
 * and peak RSS; exits 1 when the 1M-record run (or the largest size run) misses ≥ 50 MB/s or ≤ 300 MB.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FsStore } from '../src/adapters/local/fs-store.ts';
import { BUILTIN_SCHEMA_DIR, loadSchemaDirs } from '../src/adapters/local/schema-files.ts';
import { type Config, defaultConfig } from '../src/config.ts';
import type { DocumentRecord, StagedChunk } from '../src/core/outcomes.ts';
import { SchemaRegistry } from '../src/core/validate.ts';
import { assemble } from '../src/tasks/batch.ts';
import { silentLogger, systemClock, type TaskContext } from '../src/tasks/context.ts';

export const MB = 1024 * 1024;
export const PEAK_RSS_TARGET_MB = 300;
const THROUGHPUT_TARGET_MB_S = 50;
/** A Claude model on Bedrock: the anthropic family and the default quotas (min 100, 50,000 per job). */
export const BENCH_MODEL = 'anthropic.claude-haiku-4-5-20251001-v1:0';
export const BENCH_RUN = 'bench-run';

export const fmt = (n: number, digits = 1) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export interface Shape {
  records: number;
  chunksPerDoc: number;
}

export interface GeneratedDoc {
  docId: string;
  type: 'receipt' | 'invoice';
  chunks: number;
}

/** `docbatch`'s own docId shape (24 hex) from the document's number, so runs are reproducible. */
export function benchDocId(n: number): string {
  return createHash('sha256').update(`bench-doc-${n}`).digest('hex').slice(0, 24);
}

const STREETS = ['Market Street', 'Harbour Road', 'Station Lane', 'King Street', 'Mill Road'];
const ITEMS = ['Flat white', 'Croissant', 'Paper A4 500 sheets', 'Toner cartridge', 'Consulting hour'];

/** About 1 KB of text laid out as OCR linearizes a receipt or invoice page. */
export function chunkText(doc: number, chunk: number, type: string): string {
  const lines = [
    type === 'invoice' ? `INVOICE INV-${100000 + doc}` : `CORNER CAFE #${doc % 997}`,
    `${10 + (doc % 890)} ${STREETS[doc % STREETS.length]}, Springfield ${1000 + (doc % 9000)}`,
    `Date: 2025-${String(1 + (doc % 12)).padStart(2, '0')}-${String(1 + (doc % 28)).padStart(2, '0')}   Page ${chunk + 1}`,
    '| Item | Qty | Unit price | Amount |',
    '| --- | --- | --- | --- |',
  ];
  for (let i = 0; i < 18; i++) {
    const qty = 1 + ((doc + i) % 5);
    const price = 1 + ((doc * 7 + i * 13) % 4000) / 100;
    lines.push(
      `| ${ITEMS[(doc + i) % ITEMS.length]} | ${qty} | ${price.toFixed(2)} | ${(qty * price).toFixed(2)} |`,
    );
  }
  lines.push(
    `Subtotal ${(doc % 1000) + 0.5}`,
    `VAT 20% ${((doc % 1000) / 5).toFixed(2)}`,
    `TOTAL EUR ${(doc % 1000) + 12.34}`,
  );
  return lines.join('\n');
}

/**
 * Writes `records` staged chunk records (and each document's registration) straight into the
 * bucket directory with synchronous writes: generation is set-up, not the thing measured.
 */
export function generateStaged(
  bucketDir: string,
  shape: Shape,
  registeredAt = '2025-06-01T00:00:00.000Z',
): GeneratedDoc[] {
  mkdirSync(join(bucketDir, 'staged'), { recursive: true });
  mkdirSync(join(bucketDir, 'documents'), { recursive: true });
  const docs: GeneratedDoc[] = [];
  let left = shape.records;
  for (let n = 0; left > 0; n++) {
    const chunks = Math.min(shape.chunksPerDoc, left);
    left -= chunks;
    const docId = benchDocId(n);
    const type = n % 2 === 0 ? 'receipt' : 'invoice';
    const source = { key: `incoming/${type}/${type}-${n}.pdf`, sha256: `${docId}${'0'.repeat(40)}` };
    const lines: string[] = [];
    for (let c = 0; c < chunks; c++) {
      const text = chunkText(n, c, type);
      const staged: StagedChunk = {
        docId,
        type,
        source,
        chunk: c,
        chunks,
        pageStart: c + 1,
        pageEnd: c + 1,
        tokens: Math.ceil(text.length / 4),
        text,
      };
      lines.push(JSON.stringify(staged));
    }
    writeFileSync(join(bucketDir, 'staged', `${docId}.jsonl`), `${lines.join('\n')}\n`);
    const record: DocumentRecord = {
      docId,
      type,
      source,
      sources: [source.key],
      size: 20_000,
      mediaType: 'application/pdf',
      pages: chunks,
      status: 'staged',
      registeredAt,
      updatedAt: registeredAt,
    };
    writeFileSync(join(bucketDir, 'documents', `${docId}.json`), `${JSON.stringify(record, null, 2)}\n`);
    docs.push({ docId, type, chunks });
  }
  return docs;
}

export function benchConfig(): Config {
  return defaultConfig(BENCH_MODEL);
}

/** A TaskContext as `src/cli/local-env.ts` builds one, without the OCR and model stand-ins Assemble and Collect never call. */
export async function benchContext(bucketDir: string, config = benchConfig()): Promise<TaskContext> {
  const unused = () => {
    throw new Error('not used by the batch benchmarks');
  };
  return {
    store: new FsStore(bucketDir),
    reader: { inspect: unused, textLayerBlocks: unused },
    schemas: new SchemaRegistry(await loadSchemaDirs([BUILTIN_SCHEMA_DIR])),
    config,
    onDemand: { invoke: unused },
    log: silentLogger,
    clock: systemClock,
  };
}

/** Peak RSS of this process: sampled every 100 ms, and the kernel's lifetime maximum at the end. */
export function rssSampler(periodMs = 100) {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, periodMs);
  timer.unref();
  return {
    stop(): { sampledMb: number; maxRssMb: number } {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      // maxRSS is in kilobytes and covers the whole process lifetime (module loading included).
      return { sampledMb: peak / MB, maxRssMb: (process.resourceUsage().maxRSS * 1024) / MB };
    },
  };
}

/**
 * Runs this file again as `--measure <what> <dir>` in a fresh Node process (with `nodeFlags`, e.g.
 * a V8 heap setting); the child prints its figures as one JSON line.
 */
export function measureInChild<T>(
  file: string,
  what: string,
  dir: string,
  extra: string[] = [],
  nodeFlags: readonly string[] = [],
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, file, '--measure', what, '--dir', dir, ...extra], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`measurement child exited ${code}: ${out}`));
      else resolve(JSON.parse(last) as T);
    });
  });
}

/** `--node-flag` values (each a Node/V8 option for the measured process, e.g. `--max-semi-space-size=16`). */
export function nodeFlagsOf(value: unknown): string[] {
  const flags = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return flags.filter((f): f is string => typeof f === 'string' && f.startsWith('--'));
}

export function parseSizes(value: string | undefined, fallback: number[]): number[] {
  if (!value) return fallback;
  const sizes = value
    .split(',')
    .map((s) => Number(s.replace(/[_k]/gi, (m) => (m.toLowerCase() === 'k' ? '000' : ''))));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new RangeError(`--sizes must be positive integers separated by commas, got ${value}`);
  return sizes;
}

interface AssembleFigures {
  records: number;
  documents: number;
  jobs: number;
  seconds: number;
  inputBytes: number;
  indexBytes: number;
  sampledMb: number;
  maxRssMb: number;
}

async function measure(dir: string): Promise<AssembleFigures> {
  const memory = rssSampler();
  const ctx = await benchContext(join(dir, 'bucket'));
  const started = performance.now();
  const plan = await assemble({ runId: BENCH_RUN }, ctx);
  const seconds = (performance.now() - started) / 1000;
  const rss = memory.stop();
  let indexBytes = 0;
  for await (const o of ctx.store.list(`runs/${BENCH_RUN}/index/`)) indexBytes += o.size;
  return {
    records: plan.records,
    documents: plan.documents,
    jobs: plan.jobs.length,
    seconds,
    inputBytes: plan.jobs.reduce((n, j) => n + j.bytes, 0),
    indexBytes,
    ...rss,
  };
}

/** The options of the scale benchmarks (assemble, collect): sizes, data layout, where, Node flags. */
export const SCALE_OPTIONS = {
  sizes: { type: 'string' },
  'chunks-per-doc': { type: 'string', default: '10' },
  dir: { type: 'string' },
  keep: { type: 'boolean', default: false },
  'node-flag': { type: 'string', multiple: true },
} as const;

export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<boolean> {
  const { values } = parseArgs({
    args: [...argv],
    // Other benchmarks' options reach every benchmark through `npm run bench -- …`: ignore them.
    strict: false,
    options: SCALE_OPTIONS,
  });
  const sizes = parseSizes(values.sizes as string | undefined, [10_000, 100_000, 1_000_000]);
  const chunksPerDoc = Number(values['chunks-per-doc']);
  const base = typeof values.dir === 'string' ? values.dir : tmpdir();
  const nodeFlags = nodeFlagsOf(values['node-flag']);
  console.log(
    `assemble: ${sizes.map((s) => fmt(s, 0)).join(', ')} staged records of ~1 KB text, ${chunksPerDoc} chunk(s) per document, model ${BENCH_MODEL}; ${availableParallelism()} cores; store under ${base}; Node ${process.version} ${nodeFlags.length > 0 ? nodeFlags.join(' ') : 'default flags'}`,
  );
  const rows: (AssembleFigures & { generate: number })[] = [];
  for (const records of sizes) {
    const dir = await mkdtemp(join(base, 'docbatch-bench-assemble-'));
    try {
      const t0 = performance.now();
      generateStaged(join(dir, 'bucket'), { records, chunksPerDoc });
      const generate = (performance.now() - t0) / 1000;
      const f = await measureInChild<AssembleFigures>(
        new URL(import.meta.url).pathname,
        'assemble',
        dir,
        [],
        nodeFlags,
      );
      rows.push({ ...f, generate });
      console.log(
        `  ${fmt(f.records, 0).padStart(9)} records  ${fmt(f.documents, 0).padStart(9)} docs  ${String(f.jobs).padStart(3)} jobs  ${fmt(f.seconds).padStart(7)} s  ${fmt(f.inputBytes / MB / f.seconds).padStart(6)} MB/s JSONL (${fmt(f.inputBytes / MB, 0)} MB + index ${fmt(f.indexBytes / MB, 0)} MB)  ${fmt(f.records / f.seconds, 0).padStart(7)} records/s  peak RSS ${fmt(f.maxRssMb, 0)} MB (sampled ${fmt(f.sampledMb, 0)})  [generation ${fmt(generate)} s, not counted]`,
      );
    } finally {
      if (values.keep) console.log(`  kept ${dir}`);
      else await rm(dir, { recursive: true, force: true });
    }
  }
  const largest = rows.at(-1);
  if (!largest) return true;
  const mbps = largest.inputBytes / MB / largest.seconds;
  const ok = mbps >= THROUGHPUT_TARGET_MB_S && largest.maxRssMb <= PEAK_RSS_TARGET_MB;
  console.log(
    `assemble: ${fmt(largest.records, 0)} records at ${fmt(mbps)} MB/s (target ≥ ${THROUGHPUT_TARGET_MB_S}), peak RSS ${fmt(largest.maxRssMb, 0)} MB (target ≤ ${PEAK_RSS_TARGET_MB}): ${ok ? 'OK' : 'MISSED'}`,
  );
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--measure') {
    const dir = argv[argv.indexOf('--dir') + 1] ?? '';
    console.log(JSON.stringify(await measure(dir)));
  } else {
    process.exitCode = (await run(argv)) ? 0 : 1;
  }
}
