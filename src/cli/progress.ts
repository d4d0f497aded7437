/**
 * How a run shows its progress: bars on a terminal (cli-progress), one plain line per step when
 * stderr is a file or a pipe, one JSON object per line on stdout for machines, or nothing.
 */
import cliProgress from 'cli-progress';
import type { Io } from './io.ts';
import type { IngestOutcome, JobProgress, ProgressEvent } from './pipeline.ts';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

/** `--json` wins (a machine is reading), then `--quiet`, then the terminal decides. */
export function progressMode(options: { json?: boolean; quiet?: boolean; isTTY: boolean }): ProgressMode {
  if (options.json) return 'json';
  if (options.quiet) return 'quiet';
  return options.isTTY ? 'tty' : 'plain';
}

export interface ProgressReporter {
  onProgress(event: ProgressEvent): void;
  /** Ends any live display, so what is printed next starts on a clean line. */
  stop(): void;
}

/** One machine-readable event: `{"event": …, "time": …, …fields}` and a newline. */
export function jsonEvent(event: string, fields: Record<string, unknown>, now = new Date()): string {
  return `${JSON.stringify({ event, time: now.toISOString(), ...fields })}\n`;
}

/** Bedrock job statuses after which a job does no more work. */
const JOB_ENDED = new Set(['Completed', 'PartiallyCompleted', 'Failed', 'Stopped', 'Expired', 'NotRun']);

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function describeJobs(jobs: readonly JobProgress[]): string {
  const modes = new Map<string, number>();
  for (const j of jobs) modes.set(j.mode, (modes.get(j.mode) ?? 0) + 1);
  return [...modes].map(([mode, n]) => `${n} ${mode}`).join(', ');
}

interface DocumentNote {
  route?: string;
  chunks?: number;
  tokens?: number;
}

function describeDocument(note: DocumentNote | undefined, outcome: IngestOutcome): string {
  if (outcome !== 'staged' || !note) return outcome;
  const parts = [note.route === 'text-layer' ? 'text layer' : note.route === 'ocr' ? 'OCR' : undefined];
  if (note.chunks !== undefined) parts.push(plural(note.chunks, 'chunk'));
  if (note.tokens !== undefined) parts.push(`~${note.tokens} tokens`);
  return `staged (${parts.filter(Boolean).join(', ')})`;
}

/** Plain lines on stderr: one per document, then the batch's plan, job statuses and collection. */
function plainReporter(io: Io): ProgressReporter {
  const notes = new Map<string, DocumentNote>();
  return {
    onProgress(e) {
      switch (e.phase) {
        case 'started':
          io.err(`run ${e.runId}: ${plural(e.total, 'document')}\n`);
          break;
        case 'document': {
          const note = notes.get(e.docId) ?? {};
          if (e.route) note.route = e.route;
          if (e.chunks !== undefined) note.chunks = e.chunks;
          if (e.tokens !== undefined) note.tokens = e.tokens;
          notes.set(e.docId, note);
          break;
        }
        case 'ingest':
          io.err(
            `ingest ${e.done}/${e.total}  ${e.display}: ${describeDocument(notes.get(e.docId), e.outcome)}\n`,
          );
          break;
        case 'assembled':
          io.err(
            e.records === 0
              ? `batch  attempt ${e.attempt}: nothing staged to run${e.deferred ? ` (${e.deferred} records deferred)` : ''}\n`
              : `batch  attempt ${e.attempt}: assembled ${plural(e.records, 'record')} from ${plural(e.documents, 'document')} into ${plural(e.jobs.length, 'job')} (${describeJobs(e.jobs)})${e.deferred ? `; ${e.deferred} deferred` : ''}\n`,
          );
          break;
        case 'job':
          io.err(`batch  job ${e.job} (${e.mode}${e.jobId ? ` ${e.jobId}` : ''}): ${e.status}\n`);
          break;
        case 'collected':
          io.err(
            `batch  collected ${plural(e.records, 'record')}: ${e.results} results, ${e.rejected} rejected${e.redrive ? `, ${e.redrive} sent again` : ''}${e.errorRecords ? `, ${e.errorRecords} model errors` : ''}; tokens in ${e.tokens.input}, out ${e.tokens.output}\n`,
          );
          break;
        default:
          break;
      }
    },
    stop() {},
  };
}

