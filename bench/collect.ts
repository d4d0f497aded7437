/**
 * Collect benchmark: joining, parsing, validating and writing the outcomes of a run's batch output.
 *
 *   node bench/collect.ts                                   (part of `npm run bench`)
 *   node bench/collect.ts --sizes 10000,100000 --chunks-per-doc 1 --dir /dev/shm --keep
 *   node bench/collect.ts --node-flag=--max-semi-space-size=16     (flags for the measured process;
 *                                        default: the Collect Lambda's, --max-semi-space-size=4)
 *   node bench/collect.ts --discard-outcomes     (per-document outcome objects to a null store)
 *
 * For every size of the growth series (default 10k, 100k, 1M output lines) it stages that many
 * ~1 KB chunk records (as bench/assemble.ts does), runs Assemble for the plan and the index, and
 * writes one `.jsonl.out` per job as Bedrock does: every record answered in Claude's tool_use shape,
 * shuffled, with a small `modelInput` echo. 1 % of the records come back as per-record errors,
 * 0.5 % as a JSON answer in text instead of the tool call (repaired), 0.5 % without a required field
 * (fails validation): those documents are re-staged for a second attempt. Then `collect()` runs in a
 * child process of its own, so each size's peak RSS is its own. Nothing before `collect()` is timed,
 * and the generation's writes are flushed to disk first (see `settle`).
 *
 * Prints lines/s, time and peak RSS (and the time per pass), checks the outcome counts against what
 * was generated, and exits 1 when they differ or the largest size misses ≥ 100,000 lines/s or
 * ≤ 300 MB.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { keys } from '../src/core/keys.ts';
import type { IndexEntry } from '../src/core/outcomes.ts';
import type { Logger, ObjectStore } from '../src/ports.ts';
import {
  assemble,
  COLLECT_NODE_OPTIONS,
  type CollectSummary,
  collect,
  type JobResult,
  type Plan,
  release,
} from '../src/tasks/batch.ts';
import {
  BENCH_RUN,
  benchContext,
  fmt,
  generateStaged,
  MB,
  measureInChild,
  nodeFlagsOf,
  PEAK_RSS_TARGET_MB,
  parseSizes,
  rssSampler,
  SCALE_OPTIONS,
} from './assemble.ts';

const LINES_PER_SECOND_TARGET = 100_000;

/** What a record's output line is: decided by its position, so the expected outcomes are known. */
function kindOf(n: number): 'ok' | 'error' | 'text' | 'invalid' {
  const r = n % 200;
  if (r < 2) return 'error';
  if (r === 2) return 'text';
  if (r === 3) return 'invalid';
  return 'ok';
}

function recordFor(type: string, docNumber: number): Record<string, unknown> {
  return type === 'invoice'
    ? {
        invoice_number: `INV-${100000 + docNumber}`,
        invoice_date: '2025-03-14',
        seller_name: 'Acme Supplies Ltd',
        buyer_name: 'Corner Cafe',
        currency: 'EUR',
        subtotal: 120.5,
        tax_amount: 24.1,
        total_amount: 144.6,
      }
    : {
        merchant_name: `Corner Cafe #${docNumber % 997}`,
        merchant_address: '12 Market Street, Springfield',
        date: '2025-03-14',
        total: 24.84,
        currency: 'EUR',
      };
}

function outputLine(entry: IndexEntry, docNumber: number, n: number): string {
  const kind = kindOf(n);
  const modelInput = {
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 1024,
    messages: [
      { role: 'user', content: [{ type: 'text', text: `document ${entry.docId} chunk ${entry.chunk + 1}` }] },
    ],
  };
  if (kind === 'error')
    return JSON.stringify({
      recordId: entry.recordId,
      modelInput,
      error: {
        errorCode: 429,
        errorMessage: 'ThrottlingException: Too many tokens, please wait before trying again.',
      },
    });
  const record = recordFor(entry.type, docNumber);
  if (kind === 'invalid') delete record[entry.type === 'invoice' ? 'seller_name' : 'merchant_name'];
  const content =
    kind === 'text'
      ? [
          {
            type: 'text',
            text: `Here is the record:\n\`\`\`json\n${JSON.stringify(record, null, 1)},\n\`\`\``,
          },
        ]
      : [
          {
            type: 'tool_use',
            id: `toolu_bdrk_${entry.recordId}`,
            name: `record_${entry.type}`,
            input: record,
          },
        ];
  return JSON.stringify({
    recordId: entry.recordId,
    modelInput,
    modelOutput: {
      id: `msg_bdrk_${entry.recordId}`,
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5-20251001',
      content,
      stop_reason: kind === 'text' ? 'end_turn' : 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 900 + (n % 300), output_tokens: 80 + (n % 40) },
    },
  });
}

