import { resolve } from 'node:path';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { loadConfig } from '../config-file.ts';
import { EXIT, EXIT_HELP, type Io, processIo } from '../io.ts';
import { createLocalEnvironment } from '../local-env.ts';
import { collectInputs, type PipelineResult, runPipeline } from '../pipeline.ts';
import { createProgressReporter, jsonEvent, progressMode } from '../progress.ts';

export function exitCodeFor(result: PipelineResult): number {
  if (result.documents.some((d) => d.outcome === 'missing') || result.batch.status !== 'SUCCEEDED')
    return EXIT.incomplete;
  if (result.documents.some((d) => d.outcome === 'rejected')) return EXIT.rejected;
  return EXIT.ok;
}

const countOf = (result: PipelineResult, outcome: string) =>
  result.documents.filter((d) => d.outcome === outcome).length;

function printResult(result: PipelineResult, workdir: string, io: Io): void {
  const table = new Table({ head: ['source', 'outcome', 'path'], style: { head: [], border: [] } });
  for (const d of result.documents) {
    const where = d.outputKey ? `${workdir}/bucket/${d.outputKey}` : '—';
    const detail =
      d.outcome === 'rejected' && d.reasons?.[0]
        ? `\n${d.reasons.map((r) => `${r.code}: ${r.message}`).join('\n')}`
        : '';
    table.push([d.input.display, `${d.outcome}${detail}`, where]);
  }
  io.out(`${table.toString()}\n`);
  const count = (o: string) => countOf(result, o);
  const tokens = result.report?.tokens;
  io.out(
    `run ${result.runId}: ${result.documents.length} documents, ${count('result')} results, ${count('rejected')} rejected` +
      `${count('missing') ? `, ${count('missing')} WITHOUT OUTCOME` : ''}` +
      `${tokens ? `; tokens in ${tokens.input}, out ${tokens.output}` : ''}\n`,
  );
}

/** The run's outcome as the last `--json` event: everything the table and summary line say. */
function summaryEvent(result: PipelineResult, workdir: string, exitCode: number): string {
  return jsonEvent('summary', {
    runId: result.runId,
    exitCode,
    documents: result.documents.map((d) => ({
      source: d.input.display,
      type: d.input.type,
      key: d.key,
      docId: d.docId,
      outcome: d.outcome,
      ...(d.outputKey ? { path: `${workdir}/bucket/${d.outputKey}` } : {}),
      ...(d.reasons ? { reasons: d.reasons } : {}),
    })),
    counts: {
      documents: result.documents.length,
      results: countOf(result, 'result'),
      rejected: countOf(result, 'rejected'),
      missing: countOf(result, 'missing'),
    },
    tokens: result.report?.tokens ?? { input: 0, output: 0 },
    batch: {
      status: result.batch.status,
      ...(result.batch.error ? { error: result.batch.error } : {}),
    },
    ...(result.report ? { report: `${workdir}/bucket/reports/${result.runId}.json` } : {}),
  });
}

/** `docbatch run`: both state machines offline on the given documents. */
export function registerRun(program: Command, io: Io): void {
  program
    .command('run')
    .description(
      'Run documents through the ingest and batch state machines offline and write validated records.',
    )
    .argument('<paths...>', 'files or directories (a file’s type is its parent folder’s name)')
    .option('--type <type>', 'document type for every input (overrides the folder name)')
    .option('--schemas <dir>', 'directory of <type>.schema.json files that add or override types')
    .option('--workdir <dir>', 'work directory; the local bucket is <dir>/bucket', '.docbatch')
    .addOption(
      new Option('--model <id>', 'model id (overrides the configuration; default: the offline rules model)'),
    )
    .option('--config <file>', 'configuration file (default: ./docbatch.config.json when present)')
    .option('--quiet', 'no progress on stderr')
    .option('--json', 'machine-readable output: one JSON event per line on stdout, the last one the summary')
    .addHelpText(
      'after',
      `
Progress goes to stderr: live bars on a terminal, one line per step otherwise. With --json, stdout
carries one JSON object per line ({"event": "started" | "document" | "ingest" | "assembled" | "job" |
"collected" | "done" | "summary", …}) and no table; the "summary" event has every document's outcome.

Examples:
  $ docbatch run samples/documents
  $ docbatch run ~/scans --type receipt --workdir /tmp/db
  $ docbatch run invoices/ --schemas ./my-schemas --config ./nightly.config.json
  $ docbatch run samples/documents --json | jq -c 'select(.event == "summary") | .counts'
${EXIT_HELP}`,
    )
    .action(
      async (
        paths: string[],
        opts: {
          type?: string;
          schemas?: string;
          workdir: string;
          model?: string;
          config?: string;
          quiet?: boolean;
          json?: boolean;
        },
      ) => {
        const inputs = await collectInputs(paths, opts.type);
        const { config } = await loadConfig({
          ...(opts.config !== undefined ? { config: opts.config } : {}),
          ...(opts.model !== undefined ? { model: opts.model } : {}),
        });
        const workdir = opts.workdir;
        const env = await createLocalEnvironment({
          workdir: resolve(workdir),
          config,
          ...(opts.schemas ? { schemaDirs: [resolve(opts.schemas)] } : {}),
        });
        // Bars only when a person watches this very terminal (tests and pipes get plain lines).
        const isTTY = io === processIo && process.stderr.isTTY === true;
        const reporter = createProgressReporter(
          progressMode({ json: opts.json === true, quiet: opts.quiet === true, isTTY }),
          io,
        );
        try {
          const result = await runPipeline(env, inputs, { onProgress: (e) => reporter.onProgress(e) });
          reporter.stop();
          const exitCode = exitCodeFor(result);
          if (opts.json) io.out(summaryEvent(result, workdir, exitCode));
          else printResult(result, workdir, io);
          if (result.batch.status !== 'SUCCEEDED') {
            io.err(
              `batch execution failed: ${result.batch.error?.Error ?? 'error'}: ${result.batch.error?.Cause ?? ''}\n`,
            );
          }
          process.exitCode = exitCode;
        } finally {
          reporter.stop();
          await env.close();
        }
      },
    );
}
