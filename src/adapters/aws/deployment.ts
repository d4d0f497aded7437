/**
 * The AWS calls behind the operator commands (upload, start-batch, executions, watch), on injected
 * clients. They return plain shapes so the CLI formats output without touching the SDK.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { Upload } from '@aws-sdk/lib-storage';
import { ConfigError } from '../../errors.ts';
import { AwsRequestError } from './errors.ts';

/** The clients an operator command may need; commands take them injected so tests can mock them. */
export interface OperatorClients {
  s3: S3Client;
  sfn: SFNClient;
  cfn: CloudFormationClient;
}

/** Clients for the operator's machine: credentials from the SDK's default chain (AWS_PROFILE …). */
export function createOperatorClients(options: { region?: string } = {}): OperatorClients {
  const config = options.region ? { region: options.region } : {};
  return { s3: new S3Client(config), sfn: new SFNClient(config), cfn: new CloudFormationClient(config) };
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw new AwsRequestError(operation, error);
  }
}

/** `OutputKey → OutputValue` of a deployed stack. */
export async function describeStackOutputs(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<Record<string, string>> {
  let out: DescribeStacksCommandOutput;
  try {
    out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (error) {
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) {
      throw new ConfigError(
        `stack "${stackName}" does not exist in this account and region; deploy it with \`npx cdk deploy\`, or pass --stack NAME (and --region) for the one you deployed`,
      );
    }
    throw new AwsRequestError(`DescribeStacks ${stackName}`, error);
  }
  const outputs: Record<string, string> = {};
  for (const o of out.Stacks?.[0]?.Outputs ?? []) {
    if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  }
  return outputs;
}

/** Multipart above `partSize`, a single PutObject below: lib-storage chooses. */
export const UPLOAD_PART_SIZE = 8 * 1024 * 1024;

export async function uploadFile(
  s3: S3Client,
  target: { bucket: string; key: string; path: string; contentType?: string },
  onProgress?: (loaded: number, total: number) => void,
): Promise<{ size: number }> {
  const { size } = await stat(target.path);
  const upload = new Upload({
    client: s3,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: createReadStream(target.path),
      ContentLength: size,
      ...(target.contentType ? { ContentType: target.contentType } : {}),
    },
    partSize: UPLOAD_PART_SIZE,
    queueSize: 4,
  });
  if (onProgress) upload.on('httpUploadProgress', (p) => onProgress(p.loaded ?? 0, size));
  await call(`upload to s3://${target.bucket}/${target.key}`, () => upload.done());
  return { size };
}

export async function startExecution(
  sfn: SFNClient,
  request: { stateMachineArn: string; name: string; input?: unknown },
): Promise<{ executionArn: string; startDate?: Date }> {
  const out = await call('StartExecution', () =>
    sfn.send(
      new StartExecutionCommand({
        stateMachineArn: request.stateMachineArn,
        name: request.name,
        input: JSON.stringify(request.input ?? {}),
      }),
    ),
  );
  return { executionArn: out.executionArn ?? '', ...(out.startDate ? { startDate: out.startDate } : {}) };
}

export interface ExecutionSummary {
  name: string;
  executionArn: string;
  stateMachineArn: string;
  status: string;
  startDate?: Date;
  stopDate?: Date;
}

export async function listExecutions(
  sfn: SFNClient,
  request: { stateMachineArn: string; status?: string; max: number },
): Promise<ExecutionSummary[]> {
  const found: ExecutionSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('ListExecutions', () =>
      sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: request.stateMachineArn,
          maxResults: Math.min(1000, request.max - found.length),
          ...(request.status ? { statusFilter: request.status as ExecutionStatus } : {}),
          ...(nextToken ? { nextToken } : {}),
        }),
      ),
    );
    for (const e of page.executions ?? []) {
      found.push({
        name: e.name ?? '',
        executionArn: e.executionArn ?? '',
        stateMachineArn: e.stateMachineArn ?? request.stateMachineArn,
        status: e.status ?? 'UNKNOWN',
        ...(e.startDate ? { startDate: e.startDate } : {}),
        ...(e.stopDate ? { stopDate: e.stopDate } : {}),
      });
    }
    nextToken = page.nextToken;
  } while (nextToken && found.length < request.max);
  return found.slice(0, request.max);
}

export interface ExecutionDetail extends ExecutionSummary {
  output?: string;
  error?: string;
  cause?: string;
}

export async function describeExecution(sfn: SFNClient, executionArn: string): Promise<ExecutionDetail> {
  const e = await call('DescribeExecution', () => sfn.send(new DescribeExecutionCommand({ executionArn })));
  return {
    name: e.name ?? '',
    executionArn,
    stateMachineArn: e.stateMachineArn ?? '',
    status: e.status ?? 'UNKNOWN',
    ...(e.startDate ? { startDate: e.startDate } : {}),
    ...(e.stopDate ? { stopDate: e.stopDate } : {}),
    ...(e.output !== undefined ? { output: e.output } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
    ...(e.cause !== undefined ? { cause: e.cause } : {}),
  };
}

/** One history event, flattened to what progress lines need. */
export interface ExecutionEvent {
  id: number;
  type: string;
  timestamp?: Date;
  /** The state entered or exited. */
  state?: string;
  /** JSON text of a state's output (on *StateExited events). */
  output?: string;
  error?: string;
  cause?: string;
}

function flatten(e: HistoryEvent): ExecutionEvent {
  const failure =
    e.taskFailedEventDetails ??
    e.lambdaFunctionFailedEventDetails ??
    e.lambdaFunctionTimedOutEventDetails ??
    e.taskTimedOutEventDetails ??
    e.executionFailedEventDetails ??
    e.executionTimedOutEventDetails ??
    e.executionAbortedEventDetails ??
    e.mapIterationFailedEventDetails;
  const entered = e.stateEnteredEventDetails;
  const exited = e.stateExitedEventDetails;
  return {
    id: e.id ?? 0,
    type: e.type ?? 'Unknown',
    ...(e.timestamp ? { timestamp: e.timestamp } : {}),
    ...(entered?.name ? { state: entered.name } : exited?.name ? { state: exited.name } : {}),
    ...(exited?.output !== undefined ? { output: exited.output } : {}),
    ...(failure && 'error' in failure && failure.error !== undefined ? { error: failure.error } : {}),
    ...(failure && 'cause' in failure && failure.cause !== undefined ? { cause: failure.cause } : {}),
  };
}

/**
 * The events after `afterId`, oldest first. Reads newest first and stops at the first event already
 * seen, so a poll of a long execution costs one call, not a re-read of its whole history.
 */
export async function historySince(
  sfn: SFNClient,
  executionArn: string,
  afterId: number,
): Promise<ExecutionEvent[]> {
  const fresh: ExecutionEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call('GetExecutionHistory', () =>
      sfn.send(
        new GetExecutionHistoryCommand({
          executionArn,
          reverseOrder: true,
          maxResults: 1000,
          ...(nextToken ? { nextToken } : {}),
        }),
      ),
    );
    for (const e of page.events ?? []) {
      if ((e.id ?? 0) <= afterId) return fresh.reverse();
      fresh.push(flatten(e));
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return fresh.reverse();
}
