import { Command, CommanderError } from 'commander';
import { DocbatchError } from '../errors.ts';
import { registerConfig } from './commands/config.ts';
import { registerEstimate } from './commands/estimate.ts';
import { registerEval } from './commands/eval.ts';
import { registerExecutions } from './commands/executions.ts';
import { registerLinearize } from './commands/linearize.ts';
import { registerReport } from './commands/report.ts';
import { registerRun } from './commands/run.ts';
import { registerStartBatch } from './commands/start-batch.ts';
import { registerStatus } from './commands/status.ts';
import { registerUpload } from './commands/upload.ts';
import { registerWatch } from './commands/watch.ts';
import { EXIT, EXIT_HELP, type Io, processIo } from './io.ts';

export { EXIT, type Io } from './io.ts';

/** The CLI as a value, so tests drive it in-process. */
export function makeProgram(io: Io = processIo): Command {
  const program = new Command('docbatch')
    .description(
      'Document batch pipeline: OCR on upload, nightly Bedrock batch extraction, JSON Schema validated records.',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(add --help for usage and examples)');

  registerRun(program, io);
  registerEstimate(program, io);
  registerStatus(program, io);
  registerLinearize(program, io);
  registerConfig(program, io);
  registerUpload(program, io);
  registerStartBatch(program, io);
  registerExecutions(program, io);
  registerWatch(program, io);
  registerEval(program, io);
  registerReport(program, io);
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
