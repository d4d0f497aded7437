import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { consoleUrl } from '../../../src/cli/aws-stack.ts';
import { watchExecution } from '../../../src/cli/commands/watch.ts';
import { EXIT, main } from '../../../src/cli/main.ts';

// aws-sdk-client-mock replaces `send` on every instance of a client class, so the commands run
// exactly as from a terminal (the action builds real clients) and stop at the client boundary.
const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);

const ACCOUNT = '123456789012';
const BATCH_ARN = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:BatchStateMachine-abc`;
const INGEST_ARN = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:IngestStateMachine-def`;
const execArn = (machine: string, name: string) =>
  `arn:aws:states:eu-west-1:${ACCOUNT}:execution:${machine}:${name}`;

let dir: string;
let out: string;
let err: string;
const io = {
  out: (t: string) => {
    out += t;
  },
  err: (t: string) => {
    err += t;
  },
};
const run = (...args: string[]) => main(['node', 'docbatch', ...args], io);

function stackOutputs(): void {
  cfn.on(DescribeStacksCommand, { StackName: 'Docbatch' }).resolves({
    Stacks: [
      {
        StackName: 'Docbatch',
        StackStatus: 'CREATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: [
          { OutputKey: 'BucketName', OutputValue: 'docs-bucket' },
          { OutputKey: 'IngestStateMachineArn', OutputValue: INGEST_ARN },
          { OutputKey: 'BatchStateMachineArn', OutputValue: BATCH_ARN },
        ],
      },
    ],
  });
}

const savedEnv = { ...process.env };
beforeAll(() => {
  // Clients are built as on an operator's machine; nothing leaves the process (send is mocked).
  process.env['AWS_REGION'] = 'eu-west-1';
  process.env['AWS_ACCESS_KEY_ID'] = 'test';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'test';
  delete process.env['DOCBATCH_STACK'];
});
afterAll(() => {
  process.env = savedEnv;
});

beforeEach(async () => {
  cfn.reset();
  s3.reset();
  sfn.reset();
  stackOutputs();
  dir = await mkdtemp(join(tmpdir(), 'docbatch-aws-cli-'));
  out = '';
  err = '';
  process.exitCode = undefined;
});

