/**
 * Soak: thousands of generated single-page digital invoices and receipts through the complete
 * offline pipeline (one ingest execution each, then one batch execution), as `docbatch run` does.
 * Prints throughput, time per phase, peak RSS and outcome counts; exits 1 when a document has no
 * outcome, anything failed, or the peak RSS passed the target.
 *
 *   node bench/soak.ts                       (10,000 documents; part of `npm run bench`)
 *   node bench/soak.ts --docs 500 --concurrency 8 --keep
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLocalEnvironment } from '../src/cli/local-env.ts';
import { collectInputs, type ProgressEvent, runPipeline } from '../src/cli/pipeline.ts';
import { defaultConfig } from '../src/config.ts';
import type { ResultRecord } from '../src/core/outcomes.ts';
import {
  type GeneratedDocument,
  invoiceDocument,
  receiptDocument,
  simplePdf,
} from '../test/integration/generate.ts';

const MB = 1024 * 1024;
/** The target on the 2-core reference machine. */
const PEAK_RSS_TARGET = 1024 * MB;

export interface SoakOptions {
  docs: number;
  concurrency: number;
  keep: boolean;
}

export interface SoakFigures {
  docs: number;
  seconds: { generate: number; ingest: number; batch: number; total: number };
  docsPerSecond: number;
  peakRssMb: number;
  outcomes: Record<string, number>;
  ingestStatuses: Record<string, number>;
  /** Results whose record has every generated field with its generated value. */
  exact: number;
  ok: boolean;
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const mb = (bytes: number) => bytes / MB;

/** Peak resident set size, sampled (the kernel's own maximum is read at the end as well). */
function rssSampler(periodMs = 50) {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, periodMs);
  timer.unref();
  return {
    stop(): number {
      clearInterval(timer);
      // maxRSS is in kilobytes and covers the whole process lifetime, this one included.
      return Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
    },
    current: () => process.memoryUsage().rss,
  };
}

