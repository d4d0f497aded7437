import { type Command, Option } from 'commander';
import type { ExecutionSummary, OperatorClients } from '../../adapters/aws/deployment.ts';
import { ConfigError } from '../../errors.ts';
import { addStackOptions, operatorClients, resolveTargets, type StackOptions } from '../aws-stack.ts';
import { EXIT, type Io } from '../io.ts';

export const EXECUTION_STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
];

export interface ExecutionsOptions extends StackOptions {
  status?: string;
  machine: 'batch' | 'ingest' | 'all';
  max: string;
}

function duration(e: ExecutionSummary): string {
  if (!e.startDate) return '';
  const ms = (e.stopDate ?? new Date()).getTime() - e.startDate.getTime();
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/** Recent executions of the stack's state machines, newest first, one line each with its ARN. */
export async function listStackExecutions(
  options: ExecutionsOptions,
  clients: Pick<OperatorClients, 'sfn' | 'cfn'>,
  io: Io,
): Promise<number> {
  const max = Number(options.max);
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw new ConfigError(`--max must be a whole number from 1 to 1000 (received "${options.max}")`);
  }
  const machines: { label: string; arn: string }[] = [];
  if (options.stateMachineArn) {
    machines.push({ label: 'machine', arn: options.stateMachineArn });
  } else {
    const needed =
      options.machine === 'all'
        ? (['batchStateMachineArn', 'ingestStateMachineArn'] as const)
        : options.machine === 'batch'
          ? (['batchStateMachineArn'] as const)
          : (['ingestStateMachineArn'] as const);
    const targets = (await resolveTargets(clients, options, needed)) as Partial<
      Record<(typeof needed)[number], string>
    >;
    if (targets.batchStateMachineArn) machines.push({ label: 'batch', arn: targets.batchStateMachineArn });
    if (targets.ingestStateMachineArn) machines.push({ label: 'ingest', arn: targets.ingestStateMachineArn });
  }
  const { listExecutions } = await import('../../adapters/aws/deployment.ts');
  for (const m of machines) {
    const executions = await listExecutions(clients.sfn, {
      stateMachineArn: m.arn,
      max,
      ...(options.status ? { status: options.status } : {}),
    });
    io.out(
      `${m.label} state machine: ${executions.length === 0 ? 'no executions' : `${executions.length} most recent`}${options.status ? ` (${options.status})` : ''}\n`,
    );
    for (const e of executions) {
      const started = e.startDate ? e.startDate.toISOString().slice(0, 16).replace('T', ' ') : '';
      io.out(
        `  ${e.status.padEnd(10)} ${started.padEnd(16)} ${duration(e).padStart(6)}  ${e.executionArn}\n`,
      );
    }
  }
  return EXIT.ok;
}

/** `docbatch executions`: what ran lately, and which failed. */
export function registerExecutions(program: Command, io: Io): void {
  const command = program
    .command('executions')
    .description('List recent executions of a deployed stack’s state machines (newest first).')
    .addOption(
      new Option('--status <status>', 'only executions with this status').choices(EXECUTION_STATUSES),
    )
    .addOption(
      new Option('--machine <machine>', 'which state machine')
        .choices(['batch', 'ingest', 'all'])
        .default('all'),
    )
    .option('--max <n>', 'executions per state machine', '20');
  addStackOptions(command, { stateMachine: true })
    .addHelpText(
      'after',
      `
Examples:
  $ docbatch executions --stack Docbatch
  $ docbatch executions --stack Docbatch --status FAILED --machine ingest
  $ docbatch executions --machine batch --max 5

A FAILED ingest execution is usually a rejected upload (rejected/<docId>.json says why); follow
any execution with docbatch watch <executionArn>.`,
    )
    .action(async (opts: ExecutionsOptions) => {
      process.exitCode = await listStackExecutions(opts, await operatorClients(opts.region), io);
    });
}
