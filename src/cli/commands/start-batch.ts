import type { Command } from 'commander';
import type { OperatorClients } from '../../adapters/aws/deployment.ts';
import { ConfigError } from '../../errors.ts';
import {
  addStackOptions,
  consoleUrl,
  operatorClients,
  resolveTargets,
  type StackOptions,
} from '../aws-stack.ts';
import { EXIT, type Io } from '../io.ts';
import { newRunId } from '../pipeline.ts';
import { watchExecution } from './watch.ts';

export interface StartBatchOptions extends StackOptions {
  name?: string;
  watch?: boolean;
  interval?: string;
}

/** The execution name is the run id, and run ids end up in S3 keys and Bedrock job names. */
const RUN_ID = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,40}$/;

/** Starts the batch state machine now (what the nightly schedule does); prints its console URL. */
export async function startBatch(
  options: StartBatchOptions,
  clients: Pick<OperatorClients, 'sfn' | 'cfn'>,
  io: Io,
  now = new Date(),
): Promise<{ executionArn: string; runId: string }> {
  const runId = options.name ?? newRunId(now);
  if (!RUN_ID.test(runId)) {
    throw new ConfigError(
      `--name "${runId}" cannot be a run id: use 1–41 letters, digits or '-', starting with a letter or digit (e.g. 20261124-rerun).`,
    );
  }
  const { batchStateMachineArn } = await resolveTargets(
    clients,
    options,
    ['batchStateMachineArn'],
    options.stateMachineArn ? { batchStateMachineArn: options.stateMachineArn } : {},
  );
  const { startExecution } = await import('../../adapters/aws/deployment.ts');
  const { executionArn } = await startExecution(clients.sfn, {
    stateMachineArn: batchStateMachineArn,
    name: runId,
    input: {},
  });
  io.out(
    `started batch run ${runId}\n  execution ${executionArn}\n  console   ${consoleUrl(executionArn)}\n`,
  );
  return { executionArn, runId };
}

/** `docbatch start-batch`: the nightly run, now. */
export function registerStartBatch(program: Command, io: Io): void {
  const command = program
    .command('start-batch')
    .description(
      'Start the batch state machine of a deployed stack now: everything staged goes into Bedrock batch jobs.',
    )
    .option(
      '--name <runId>',
      'execution name, which is the run id (default: a timestamp such as 20261124T020000Z-1a2b)',
    )
    .option('--watch', 'follow the execution until it ends (as docbatch watch does)')
    .option('--interval <seconds>', 'with --watch: seconds between polls', '15');
  addStackOptions(command, { stateMachine: true })
    .addHelpText(
      'after',
      `
Examples:
  $ docbatch start-batch --stack Docbatch
  $ docbatch start-batch --stack Docbatch --watch
  $ docbatch start-batch --name 20261124-rerun --state-machine-arn arn:aws:states:eu-west-1:123456789012:stateMachine:BatchStateMachine-abc

The run's reports/<runId>.json appears in the bucket when it ends; a run with nothing staged still
writes one.`,
    )
    .action(async (opts: StartBatchOptions) => {
      const clients = await operatorClients(opts.region);
      const { executionArn } = await startBatch(opts, clients, io);
      process.exitCode = opts.watch
        ? await watchExecution(executionArn, { interval: opts.interval ?? '15' }, clients, io)
        : EXIT.ok;
    });
}
