import { resolve } from 'node:path';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { type Config, defaultConfig } from '../../config.ts';
import { EXIT, EXIT_HELP, type Io } from '../io.ts';
import { createLocalEnvironment } from '../local-env.ts';
import { collectInputs, type PipelineResult, runPipeline } from '../pipeline.ts';

export function exitCodeFor(result: PipelineResult): number {
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
        const config: Config = defaultConfig(opts.model);
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
}
