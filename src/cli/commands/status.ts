import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { FsStore } from '../../adapters/local/fs-store.ts';
import { ConfigError, DocbatchError } from '../../errors.ts';
import type { ObjectStore } from '../../ports.ts';
import { EXIT, type Io } from '../io.ts';
import {
  type DocumentStage,
  type DocumentStatus,
  type RunStatus,
  type StatusAnswer,
  statusOf,
  type WorkdirSummary,
} from '../status.ts';

/** Where `status` reads: the local work directory, or a deployed bucket (by stack or by name). */
export interface StatusTarget {
  workdir: string;
  stack?: string;
  bucket?: string;
  region?: string;
}

/** Opens the bucket a deployed stack writes to; injected by tests, S3 by default. */
export type RemoteStoreFactory = (target: StatusTarget) => Promise<ObjectStore>;

const STAGE_WORDS: Record<DocumentStage, string> = {
  result: 'result',
  rejected: 'rejected',
  'in-run': 'in a run',
  staged: 'staged',
  ocr: "OCR'd",
  registered: 'registered',
};

const n = (v: number | undefined) => (v === undefined ? '—' : v.toLocaleString('en-US'));

/**
 * S3 through the AWS adapters and the operator commands' stack resolution, loaded only when asked
 * for: `status` on the work directory never loads the SDK, and a checkout without the adapters says
 * so instead of failing on an import.
 */
export const s3StoreFactory: RemoteStoreFactory = async (target) => {
  let stack: typeof import('../aws-stack.ts');
  let s3: typeof import('../../adapters/aws/s3-store.ts');
  let outputs: typeof import('../../adapters/aws/stack-outputs.ts');
  try {
    stack = await import('../aws-stack.ts');
    s3 = await import('../../adapters/aws/s3-store.ts');
    outputs = await import('../../adapters/aws/stack-outputs.ts');
  } catch (error) {
    throw new ConfigError(
      `status --stack/--bucket requires the AWS adapters (src/adapters/aws) and the AWS SDK, which could not be loaded: ${(error as Error).message}. Fix: run \`npm ci\`, or use --workdir for a local work directory.`,
      { cause: error },
    );
  }
  const clients = await stack.operatorClients(target.region);
  const { bucket } = await stack.resolveTargets(
    clients,
    { stack: target.stack ?? outputs.DEFAULT_STACK_NAME },
    ['bucket'],
    target.bucket ? { bucket: target.bucket } : {},
  );
  return new s3.S3Store(clients.s3, bucket);
};

async function openStore(
  target: StatusTarget,
  remote: RemoteStoreFactory,
): Promise<{ store: ObjectStore; locate: (key: string) => string; where: string }> {
  if (target.stack || target.bucket) {
    const store = await remote(target);
    return {
      store,
      locate: (key) => `s3://${store.bucket}/${key}`,
      where: `s3://${store.bucket}${target.stack ? ` (stack ${target.stack})` : ''}`,
    };
  }
  const root = join(resolve(target.workdir), 'bucket');
  const isDir = await stat(root).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir)
    throw new ConfigError(
      `no work directory at "${target.workdir}" (looked for ${root}). Fix: run \`docbatch run <files>\` first, pass --workdir DIR for the one you used, or --stack NAME for a deployed bucket.`,
    );
  return {
    store: new FsStore(root),
    locate: (key) => join(target.workdir, 'bucket', key),
    where: join(target.workdir, 'bucket'),
  };
}