/** Deterministic Fisher–Yates (Bedrock does not keep input order). */
function shuffle<T>(items: T[], seed: number): void {
  let s = seed >>> 0 || 1;
  for (let i = items.length - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  }
}

interface Generated {
  jobResults: JobResult[];
  lines: number;
  outputBytes: number;
  expected: { results: number; redrive: number; errorRecords: number };
}

/** Staged records → Assemble → one shuffled `.jsonl.out` per input file, with the outcomes it should give. */
export async function generate(dir: string, records: number, chunksPerDoc: number): Promise<Generated> {
  const bucket = join(dir, 'bucket');
  const docs = generateStaged(bucket, { records, chunksPerDoc });
  const docNumber = new Map(docs.map((d, i) => [d.docId, i]));
  const ctx = await benchContext(bucket);
  const plan: Plan = await assemble({ runId: BENCH_RUN }, ctx);
  const failedDocs = new Set<string>();
  const jobResults: JobResult[] = [];
  let lines = 0;
  let outputBytes = 0;
  let errorRecords = 0;
  let n = 0;
  for (const job of plan.jobs) {
    const jobId = `bench${String(job.job).padStart(7, '0')}`;
    // One output file per input file, named after it, as Bedrock writes them.
    const files: string[][] = job.files.map(() => []);
    const index = readFileSync(join(bucket, keys.jobIndex(BENCH_RUN, 1, job.job)), 'utf8');
    let ordinal = 0;
    let part = 0;
    let partEnd = job.files[0] ?? 0;
    for (const line of index.split('\n')) {
      if (!line) continue;
      while (ordinal >= partEnd && part < job.files.length - 1) partEnd += job.files[++part] ?? 0;
      ordinal++;
      const entry = JSON.parse(line) as IndexEntry;
      const kind = kindOf(n);
      if (kind === 'error') errorRecords++;
      if (kind === 'error' || kind === 'invalid') failedDocs.add(entry.docId);
      files[part]?.push(outputLine(entry, docNumber.get(entry.docId) ?? 0, n++));
    }
    mkdirSync(join(bucket, `runs/${BENCH_RUN}/output/${jobId}`), { recursive: true });
    let written = 0;
    for (const [p, fileLines] of files.entries()) {
      shuffle(fileLines, job.job * 1000 + p + 1);
      const name = keys.jobInputFile(BENCH_RUN, 1, job.job, p).split('/').at(-1);
      const stream = createWriteStream(join(bucket, `runs/${BENCH_RUN}/output/${jobId}/${name}.out`));
      for (const line of fileLines) {
        outputBytes += Buffer.byteLength(line) + 1;
        if (!stream.write(`${line}\n`))
          await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
      }
      await new Promise<void>((resolve, reject) =>
        stream.end((e?: Error | null) => (e ? reject(e) : resolve())),
      );
      written += fileLines.length;
    }
    lines += written;
    jobResults.push({
      job: job.job,
      mode: 'batch',
      status: 'Completed',
      jobArn: `arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/${jobId}`,
    });
  }
  return {
    jobResults,
    lines,
    outputBytes,
    expected: { results: docs.length - failedDocs.size, redrive: failedDocs.size, errorRecords },
  };
}

/**
 * Leaves the store as Collect finds it, without the generation's I/O still under way: the batch
 * input files (4.3 GB for 1M records; Collect never reads them) are removed, and what the
 * generation wrote is flushed to disk, so the kernel's write-back of it is not timed as Collect's.
 */
async function settle(dir: string): Promise<void> {
  await rm(join(dir, 'bucket', `runs/${BENCH_RUN}/input`), { recursive: true, force: true });
  execFileSync('sync');
}

