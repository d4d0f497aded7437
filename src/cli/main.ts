import { resolve } from 'node:path';
import Table from 'cli-table3';
import { Command, CommanderError, Option } from 'commander';
import { type Config, defaultConfig, mergeConfig } from '../config.ts';
import { DocbatchError } from '../errors.ts';
import { createLocalEnvironment } from './local-env.ts';
import { collectInputs, type PipelineResult, runPipeline } from './pipeline.ts';

/** Exit codes, documented in `--help` and the README. */
export const EXIT = {
  /** Every document has a valid record. */
  ok: 0,
  /** The run could not start: arguments, configuration, unreadable path. */
  cannotStart: 1,
  /** The run completed and some documents were rejected (each with reasons). */
  rejected: 2,
  /** The run did not complete: some document has no outcome. */
  incomplete: 3,
} as const;

const EXIT_HELP = `
Exit codes:
  0  every document has a valid record
  1  the run could not start (arguments, configuration, unreadable path)
  2  the run completed and some documents were rejected (see rejected/<docId>.json)
  3  the run did not complete (some document has no outcome)`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

function exitCodeFor(result: PipelineResult): number {
  if (result.documents.some((d) => d.outcome === 'missing') || result.batch.status !== 'SUCCEEDED')
    return EXIT.incomplete;
  if (result.documents.some((d) => d.outcome === 'rejected')) return EXIT.rejected;
  return EXIT.ok;
}

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
  const count = (o: string) => result.documents.filter((d) => d.outcome === o).length;
  const tokens = result.report?.tokens;
  io.out(
    `run ${result.runId}: ${result.documents.length} documents, ${count('result')} results, ${count('rejected')} rejected` +
      `${count('missing') ? `, ${count('missing')} WITHOUT OUTCOME` : ''}` +
      `${tokens ? `; tokens in ${tokens.input}, out ${tokens.output}` : ''}\n`,
  );
  if (result.batch.status !== 'SUCCEEDED') {
    io.err(
      `batch execution failed: ${result.batch.error?.Error ?? 'error'}: ${result.batch.error?.Cause ?? ''}\n`,
    );
  }
}

/** The CLI as a value, so tests drive it in-process. */
export function makeProgram(io: Io = processIo): Command {
  const program = new Command('docbatch')
    .description(
      'Document batch pipeline: OCR on upload, nightly Bedrock batch extraction, JSON Schema validated records.',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(add --help for usage and examples)');

  program
    .command('run')
    .description(
      'Run documents through the ingest and batch state machines offline and write validated records.',
    )
    .argument('<paths...>', 'files or directories (a file’s type is its parent folder’s name)')
    .option('--type <type>', 'document type for every input (overrides the folder name)')
    .option('--schemas <dir>', 'directory of <type>.schema.json files that add or override types')
    .option('--workdir <dir>', 'work directory; the local bucket is <dir>/bucket', '.docbatch')
    .addOption(new Option('--model <id>', 'model id (the offline rules model by default)'))
    .option('--quiet', 'no progress lines on stderr')
    .addHelpText(
      'after',
      `
Examples:
  $ docbatch run samples/documents
  $ docbatch run ~/scans --type receipt --workdir /tmp/db
  $ docbatch run invoices/ --schemas ./my-schemas
${EXIT_HELP}`,
    )
    .action(
      async (
        paths: string[],
        opts: { type?: string; schemas?: string; workdir: string; model?: string; quiet?: boolean },
      ) => {
        const inputs = await collectInputs(paths, opts.type);
        const config: Config = opts.model ? mergeConfig(defaultConfig(opts.model), {}) : defaultConfig();
        const workdir = opts.workdir;
        const env = await createLocalEnvironment({
          workdir: resolve(workdir),
          config,
          ...(opts.schemas ? { schemaDirs: [resolve(opts.schemas)] } : {}),
        });
        try {
          const result = await runPipeline(env, inputs, {
            onProgress: (e) => {
              if (opts.quiet) return;
              if (e.phase === 'ingest') io.err(`ingest ${e.done}/${e.total}  ${e.display}\n`);
              if (e.phase === 'batch') io.err(`batch  ${e.state}\n`);
            },
          });
          printResult(result, workdir, io);
          process.exitCode = exitCodeFor(result);
        } finally {
          await env.close();
        }
      },
    );

  program.addHelpText('after', EXIT_HELP);
  return program;
}

/** Entry point: parses argv, maps failures to documented exit codes, never prints a stack for user errors. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = makeProgram(io);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : EXIT.cannotStart;
    } else if (error instanceof DocbatchError) {
      io.err(`docbatch: ${error.message}\n`);
      process.exitCode = EXIT.cannotStart;
    } else {
      io.err(`docbatch: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = EXIT.incomplete;
    }
  }
  return Number(process.exitCode ?? 0);
}