export async function soak(options: SoakOptions): Promise<SoakFigures> {
  const root = await mkdtemp(join(tmpdir(), 'docbatch-soak-'));
  const inputs = join(root, 'inputs');
  const memory = rssSampler();
  try {
    const t0 = performance.now();
    const expected = new Map<string, GeneratedDocument['expected']>();
    await mkdir(join(inputs, 'invoice'), { recursive: true });
    await mkdir(join(inputs, 'receipt'), { recursive: true });
    for (let n = 0; n < options.docs; n++) {
      const doc = n % 2 === 0 ? invoiceDocument(n) : receiptDocument(n);
      const name = `${doc.type}-${String(n).padStart(5, '0')}.pdf`;
      await writeFile(join(inputs, doc.type, name), simplePdf(doc.lines));
      expected.set(`${doc.type}/${name}`, doc.expected);
    }
    const t1 = performance.now();
    console.log(
      `soak: generated ${fmt(options.docs, 0)} single-page PDFs in ${fmt((t1 - t0) / 1000)} s; running the pipeline with ingest concurrency ${options.concurrency} on ${availableParallelism()} cores`,
    );

    const env = await createLocalEnvironment({ workdir: join(root, 'work'), config: defaultConfig() });
    let batchStarted = 0;
    let lastReport = performance.now();
    const onProgress = (e: ProgressEvent) => {
      if (e.phase === 'ingest' && (e.done % 1000 === 0 || performance.now() - lastReport > 10_000)) {
        lastReport = performance.now();
        console.log(
          `  ingest ${fmt(e.done, 0)}/${fmt(e.total, 0)}  ${fmt(e.done / ((performance.now() - t1) / 1000))} docs/s  RSS ${fmt(mb(memory.current()), 0)} MB`,
        );
      }
      if (e.phase === 'batch' && !batchStarted) batchStarted = performance.now();
      if (e.phase === 'assembled')
        console.log(
          `  assembled ${fmt(e.records, 0)} records into ${e.jobs.length} job(s)  RSS ${fmt(mb(memory.current()), 0)} MB`,
        );
      if (e.phase === 'collected')
        console.log(
          `  collected ${fmt(e.results, 0)} results, ${fmt(e.rejected, 0)} rejected  RSS ${fmt(mb(memory.current()), 0)} MB`,
        );
    };
    let result: Awaited<ReturnType<typeof runPipeline>>;
    try {
      result = await runPipeline(env, await collectInputs([inputs]), {
        concurrency: options.concurrency,
        waitMs: 5,
        retryMs: 0,
        onProgress,
      });
    } finally {
      await env.close();
    }
    const t2 = performance.now();
    const peak = memory.stop();

    const outcomes: Record<string, number> = { result: 0, rejected: 0, missing: 0 };
    let exact = 0;
    for (const d of result.documents) {
      outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
      if (d.outcome !== 'result' || !d.outputKey) continue;
      const record = (JSON.parse(await readFile(env.store.path(d.outputKey), 'utf8')) as ResultRecord).record;
      const want = expected.get(d.input.display) ?? {};
      if (Object.entries(want).every(([k, v]) => record[k] === v)) exact++;
    }
    const ingestStatuses: Record<string, number> = {};
    for (const e of result.ingest) ingestStatuses[e.status] = (ingestStatuses[e.status] ?? 0) + 1;
    const accounted = result.documents.length === options.docs && outcomes['missing'] === 0;
    const ok =
      accounted &&
      outcomes['result'] === options.docs &&
      result.batch.status === 'SUCCEEDED' &&
      ingestStatuses['SUCCEEDED'] === options.docs &&
      peak <= PEAK_RSS_TARGET;
    const batchFrom = batchStarted || t2;
    return {
      docs: options.docs,
      seconds: {
        generate: (t1 - t0) / 1000,
        ingest: (batchFrom - t1) / 1000,
        batch: (t2 - batchFrom) / 1000,
        total: (t2 - t1) / 1000,
      },
      docsPerSecond: options.docs / ((t2 - t1) / 1000),
      peakRssMb: mb(peak),
      outcomes,
      ingestStatuses,
      exact,
      ok,
    };
  } finally {
    memory.stop();
    if (options.keep) console.log(`soak: kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
}

export function printFigures(f: SoakFigures): void {
  const line = (label: string, value: string) => console.log(`  ${label.padEnd(22)} ${value}`);
  console.log(`soak: ${fmt(f.docs, 0)} documents through the offline pipeline`);
  line('throughput', `${fmt(f.docsPerSecond)} documents/s`);
  line(
    'total time',
    `${fmt(f.seconds.total)} s (ingest ${fmt(f.seconds.ingest)} s, batch ${fmt(f.seconds.batch)} s)`,
  );
  line('generation', `${fmt(f.seconds.generate)} s (not counted)`);
  line('peak RSS', `${fmt(f.peakRssMb, 0)} MB (target ≤ ${PEAK_RSS_TARGET / MB} MB)`);
  line(
    'outcomes',
    Object.entries(f.outcomes)
      .map(([k, v]) => `${k} ${fmt(v, 0)}`)
      .join(', '),
  );
  line(
    'ingest executions',
    Object.entries(f.ingestStatuses)
      .map(([k, v]) => `${k} ${fmt(v, 0)}`)
      .join(', '),
  );
  line(
    'exact records',
    `${fmt(f.exact, 0)} of ${fmt(f.outcomes['result'] ?? 0, 0)} results match the generated values`,
  );
  line('verdict', f.ok ? 'OK: every document accounted for, no failure' : 'FAILED');
}

export async function run(argv: readonly string[] = []): Promise<boolean> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      docs: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '8' },
      keep: { type: 'boolean', default: false },
    },
  });
  const docs = Number(values.docs);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(docs) || docs < 1)
    throw new RangeError(`--docs must be a positive integer, got ${values.docs}`);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`--concurrency must be a positive integer, got ${values.concurrency}`);
  const figures = await soak({ docs, concurrency, keep: values.keep });
  printFigures(figures);
  return figures.ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ok = await run(process.argv.slice(2));
  process.exitCode = ok ? 0 : 1;
}