interface CollectFigures {
  seconds: number;
  /** CPU time of Collect's process, all threads: over `seconds`, the cores it kept busy. */
  cpuSeconds: number;
  release: { seconds: number; released: number };
  passes: Record<string, number>;
  passRss: Record<string, number>;
  summary: Pick<CollectSummary, 'results' | 'rejected' | 'redrive' | 'records' | 'errorRecords'>;
  sampledMb: number;
  maxRssMb: number;
}

const NULL_DOCUMENT = JSON.stringify({ sources: [], status: 'staged' });

/** Bucket prefixes of the per-document objects Collect reads and writes (outcomes, registrations, clean-up). */
const OUTCOME_PREFIXES = ['results/', 'rejected/', 'documents/', 'staged/', 'claims/'];

/**
 * The store with the per-document outcome objects sent nowhere: their writes and deletes are
 * dropped and every documents/ record reads as the same empty one. Collect still decides, serializes and hands over every
 * outcome; only the local store's cost of a few file creations per document is left out, to show
 * what Collect's own streaming and parsing achieve (re-staging still reads the staged text).
 */
function nullOutcomes(store: ObjectStore): ObjectStore {
  const outcome = (key: string) => OUTCOME_PREFIXES.some((p) => key.startsWith(p));
  return {
    bucket: store.bucket,
    get: (key) => store.get(key),
    // Every registration reads as one empty record: building a NotFoundError (and its stack) per
    // read would be measured instead of Collect.
    getText: (key) => (key.startsWith('documents/') ? Promise.resolve(NULL_DOCUMENT) : store.getText(key)),
    lines: (key) => store.lines(key),
    head: (key) => store.head(key),
    openWriter: (key) => store.openWriter(key),
    list: (prefix) => store.list(prefix),
    put: (key, body, options) => (outcome(key) ? Promise.resolve() : store.put(key, body, options)),
    delete: (key) => (outcome(key) ? Promise.resolve() : store.delete(key)),
    deleteMany: (keys) => store.deleteMany(keys.filter((k) => !outcome(k))),
    chunks: (key) => store.chunks(key),
  };
}

async function measure(
  dir: string,
  jobResultsFile: string,
  discardOutcomes: boolean,
): Promise<CollectFigures> {
  const memory = rssSampler();
  const passes: Record<string, number> = {};
  /** RSS as each pass ends, to show where memory goes. */
  const passRss: Record<string, number> = {};
  const log: Logger = {
    info() {},
    warn() {},
    error() {},
    debug(message, fields) {
      if (
        message === 'collect pass' &&
        typeof fields?.['pass'] === 'string' &&
        typeof fields['ms'] === 'number'
      ) {
        passes[fields['pass']] = fields['ms'] / 1000;
        passRss[fields['pass']] = process.memoryUsage().rss / MB;
      }
    },
  };
  const base = await benchContext(join(dir, 'bucket'));
  const ctx = { ...base, log, ...(discardOutcomes ? { store: nullOutcomes(base.store) } : {}) };
  const jobResults = JSON.parse(readFileSync(jobResultsFile, 'utf8')) as JobResult[];
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const s = await collect({ runId: BENCH_RUN, attempt: 1, jobResults }, ctx);
  const seconds = (performance.now() - started) / 1000;
  // Every thread of the process (the worker threads decide), user and system time.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const peak = memory.stop();
  // Release, the next state, on its own clock: the records, staged texts and claims Collect leaves.
  const releaseStarted = performance.now();
  const r = await release({ runId: BENCH_RUN, attempt: 1 }, ctx);
  const release_ = { seconds: (performance.now() - releaseStarted) / 1000, released: r.released };
  return {
    seconds,
    cpuSeconds,
    release: release_,
    passes,
    passRss,
    summary: {
      results: s.results,
      rejected: s.rejected,
      redrive: s.redrive,
      records: s.records,
      errorRecords: s.errorRecords,
    },
    ...peak,
  };
}