function printDocument(d: DocumentStatus, locate: (key: string) => string, io: Io): void {
  const doc = d.document;
  const lines: [string, string][] = [['where', d.summary]];
  if (doc) {
    lines.push(['source', `${doc.source.key} (sha256 ${doc.source.sha256.slice(0, 16)}…)`]);
    const others = doc.sources.filter((s) => s !== doc.source.key);
    if (others.length) lines.push(['also under', others.join(', ')]);
    const pages =
      doc.pages === undefined
        ? ''
        : ` · ${doc.pages} page${doc.pages === 1 ? '' : 's'}${doc.textLayerPages ? `, ${doc.textLayerPages} with a text layer` : ''}`;
    lines.push([
      'registered',
      `${doc.registeredAt}${doc.mediaType ? ` · ${doc.mediaType}` : ''}${pages}${doc.size ? ` · ${n(doc.size)} bytes` : ''} · status ${doc.status}`,
    ]);
  }
  lines.push([
    'OCR',
    d.ocr.length
      ? d.ocr
          .map(
            (o) =>
              `${o.jobId === 'text-layer' ? 'text layer' : `Textract job ${o.jobId}`} (${o.files} output page file${o.files === 1 ? '' : 's'})`,
          )
          .join('; ')
      : '—',
  ]);
  lines.push([
    'staged',
    d.staged
      ? `${d.staged.chunks} chunk(s), ~${n(d.staged.tokens)} tokens${d.staged.attempt > 1 ? `, attempt ${d.staged.attempt}` : ''}${d.staged.feedback?.length ? ` (feedback: ${d.staged.feedback.join('; ')})` : ''}`
      : '—',
  ]);
  if (d.runId) lines.push(['run', `${d.runId}${d.claim ? ` (claimed ${d.claim.claimedAt ?? ''})` : ''}`]);
  if (d.jobs.length)
    lines.push([
      'jobs',
      d.jobs
        .map((j) =>
          `job ${j.job}${j.attempt > 1 ? ` attempt ${j.attempt}` : ''} ${j.mode ?? ''}${j.jobId ? ` ${j.jobId}` : ''} ${j.status ?? '(no report yet)'}`.replace(
            / +/g,
            ' ',
          ),
        )
        .join('; '),
    ]);
  if (d.result)
    lines.push([
      'result',
      `${locate(d.result.key)} · model ${d.result.model} · tokens in ${n(d.result.tokens.input)}, out ${n(d.result.tokens.output)} · ${d.result.attempts} attempt(s) · ${d.result.warnings.length} warning(s)`,
    ]);
  if (d.rejected) {
    lines.push(['rejected', `${locate(d.rejected.key)} · stage ${d.rejected.stage}`]);
    for (const r of d.rejected.reasons)
      lines.push(['', `${r.code}: ${r.message}${r.path ? ` (at ${r.path})` : ''}`]);
  }
  io.out(`document ${d.docId}${doc ? ` (${doc.type})` : ''}\n`);
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) io.out(`  ${k.padEnd(width)}  ${v}\n`);
}

function printRun(run: RunStatus, locate: (key: string) => string, io: Io): void {
  io.out(`run ${run.runId}: ${run.state}${run.reportKey ? ` (${locate(run.reportKey)})` : ''}\n`);
  for (const p of run.plans) {
    const jobs = p.jobs
      .map((j) => `job ${j.job} ${j.mode ?? ''} ${n(j.records)} records`.replace(/ +/g, ' '))
      .join(', ');
    io.out(
      `  attempt ${p.attempt}: ${n(p.documents)} documents, ${n(p.records)} records${p.deferred ? `, ${n(p.deferred)} deferred` : ''} → ${p.jobs.length ? jobs : 'no jobs'}${p.modelId ? ` · ${p.modelId}` : ''}${p.createdAt ? ` · planned ${p.createdAt}` : ''}\n`,
    );
  }
  const r = run.report as
    | {
        results?: number;
        rejected?: number;
        errorRecords?: number;
        redriven?: number;
        tokens?: { input: number; output: number };
        jobs?: {
          attempt?: number;
          job: number;
          mode?: string;
          status?: string;
          jobId?: string;
          records?: number;
          message?: string;
        }[];
      }
    | undefined;
  if (r) {
    io.out(
      `  report: ${n(r.results)} results, ${n(r.rejected)} rejected${r.redriven ? `, ${n(r.redriven)} re-driven` : ''}${r.errorRecords ? `, ${n(r.errorRecords)} model errors` : ''}${r.tokens ? `; tokens in ${n(r.tokens.input)}, out ${n(r.tokens.output)}` : ''}\n`,
    );
    for (const j of r.jobs ?? [])
      io.out(
        `  job ${j.job}${(j.attempt ?? 1) > 1 ? ` (attempt ${j.attempt})` : ''}: ${[j.mode, j.jobId, j.status].filter(Boolean).join(' ')} · ${n(j.records)} records${j.message ? ` · ${j.message}` : ''}\n`,
      );
  }
  if (run.documents.length) {
    io.out('  documents:\n');
    const width = Math.max(...run.documents.map((d) => STAGE_WORDS[d.stage].length));
    for (const d of run.documents) {
      const why = d.reasons?.[0] ? `  ${d.reasons[0].code}: ${d.reasons[0].message}` : '';
      io.out(`    ${STAGE_WORDS[d.stage].padEnd(width)}  ${d.source}  ${d.docId}${why}\n`);
    }
  }
}

