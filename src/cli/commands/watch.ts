import type { Command } from 'commander';
import type { ExecutionDetail, ExecutionEvent, OperatorClients } from '../../adapters/aws/deployment.ts';
import { ConfigError } from '../../errors.ts';
import { consoleUrl, operatorClients, regionOfArn } from '../aws-stack.ts';
import { EXIT, type Io } from '../io.ts';

export interface WatchOptions {
  interval: string;
}

const TERMINAL_EVENTS = new Set([
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionTimedOut',
  'ExecutionAborted',
]);
const FAILURE_EVENTS = new Set([
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'TaskFailed',
  'TaskTimedOut',
  'LambdaFunctionStartFailed',
  'TaskStartFailed',
]);
/** Entering these repeats every poll; their exits are shown instead, when the status changes. */
const QUIET_ENTERED = new Set(['WaitStateEntered', 'ChoiceStateEntered']);
const POLL_STATES = new Set(['GetJob', 'GetTextractStatus']);

function parse(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const obj = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined);

/**
 * Turns history events into progress lines: states entered, job statuses as they change, task
 * failures (retried or caught). Keeps what it has shown, so repeated polls print only news.
 */
export class ProgressPrinter {
  readonly #io: Io;
  readonly #jobStatus = new Map<string, string>();

  constructor(io: Io) {
    this.#io = io;
  }

  #line(e: ExecutionEvent, text: string): void {
    const time = e.timestamp ? e.timestamp.toISOString().slice(11, 19) : '        ';
    this.#io.out(`${time}  ${text}\n`);
  }

  #status(e: ExecutionEvent, key: string, text: string, status: string): void {
    if (this.#jobStatus.get(key) === status) return;
    this.#jobStatus.set(key, status);
    this.#line(e, text);
  }

  show(e: ExecutionEvent): void {
    if (e.type.endsWith('StateEntered') && e.state) {
      if (!QUIET_ENTERED.has(e.type) && !POLL_STATES.has(e.state)) this.#line(e, `→ ${e.state}`);
      return;
    }
    if (FAILURE_EVENTS.has(e.type)) {
      const cause = (e.cause ?? '').split('\n')[0]?.slice(0, 160) ?? '';
      this.#line(e, `  ! ${e.error ?? e.type}${cause ? `: ${cause}` : ''}`);
      return;
    }
    if (!e.type.endsWith('StateExited') || !e.state) return;
    const out = parse(e.output);
    if (!out) return;
    if (e.state === 'GetTextractStatus') {
      const status = obj(out['textract'])?.['JobStatus'];
      if (typeof status === 'string') this.#status(e, 'textract', `  textract job ${status}`, status);
      return;
    }
    if (e.state === 'GetJob') {
      // The iteration's state: { job: <the planned job>, created: { JobArn }, status: { Status } }.
      const n = obj(out['job'])?.['job'] ?? '?';
      const status = obj(out['status'])?.['Status'];
      if (typeof status === 'string') this.#status(e, `job ${n}`, `  job ${n} (batch): ${status}`, status);
      return;
    }
    // A Map iteration's result: { job, mode, status, message? } (on-demand, ended, failed, not run).
    if (
      typeof out['job'] === 'number' &&
      typeof out['status'] === 'string' &&
      typeof out['mode'] === 'string'
    ) {
      const message = typeof out['message'] === 'string' ? `: ${out['message']}` : '';
      this.#status(
        e,
        `job ${out['job']}`,
        `  job ${out['job']} (${out['mode']}): ${out['status']}${message}`,
        `${out['status']}${message}`,
      );
    }
  }
}

/** The closing lines: the run summary (batch) or the document's route (ingest), and the exit code. */
export function summarize(detail: ExecutionDetail, io: Io): number {
  const out = parse(detail.output);
  if (detail.status === 'SUCCEEDED') {
    if (out && typeof out['runId'] === 'string' && typeof out['rejected'] === 'number') {
      const results = typeof out['results'] === 'number' ? out['results'] : 0;
      const report = typeof out['report'] === 'string' ? `; report ${out['report']}` : '';
      io.out(`run ${out['runId']}: ${results} results, ${out['rejected']} rejected${report}\n`);
      return out['rejected'] > 0 ? EXIT.rejected : EXIT.ok;
    }
    if (out && typeof out['docId'] === 'string') {
      const staged = obj(out['staged']);
      const what =
        out['route'] === 'duplicate'
          ? 'already ingested (same bytes as an earlier upload)'
          : staged
            ? `staged in ${staged['chunks'] ?? '?'} chunk(s) for the next batch`
            : 'ingested';
      io.out(`document ${out['docId']} (${out['type'] ?? '?'}): ${what}\n`);
      return EXIT.ok;
    }
    io.out(`execution ${detail.name} SUCCEEDED\n`);
    return EXIT.ok;
  }
  io.out(
    `execution ${detail.name} ${detail.status}${detail.error ? `: ${detail.error}` : ''}${detail.cause ? ` (${detail.cause.split('\n')[0]?.slice(0, 200)})` : ''}\n`,
  );
  // An ingest execution ends in DocumentRejected on purpose: the document has its outcome.
  return detail.error === 'DocumentRejected' ? EXIT.rejected : EXIT.incomplete;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Follows an execution from its history until it ends, printing progress, then the summary from
 * its output. Returns the exit code: 0 success, 2 documents rejected, 3 failed/timed out/aborted.
 */
export async function watchExecution(
  executionArn: string,
  options: WatchOptions,
  clients: Pick<OperatorClients, 'sfn'>,
  io: Io,
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<number> {
  regionOfArn(executionArn);
  const interval = Number(options.interval);
  if (!Number.isFinite(interval) || interval < 1) {
    throw new ConfigError(`--interval must be a number of seconds ≥ 1 (received "${options.interval}")`);
  }
  const { describeExecution, historySince } = await import('../../adapters/aws/deployment.ts');
  io.out(`watching ${executionArn}\n  console ${consoleUrl(executionArn)}\n`);
  const printer = new ProgressPrinter(io);
  let lastId = 0;
  for (;;) {
    const events = await historySince(clients.sfn, executionArn, lastId);
    let ended = false;
    for (const e of events) {
      printer.show(e);
      lastId = Math.max(lastId, e.id);
      if (TERMINAL_EVENTS.has(e.type)) ended = true;
    }
    if (ended) break;
    await sleep(interval * 1000);
  }
  return summarize(await describeExecution(clients.sfn, executionArn), io);
}

/** `docbatch watch <executionArn>`: progress of one execution until it ends. */
export function registerWatch(program: Command, io: Io): void {
  program
    .command('watch')
    .description(
      'Follow one execution of a deployed state machine: states entered, batch job statuses, then the run summary.',
    )
    .argument('<executionArn>', 'as printed by docbatch start-batch or docbatch executions')
    .option('--interval <seconds>', 'seconds between polls of the execution history', '10')
    .addHelpText(
      'after',
      `
Examples:
  $ docbatch watch arn:aws:states:eu-west-1:123456789012:execution:BatchStateMachine-abc:20261124T020000Z-1a2b
  $ docbatch watch "$(docbatch executions --machine batch --max 1 | awk 'NR==2 {print $NF}')" --interval 60

Exit codes: 0 the execution succeeded with no rejected document, 2 documents were rejected,
3 the execution failed, timed out or was aborted. The region comes from the ARN.`,
    )
    .action(async (executionArn: string, opts: WatchOptions) => {
      process.exitCode = await watchExecution(
        executionArn,
        opts,
        await operatorClients(regionOfArn(executionArn)),
        io,
      );
    });
}