export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<boolean> {
  const { values } = parseArgs({
    args: [...argv],
    // Other benchmarks' options reach every benchmark through `npm run bench -- …`: ignore them.
    strict: false,
    options: { ...SCALE_OPTIONS, 'discard-outcomes': { type: 'boolean', default: false } },
  });
  // The Collect Lambda's own flag (infra/stack.ts), unless others are given.
  const given = nodeFlagsOf(values['node-flag']);
  const nodeFlags = given.length > 0 ? given : [...COLLECT_NODE_OPTIONS];
  const sizes = parseSizes(values.sizes as string | undefined, [10_000, 100_000, 1_000_000]);
  const chunksPerDoc = Number(values['chunks-per-doc']);
  const base = typeof values.dir === 'string' ? values.dir : tmpdir();
  console.log(
    `collect: ${sizes.map((s) => fmt(s, 0)).join(', ')} output lines (Claude tool_use answers, small modelInput echo, shuffled), ${chunksPerDoc} chunk(s) per document; ${availableParallelism()} cores; store under ${base}${values['discard-outcomes'] ? ', per-document outcome objects DISCARDED (null store)' : ''}; Node ${process.version} ${nodeFlags.length > 0 ? nodeFlags.join(' ') : 'default flags'}`,
  );
  let ok = true;
  let largest: { lines: number; f: CollectFigures } | undefined;
  for (const size of sizes) {
    const dir = await mkdtemp(join(base, 'docbatch-bench-collect-'));
    try {
      const t0 = performance.now();
      const g = await generate(dir, size, chunksPerDoc);
      const jobResultsFile = join(dir, 'job-results.json');
      await writeFile(jobResultsFile, JSON.stringify(g.jobResults));
      await settle(dir);
      const generation = (performance.now() - t0) / 1000;
      const f = await measureInChild<CollectFigures>(
        new URL(import.meta.url).pathname,
        'collect',
        dir,
        ['--job-results', jobResultsFile, ...(values['discard-outcomes'] ? ['--discard-outcomes'] : [])],
        nodeFlags,
      );
      const correct =
        f.summary.results === g.expected.results &&
        f.summary.redrive === g.expected.redrive &&
        f.summary.rejected === 0 &&
        f.summary.records === g.lines &&
        f.summary.errorRecords === g.expected.errorRecords &&
        f.release.released === g.expected.results;
      ok &&= correct;
      largest = { lines: g.lines, f };
      const passes = Object.entries(f.passes)
        .map(([k, v]) => `${k} ${fmt(v)} s, RSS ${fmt(f.passRss[k] ?? 0, 0)} MB`)
        .join(', ');
      console.log(
        `  ${fmt(g.lines, 0).padStart(9)} lines (${fmt(g.outputBytes / MB, 0)} MB)  ${fmt(f.seconds).padStart(7)} s  ${fmt(g.lines / f.seconds, 0).padStart(8)} lines/s  CPU ${fmt(f.cpuSeconds)} s (${fmt(f.cpuSeconds / f.seconds)} cores)  peak RSS ${fmt(f.maxRssMb, 0)} MB (sampled ${fmt(f.sampledMb, 0)})  [${passes}]  results ${fmt(f.summary.results, 0)}, re-staged ${fmt(f.summary.redrive, 0)}; then Release ${fmt(f.release.seconds)} s for ${fmt(f.release.released, 0)} documents${correct ? '' : `  WRONG: expected ${JSON.stringify(g.expected)}`}  [generation ${fmt(generation)} s, not counted]`,
      );
    } finally {
      if (values.keep) console.log(`  kept ${dir}`);
      else await rm(dir, { recursive: true, force: true });
    }
  }
  if (!largest) return ok;
  const rate = largest.lines / largest.f.seconds;
  const met = rate >= LINES_PER_SECOND_TARGET && largest.f.maxRssMb <= PEAK_RSS_TARGET_MB;
  console.log(
    `collect: ${fmt(largest.lines, 0)} lines at ${fmt(rate, 0)} lines/s (target ≥ ${fmt(LINES_PER_SECOND_TARGET, 0)}), peak RSS ${fmt(largest.f.maxRssMb, 0)} MB (target ≤ ${PEAK_RSS_TARGET_MB}), outcomes ${ok ? 'as generated' : 'WRONG'}: ${met && ok ? 'OK' : 'MISSED'}`,
  );
  return met && ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--measure') {
    const dir = argv[argv.indexOf('--dir') + 1] ?? '';
    const jobResults = argv[argv.indexOf('--job-results') + 1] ?? '';
    console.log(JSON.stringify(await measure(dir, jobResults, argv.includes('--discard-outcomes'))));
  } else {
    process.exitCode = (await run(argv)) ? 0 : 1;
  }
}