function printSummary(s: WorkdirSummary, where: string, io: Io): void {
  const counts = (Object.keys(STAGE_WORDS) as DocumentStage[]).map(
    (k) => `${n(s.byStage[k])} ${STAGE_WORDS[k]}`,
  );
  io.out(`bucket ${where}\n`);
  io.out(`documents: ${n(s.documents)} (${counts.join(', ')})\n`);
  if (s.runs.length === 0) {
    io.out('runs: none yet\n');
    return;
  }
  const shown = s.runs.slice(0, 20);
  io.out(
    `runs, newest first${s.runs.length > shown.length ? ` (${shown.length} of ${s.runs.length}; --json lists all)` : ''}:\n`,
  );
  const table = new Table({
    head: ['run', 'state', 'model', 'documents', 'results', 'rejected', 'jobs', 'tokens in / out'],
    style: { head: [], border: [] },
  });
  for (const r of shown)
    table.push([
      r.runId,
      r.state,
      r.modelId ?? '—',
      n(r.documents),
      n(r.results),
      n(r.rejected),
      n(r.jobs),
      r.tokens ? `${n(r.tokens.input)} / ${n(r.tokens.output)}` : '—',
    ]);
  io.out(`${table.toString()}\n`);
}

function printAnswer(answer: StatusAnswer, where: string, locate: (key: string) => string, io: Io): void {
  switch (answer.kind) {
    case 'document':
      printDocument(answer.document, locate, io);
      break;
    case 'documents':
      io.out(`${answer.documents.length} documents match "${answer.query}":\n\n`);
      for (const d of answer.documents) {
        printDocument(d, locate, io);
        io.out('\n');
      }
      break;
    case 'run':
      printRun(answer.run, locate, io);
      break;
    case 'summary':
      printSummary(answer.summary, where, io);
      break;
  }
}

/** `docbatch status`: where a document is, what a run did, or a summary of the work directory. */
export function registerStatus(program: Command, io: Io, remote: RemoteStoreFactory = s3StoreFactory): void {
  program
    .command('status')
    .description('Show where a document is, what a run did, or (with no argument) a summary of the bucket.')
    .argument('[what]', 'a docId (or a unique prefix), a run id, or a source key / file name')
    .option(
      '--workdir <dir>',
      'work directory of `docbatch run`; the local bucket is <dir>/bucket',
      '.docbatch',
    )
    .option('--stack <name>', 'read the bucket of a deployed docbatch stack instead (AWS credentials needed)')
    .option('--bucket <name>', 'read this S3 bucket instead (AWS credentials needed)')
    .option('--region <region>', 'AWS region of --stack / --bucket (default: the SDK’s)')
    .option('--json', 'print the answer as JSON')
    .addHelpText(
      'after',
      `
A document is one of: registered (OCR pending), OCR'd, staged (waiting for the next batch), in a run
(claimed; its job and status), result (its record), rejected (stage and reasons). A run shows its
plan per attempt, its jobs and their statuses, its report and every document's outcome.

Examples:
  $ docbatch status
  $ docbatch status acme-invoice-2041.pdf
  $ docbatch status 3b5333e56fa727b8b051c77d
  $ docbatch status 20261123T043827Z-00b6 --json
  $ docbatch status --stack Docbatch --region eu-west-1

Exit codes:
  0  the answer was printed
  1  nothing matches, or the work directory / bucket cannot be read`,
    )
    .action(
      async (
        what: string | undefined,
        opts: { workdir: string; stack?: string; bucket?: string; region?: string; json?: boolean },
      ) => {
        if (opts.stack && opts.bucket)
          throw new ConfigError(
            `--stack "${opts.stack}" and --bucket "${opts.bucket}" both name a bucket. Fix: give one of them.`,
          );
        const target: StatusTarget = {
          workdir: opts.workdir,
          ...(opts.stack ? { stack: opts.stack } : {}),
          ...(opts.bucket ? { bucket: opts.bucket } : {}),
          ...(opts.region ? { region: opts.region } : {}),
        };
        const { store, locate, where } = await openStore(target, remote);
        let answer: StatusAnswer;
        try {
          answer = await statusOf(store, what);
        } catch (error) {
          if (!(target.stack || target.bucket) || error instanceof DocbatchError) throw error;
          // An SDK failure (credentials, permissions, no such bucket) as one line, not a stack trace.
          const { AwsRequestError } = await import('../../adapters/aws/errors.ts');
          throw new AwsRequestError(`reading ${where}`, error);
        }
        if (opts.json) io.out(`${JSON.stringify(answer, null, 2)}\n`);
        else printAnswer(answer, where, locate, io);
        process.exitCode = EXIT.ok;
      },
    );
}