afterEach(async () => {
  process.exitCode = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('CLI: docbatch upload', () => {
  it('puts each file under incoming/<type>/ in the stack’s bucket', async () => {
    const file = join(dir, 'acme invoice.pdf');
    await writeFile(file, '%PDF-1.7 test');
    s3.on(PutObjectCommand).resolves({});
    expect(await run('upload', file, '--type', 'invoice', '--stack', 'Docbatch')).toBe(EXIT.ok);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      Bucket: 'docs-bucket',
      Key: 'incoming/invoice/acme invoice.pdf',
      ContentType: 'application/pdf',
    });
    expect(out).toMatch(
      /uploaded .*acme invoice\.pdf → s3:\/\/docs-bucket\/incoming\/invoice\/acme invoice\.pdf/,
    );
  });

  it('takes each file’s type from its folder and skips DescribeStacks when --bucket is given', async () => {
    await mkdir(join(dir, 'receipt'));
    await writeFile(join(dir, 'receipt', 'cafe.png'), 'png');
    s3.on(PutObjectCommand).resolves({});
    expect(await run('upload', dir, '--bucket', 'other-bucket')).toBe(EXIT.ok);
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'other-bucket',
      Key: 'incoming/receipt/cafe.png',
    });
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  it('sends a large file as a multipart upload', async () => {
    const file = join(dir, 'scan.tiff');
    await writeFile(file, Buffer.alloc(9 * 1024 * 1024, 1));
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCommand).resolves({ ETag: 'e' });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    expect(await run('upload', file, '--type', 'invoice')).toBe(EXIT.ok);
    expect(s3.commandCalls(UploadPartCommand)).toHaveLength(2);
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'docs-bucket',
      Key: 'incoming/invoice/scan.tiff',
      ContentType: 'image/tiff',
    });
  });

  it('returns 1 with one line naming the stack when it does not exist', async () => {
    cfn.reset();
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
    const file = join(dir, 'a.pdf');
    await writeFile(file, '%PDF');
    expect(await run('upload', file, '--type', 'invoice', '--stack', 'Nope')).toBe(EXIT.cannotStart);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/stack "Nope" does not exist .*npx cdk deploy/);
  });

  it('returns 1 when a folder name is not a type name', async () => {
    await mkdir(join(dir, 'my scans'));
    await writeFile(join(dir, 'my scans', 'a.pdf'), '%PDF');
    expect(await run('upload', join(dir, 'my scans'))).toBe(EXIT.cannotStart);
    expect(err).toMatch(/document type "my scans".*--type/);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('CLI: docbatch start-batch', () => {
  it('starts the stack’s batch machine with a run-id name and prints the console URL', async () => {
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: execArn('BatchStateMachine-abc', input.name),
      startDate: new Date(),
    }));
    expect(await run('start-batch', '--stack', 'Docbatch')).toBe(EXIT.ok);
    const input = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(input?.stateMachineArn).toBe(BATCH_ARN);
    expect(input?.name).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
    expect(input?.input).toBe('{}');
    const arn = execArn('BatchStateMachine-abc', input?.name ?? '');
    expect(out).toContain(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${arn}`,
    );
  });

  it('uses --name and --state-machine-arn as given', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: execArn('M', 'rerun-1'), startDate: new Date() });
    const other = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:M`;
    expect(await run('start-batch', '--name', 'rerun-1', '--state-machine-arn', other)).toBe(EXIT.ok);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toMatchObject({
      name: 'rerun-1',
      stateMachineArn: other,
    });
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  it('refuses a name that cannot be a run id', async () => {
    expect(await run('start-batch', '--name', 'night_1')).toBe(EXIT.cannotStart);
    expect(err).toMatch(/--name "night_1" cannot be a run id/);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('returns 1 with the call and the service’s reason when StartExecution fails', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    expect(await run('start-batch', '--name', 'again')).toBe(EXIT.cannotStart);
    expect(err).toMatch(
      /^docbatch: StartExecution failed: ExecutionAlreadyExists: Execution Already Exists\n$/,
    );
  });
});

describe('CLI: docbatch executions', () => {
  it('lists both machines, filtered by status, one line per execution with its ARN', async () => {
    const started = new Date('2026-11-24T02:00:00Z');
    sfn.on(ListExecutionsCommand, { stateMachineArn: BATCH_ARN }).resolves({
      executions: [
        {
          executionArn: execArn('BatchStateMachine-abc', 'r1'),
          stateMachineArn: BATCH_ARN,
          name: 'r1',
          status: 'FAILED',
          startDate: started,
          stopDate: new Date(started.getTime() + 90 * 60_000),
        },
      ],
    });
    sfn.on(ListExecutionsCommand, { stateMachineArn: INGEST_ARN }).resolves({ executions: [] });
    expect(await run('executions', '--status', 'FAILED')).toBe(EXIT.ok);
    for (const call of sfn.commandCalls(ListExecutionsCommand))
      expect(call.args[0].input.statusFilter).toBe('FAILED');
    expect(out).toContain('batch state machine: 1 most recent (FAILED)');
    expect(out).toMatch(
      /FAILED\s+2026-11-24 02:00\s+90m\s+arn:aws:states:eu-west-1:123456789012:execution:BatchStateMachine-abc:r1/,
    );
    expect(out).toContain('ingest state machine: no executions');
  });

  it('refuses an unknown status with the allowed ones', async () => {
    expect(await run('executions', '--status', 'BROKEN')).toBe(EXIT.cannotStart);
    expect(err).toMatch(/Allowed choices are RUNNING, SUCCEEDED, FAILED/);
  });
});

/** History events as GetExecutionHistory returns them. */
function event(id: number, type: string, details: Partial<HistoryEvent> = {}): HistoryEvent {
  return {
    id,
    type: type as HistoryEvent['type'],
    timestamp: new Date(Date.UTC(2026, 10, 24, 2, 0, id)),
    ...details,
  };
}
const entered = (id: number, type: string, name: string) =>
  event(id, type, { stateEnteredEventDetails: { name } });
const exited = (id: number, type: string, name: string, output: unknown) =>
  event(id, type, { stateExitedEventDetails: { name, output: JSON.stringify(output) } });

describe('Function: watchExecution', () => {
  const arn = execArn('BatchStateMachine-abc', 'r1');
  const firstPoll = [
    event(1, 'ExecutionStarted'),
    entered(2, 'TaskStateEntered', 'Assemble'),
    event(3, 'LambdaFunctionFailed', {
      lambdaFunctionFailedEventDetails: {
        error: 'RetryableError',
        cause: 'GetObject failed after retries: SlowDown',
      },
    }),
    entered(4, 'MapStateEntered', 'RunJobs'),
    entered(5, 'TaskStateEntered', 'GetJob'),
    exited(6, 'TaskStateExited', 'GetJob', { job: { job: 1 }, status: { Status: 'InProgress' } }),
    entered(7, 'WaitStateEntered', 'WaitForJob'),
  ];
  const secondPoll = [
    exited(8, 'TaskStateExited', 'GetJob', { job: { job: 1 }, status: { Status: 'InProgress' } }),
    exited(9, 'TaskStateExited', 'GetJob', { job: { job: 1 }, status: { Status: 'Completed' } }),
    exited(10, 'PassStateExited', 'BatchJobEnded', {
      job: 1,
      mode: 'batch',
      status: 'Completed',
      jobArn: 'x',
    }),
    exited(11, 'TaskStateExited', 'InvokeOnDemand', { job: 2, mode: 'on-demand', status: 'Completed' }),
    entered(12, 'TaskStateEntered', 'Collect'),
    entered(13, 'TaskStateEntered', 'Report'),
    event(14, 'ExecutionSucceeded'),
  ];

  it('prints states entered and job statuses as they change, then the run summary', async () => {
    let polls = 0;
    sfn.on(GetExecutionHistoryCommand).callsFake((input: { reverseOrder?: boolean }) => {
      expect(input.reverseOrder).toBe(true);
      polls++;
      const events = polls === 1 ? firstPoll : [...firstPoll, ...secondPoll];
      return { events: [...events].reverse() };
    });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: arn,
      stateMachineArn: BATCH_ARN,
      name: 'r1',
      status: 'SUCCEEDED',
      startDate: new Date(),
      output: JSON.stringify({ runId: 'r1', results: 3, rejected: 1, report: 'reports/r1.json' }),
    });
    const sleeps: number[] = [];
    const code = await watchExecution(arn, { interval: '30' }, { sfn: new SFNClient({}) }, io, async (ms) => {
      sleeps.push(ms);
    });
    expect(code).toBe(EXIT.rejected);
    expect(sleeps).toEqual([30_000]);
    const lines = out.split('\n');
    expect(lines[1]).toBe(`  console ${consoleUrl(arn)}`);
    expect(out).toContain('02:00:02  → Assemble');
    expect(out).toContain('  ! RetryableError: GetObject failed after retries: SlowDown');
    expect(out.match(/job 1 \(batch\): InProgress/g)).toHaveLength(1);
    expect(out).toContain('job 1 (batch): Completed');
    expect(out).toContain('job 2 (on-demand): Completed');
    expect(out).not.toContain('WaitForJob');
    expect(out).not.toContain('→ GetJob');
    expect(out.trimEnd().split('\n').at(-1)).toBe('run r1: 3 results, 1 rejected; report reports/r1.json');
  });

  it('returns 3 with the error when the batch execution failed', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        event(2, 'ExecutionFailed', { executionFailedEventDetails: { error: 'BatchRunFailed' } }),
        event(1, 'ExecutionStarted'),
      ],
    });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: arn,
      stateMachineArn: BATCH_ARN,
      name: 'r1',
      status: 'FAILED',
      startDate: new Date(),
      error: 'BatchRunFailed',
      cause: 'A run-level task failed',
    });
    expect(await watchExecution(arn, { interval: '1' }, { sfn: new SFNClient({}) }, io, async () => {})).toBe(
      EXIT.incomplete,
    );
    expect(out).toMatch(/execution r1 FAILED: BatchRunFailed \(A run-level task failed\)/);
  });

  it('returns 2 for an ingest execution that ended with the document rejected', async () => {
    const ingest = execArn('IngestStateMachine-def', 'e1');
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [event(1, 'ExecutionFailed')] });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: ingest,
      stateMachineArn: INGEST_ARN,
      name: 'e1',
      status: 'FAILED',
      startDate: new Date(),
      error: 'DocumentRejected',
    });
    expect(
      await watchExecution(ingest, { interval: '1' }, { sfn: new SFNClient({}) }, io, async () => {}),
    ).toBe(EXIT.rejected);
  });

  it('refuses something that is not an ARN before calling AWS', async () => {
    expect(await run('watch', 'r1')).toBe(EXIT.cannotStart);
    expect(err).toMatch(/"r1" is not an execution ARN/);
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('CLI: help', () => {
  it.each(['upload', 'start-batch', 'executions', 'watch'])('shows examples for %s', async (command) => {
    await run(command, '--help');
    expect(out).toMatch(/Examples:\n {2}\$ docbatch /);
  });
});