/** Every event as one JSON line on stdout (the final summary is printed by the command). */
function jsonReporter(io: Io, now: () => Date): ProgressReporter {
  return {
    onProgress(e) {
      const { phase, ...fields } = e;
      // `batch` (a state starting) is the engine's view; the events around it carry the meaning.
      io.out(jsonEvent(phase === 'batch' ? 'state' : phase, fields, now()));
    },
    stop() {},
  };
}

/** Live bars on a terminal: documents ingested, then the batch's jobs, with the latest news beside them. */
function ttyReporter(stream: NodeJS.WritableStream): ProgressReporter {
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: '{label} {bar} {value}/{total} {unit} | {news}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
      linewrap: false,
      emptyOnZero: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let ingest: cliProgress.SingleBar | undefined;
  let batch: cliProgress.SingleBar | undefined;
  const counts: Record<IngestOutcome, number> = { staged: 0, duplicate: 0, rejected: 0, failed: 0 };
  const ended = new Set<string>();
  let records = 0;
  let stopped = false;
  const ingestNews = (doc = '') =>
    `${counts.staged} staged, ${counts.rejected} rejected${counts.duplicate ? `, ${counts.duplicate} already in` : ''}${counts.failed ? `, ${counts.failed} failed` : ''}${doc ? `  ${doc}` : ''}`;
  return {
    onProgress(e) {
      switch (e.phase) {
        case 'started':
          ingest = bars.create(e.total, 0, { label: 'ingest', unit: 'documents', news: '' });
          break;
        case 'document':
          ingest?.update({ news: ingestNews(`${e.display}: ${e.step === 'ocr' ? "OCR'd" : e.step}`) });
          break;
        case 'ingest':
          ingest ??= bars.create(e.total, 0, { label: 'ingest', unit: 'documents', news: '' });
          counts[e.outcome]++;
          ingest.update(e.done, { news: ingestNews() });
          break;
        case 'assembled':
          records += e.records;
          if (!batch) {
            batch = bars.create(e.jobs.length, 0, {
              label: 'batch ',
              unit: 'jobs',
              news: `${plural(e.records, 'record')} assembled (${describeJobs(e.jobs) || 'nothing to run'})`,
            });
          } else {
            batch.setTotal(batch.getTotal() + e.jobs.length);
            batch.update({ news: `attempt ${e.attempt}: ${plural(e.records, 'record')} assembled` });
          }
          break;
        case 'job': {
          const key = `${e.attempt}/${e.job}`;
          if (JOB_ENDED.has(e.status) && !ended.has(key)) {
            ended.add(key);
            batch?.increment();
          }
          batch?.update({ news: `job ${e.job} (${e.mode}): ${e.status}` });
          break;
        }
        case 'collected':
          batch?.update({
            news: `collected ${plural(e.records, 'record')} of ${records}: ${e.results} results, ${e.rejected} rejected${e.redrive ? `, ${e.redrive} sent again` : ''}`,
          });
          break;
        default:
          break;
      }
    },
    stop() {
      // cli-progress redraws and adds a newline on every stop(): only the first one may.
      if (stopped || (!ingest && !batch)) return;
      stopped = true;
      bars.stop();
    },
  };
}

export function createProgressReporter(
  mode: ProgressMode,
  io: Io,
  options: { stream?: NodeJS.WritableStream; now?: () => Date } = {},
): ProgressReporter {
  switch (mode) {
    case 'tty':
      return ttyReporter(options.stream ?? process.stderr);
    case 'plain':
      return plainReporter(io);
    case 'json':
      return jsonReporter(io, options.now ?? (() => new Date()));
    default:
      return { onProgress() {}, stop() {} };
  }
}
