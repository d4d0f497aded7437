import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CreateModelInvocationJobInput,
  type GetModelInvocationJobOutput,
  LocalBedrockBatch,
  type LocalBedrockBatchOptions,
} from '../../../../../src/adapters/local/bedrock/batch-emulator.ts';
import { FsStore } from '../../../../../src/adapters/local/fs-store.ts';
import { claudeBody, RECEIPT_TEXT } from './helpers.ts';

const MODEL = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const BUCKET = 'docbatch-local';
const REAL_INPUT = join(
  import.meta.dirname,
  '../../../../../../shared/corpora/bedrock-batch/serverless-patterns-input.jsonl',
);

let root: string;
let store: FsStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'docbatch-bedrock-'));
  store = new FsStore(root, BUCKET);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function recordId(i: number): string {
  return `Rec${String(i).padStart(8, '0')}`;
}

/** Writes `count` records (ids Rec00000000…) to `key`, one JSON line each. */
async function writeRecords(
  key: string,
  count: number,
  from = 0,
  body = claudeBody(RECEIPT_TEXT),
): Promise<string[]> {
  const ids: string[] = [];
  const lines: string[] = [];
  for (let i = from; i < from + count; i++) {
    ids.push(recordId(i));
    lines.push(JSON.stringify({ recordId: recordId(i), modelInput: body }));
  }
  await store.put(key, `${lines.join('\n')}\n`);
  return ids;
}

function jobRequest(overrides: Partial<CreateModelInvocationJobInput> = {}): CreateModelInvocationJobInput {
  return {
    JobName: 'docbatch-run-1',
    RoleArn: 'arn:aws:iam::123456789012:role/docbatch-bedrock-batch',
    ModelId: MODEL,
    InputDataConfig: { S3InputDataConfig: { S3Uri: `s3://${BUCKET}/runs/r1/input/` } },
    OutputDataConfig: { S3OutputDataConfig: { S3Uri: `s3://${BUCKET}/runs/r1/output/` } },
    ...overrides,
  };
}

function emulator(options: Partial<LocalBedrockBatchOptions> = {}): LocalBedrockBatch {
  return new LocalBedrockBatch({ store, minRecordsPerJob: 3, ...options });
}

/** Polls until a terminal status; returns every status seen, in order. */
async function pollToEnd(bedrock: LocalBedrockBatch, arn: string): Promise<GetModelInvocationJobOutput[]> {
  const seen: GetModelInvocationJobOutput[] = [];
  for (let i = 0; i < 50; i++) {
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: arn });
    seen.push(job);
    if (['Completed', 'Failed', 'Stopped', 'PartiallyCompleted', 'Expired'].includes(job.Status)) return seen;
  }
  throw new Error('job never reached a terminal status');
}

async function readJsonLines(key: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const line of store.lines(key)) out.push(JSON.parse(line) as Record<string, unknown>);
  return out;
}

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix)) out.push(info.key);
  return out;
}

function jobIdOf(arn: string): string {
  return arn.split('/').pop() ?? '';
}

describe('Function: LocalBedrockBatch.createModelInvocationJob', () => {
  it('returns a model-invocation-job ARN with a 12-character job id', async () => {
    // Prepare
    const bedrock = emulator({ region: 'eu-west-1', accountId: '111122223333' });

    // Act
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());

    // Assess
    expect(JobArn).toMatch(/^arn:aws:bedrock:eu-west-1:111122223333:model-invocation-job\/[a-z0-9]{12}$/);
  });

  it('returns the same job for the same ClientRequestToken', async () => {
    // Prepare
    const bedrock = emulator();

    // Act
    const first = await bedrock.createModelInvocationJob(
      jobRequest({ ClientRequestToken: 'run-2024-01-01' }),
    );
    const again = await bedrock.createModelInvocationJob(
      jobRequest({ ClientRequestToken: 'run-2024-01-01' }),
    );
    const other = await bedrock.createModelInvocationJob(
      jobRequest({ ClientRequestToken: 'run-2024-01-02' }),
    );

    // Assess
    expect(again.JobArn).toBe(first.JobArn);
    expect(other.JobArn).not.toBe(first.JobArn);
  });

  it.each([
    ['a job name with an underscore', { JobName: 'docbatch_run' }],
    ['a job name longer than 63 characters', { JobName: 'a'.repeat(64) }],
    ['a timeout under 24 hours', { TimeoutDurationInHours: 12 }],
    ['a timeout over 168 hours', { TimeoutDurationInHours: 169 }],
    [
      'an input URI in another bucket',
      { InputDataConfig: { S3InputDataConfig: { S3Uri: 's3://elsewhere/in/' } } },
    ],
    [
      'an output URI that is not an S3 URI',
      { OutputDataConfig: { S3OutputDataConfig: { S3Uri: '/tmp/out' } } },
    ],
    ['a role that is not an IAM role ARN', { RoleArn: 'docbatch-role' }],
  ])('throws Bedrock.ValidationException for %s', async (_case, overrides) => {
    // Prepare
    const bedrock = emulator();

    // Act
    const call = bedrock.createModelInvocationJob(
      jobRequest(overrides as Partial<CreateModelInvocationJobInput>),
    );

    // Assess
    await expect(call).rejects.toMatchObject({ name: 'Bedrock.ValidationException' });
  });

  it('throws Bedrock.ThrottlingException for the first throttled creates, then creates', async () => {
    // Prepare
    const bedrock = emulator({ faults: { throttleCreate: 2 } });

    // Act
    await expect(bedrock.createModelInvocationJob(jobRequest())).rejects.toMatchObject({
      name: 'Bedrock.ThrottlingException',
    });
    await expect(bedrock.createModelInvocationJob(jobRequest())).rejects.toMatchObject({
      name: 'Bedrock.ThrottlingException',
    });
    const created = await bedrock.createModelInvocationJob(jobRequest());

    // Assess
    expect(created.JobArn).toContain(':model-invocation-job/');
  });
});

describe('Function: LocalBedrockBatch.getModelInvocationJob', () => {
  it('returns each status for ticksPerStatus calls, in Bedrock order, then Completed', async () => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 3);
    const bedrock = emulator({ ticksPerStatus: 2 });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest({ TimeoutDurationInHours: 48 }));

    // Act
    const seen = await pollToEnd(bedrock, JobArn);

    // Assess
    expect(seen.map((j) => j.Status)).toEqual([
      'Submitted',
      'Submitted',
      'Validating',
      'Validating',
      'Scheduled',
      'Scheduled',
      'InProgress',
      'InProgress',
      'Completed',
    ]);
    const done = seen[seen.length - 1];
    expect(done).toMatchObject({
      JobArn,
      JobName: 'docbatch-run-1',
      ModelId: MODEL,
      TimeoutDurationInHours: 48,
      TotalRecordCount: 3,
      ProcessedRecordCount: 3,
      SuccessRecordCount: 3,
      ErrorRecordCount: 0,
    });
    expect(Date.parse(done?.EndTime ?? '')).not.toBeNaN();
    expect(Date.parse(done?.JobExpirationTime ?? '') - Date.parse(done?.SubmitTime ?? '')).toBe(
      48 * 3_600_000,
    );
  });

  it('returns the job by bare id as well as by ARN', async () => {
    // Prepare
    const bedrock = emulator();
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());

    // Act
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: jobIdOf(JobArn) });

    // Assess
    expect(job.JobArn).toBe(JobArn);
  });

  it('throws Bedrock.ResourceNotFoundException for an unknown job', async () => {
    // Prepare
    const bedrock = emulator();

    // Act
    const call = bedrock.getModelInvocationJob({
      JobIdentifier: 'arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl',
    });

    // Assess
    await expect(call).rejects.toMatchObject({ name: 'Bedrock.ResourceNotFoundException' });
  });

  it('returns output files per input file (sub-folders kept) and a manifest under the job id', async () => {
    // Prepare
    const first = await writeRecords('runs/r1/input/part-0001.jsonl', 2);
    const second = await writeRecords('runs/r1/input/more/part-0002.jsonl', 2, 2);
    const bedrock = emulator({ ticksPerStatus: 0 });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());
    const id = jobIdOf(JobArn);

    // Act
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Assess
    expect(job.Status).toBe('Completed');
    expect(await keys('runs/r1/output/')).toEqual([
      `runs/r1/output/${id}/manifest.json.out`,
      `runs/r1/output/${id}/more/part-0002.jsonl.out`,
      `runs/r1/output/${id}/part-0001.jsonl.out`,
    ]);
    const lines = await readJsonLines(`runs/r1/output/${id}/part-0001.jsonl.out`);
    expect(lines.map((l) => l['recordId'])).toEqual(first);
    expect(lines[0]).toMatchObject({
      modelInput: claudeBody(RECEIPT_TEXT),
      modelOutput: {
        type: 'message',
        stop_reason: 'tool_use',
        content: [{ type: 'tool_use', input: { total: 22.65 } }],
      },
    });
    expect(
      (await readJsonLines(`runs/r1/output/${id}/more/part-0002.jsonl.out`)).map((l) => l['recordId']),
    ).toEqual(second);
    const manifest = JSON.parse(await store.getText(`runs/r1/output/${id}/manifest.json.out`)) as Record<
      string,
      number
    >;
    expect(manifest).toEqual({
      totalRecordCount: 4,
      processedRecordCount: 4,
      successRecordCount: 4,
      errorRecordCount: 0,
      inputTokenCount: expect.any(Number),
      outputTokenCount: expect.any(Number),
    });
    const usage = lines[0]?.['modelOutput'] as { usage: { input_tokens: number; output_tokens: number } };
    expect(manifest['inputTokenCount']).toBe(4 * usage.usage.input_tokens);
    expect(manifest['outputTokenCount']).toBe(4 * usage.usage.output_tokens);
  });

  it('returns output for a single input file named by its full URI', async () => {
    // Prepare
    await writeRecords('runs/r1/input/only.jsonl', 3);
    const bedrock = emulator({ ticksPerStatus: 0 });
    const { JobArn } = await bedrock.createModelInvocationJob(
      jobRequest({
        InputDataConfig: {
          S3InputDataConfig: { S3Uri: `s3://${BUCKET}/runs/r1/input/only.jsonl`, S3InputFormat: 'JSONL' },
        },
      }),
    );

    // Act
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Assess
    expect(job.Status).toBe('Completed');
    expect(await store.head(`runs/r1/output/${jobIdOf(JobArn)}/only.jsonl.out`)).toBeDefined();
  });

  it('returns Failed with a message naming the minimum when there are too few records', async () => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 5);
    const bedrock = emulator({ minRecordsPerJob: 100, ticksPerStatus: 0 });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());

    // Act
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Assess
    expect(job.Status).toBe('Failed');
    expect(job.Message).toBe('The number of records (5) is below the minimum of 100 required for this model');
    expect(await keys('runs/r1/output/')).toEqual([]);
  });

  it('returns Completed when the per-model minimum allows the job', async () => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 5);
    const bedrock = emulator({ minRecordsPerJob: 100, minRecordsByModel: { [MODEL]: 5 }, ticksPerStatus: 0 });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());

    // Act
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Assess
    expect(job.Status).toBe('Completed');
  });

  it.each([
    ['a line that is not JSON', '{"recordId": "Rec00000099", "modelInput": '],
    ['a line without recordId', JSON.stringify({ modelInput: claudeBody(RECEIPT_TEXT) })],
    [
      'a line whose modelInput is not an object',
      JSON.stringify({ recordId: 'Rec00000099', modelInput: 'hello' }),
    ],
  ])('returns Failed for an input with %s', async (_case, badLine) => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 3);
    await store.put('runs/r1/input/part-0002.jsonl', `${badLine}\n`);
    const bedrock = emulator({ ticksPerStatus: 0 });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());

    // Act
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Assess
    expect(job.Status).toBe('Failed');
    expect(job.Message).toContain('part-0002.jsonl');
  });

  it('returns Failed for an input prefix holding a file that is not .jsonl', async () => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 3);
    await store.put('runs/r1/input/index.json', '{}');
    const bedrock = emulator({ ticksPerStatus: 0 });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());

    // Act
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Assess
    expect(job).toMatchObject({ Status: 'Failed', Message: expect.stringContaining('.jsonl') });
  });

  it('returns Completed with per-record errors for malformed bodies and failing records', async () => {
    // Prepare
    const ids = await writeRecords('runs/r1/input/part-0001.jsonl', 3);
    const bad = claudeBody(RECEIPT_TEXT, { modelId: MODEL });
    await store.put(
      'runs/r1/input/part-0002.jsonl',
      `${JSON.stringify({ recordId: 'Rec00000010', modelInput: bad })}\n`,
    );
    const bedrock = emulator({ ticksPerStatus: 0, faults: { failRecordIds: [ids[1] ?? ''] } });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());
    const id = jobIdOf(JobArn);

    // Act
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Assess
    expect(job).toMatchObject({ Status: 'Completed', SuccessRecordCount: 2, ErrorRecordCount: 2 });
    const part1 = await readJsonLines(`runs/r1/output/${id}/part-0001.jsonl.out`);
    expect(part1[1]).toEqual({
      recordId: ids[1],
      modelInput: claudeBody(RECEIPT_TEXT),
      error: { errorCode: 500, errorMessage: expect.any(String) },
    });
    expect(part1[1]).not.toHaveProperty('modelOutput');
    const part2 = await readJsonLines(`runs/r1/output/${id}/part-0002.jsonl.out`);
    expect(part2[0]).toMatchObject({
      recordId: 'Rec00000010',
      error: { errorCode: 400, errorMessage: expect.stringContaining('modelId') },
    });
    const manifest = JSON.parse(await store.getText(`runs/r1/output/${id}/manifest.json.out`)) as Record<
      string,
      number
    >;
    expect(manifest).toMatchObject({
      totalRecordCount: 4,
      processedRecordCount: 4,
      successRecordCount: 2,
      errorRecordCount: 2,
    });
  });

  it('returns Completed when every record errors: validation does not check bodies', async () => {
    // Prepare
    const { anthropic_version: _v, ...noVersion } = claudeBody(RECEIPT_TEXT);
    await writeRecords('runs/r1/input/part-0001.jsonl', 3, 0, noVersion);
    const bedrock = emulator({ ticksPerStatus: 0 });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());

    // Act
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Assess
    expect(job).toMatchObject({ Status: 'Completed', SuccessRecordCount: 0, ErrorRecordCount: 3 });
  });

  it('returns the same records in a shuffled order when faults.shuffle is set', async () => {
    // Prepare
    const ids = await writeRecords('runs/r1/input/part-0001.jsonl', 30);
    const bedrock = emulator({ ticksPerStatus: 0, faults: { shuffle: true } });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());
    await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Act
    const lines = await readJsonLines(`runs/r1/output/${jobIdOf(JobArn)}/part-0001.jsonl.out`);

    // Assess
    const order = lines.map((l) => l['recordId']);
    expect(order).not.toEqual(ids);
    expect([...order].sort()).toEqual(ids);
  });

  it('returns Failed without output when faults.terminalStatus is Failed', async () => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 4);
    const bedrock = emulator({ faults: { terminalStatus: 'Failed' } });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());

    // Act
    const seen = await pollToEnd(bedrock, JobArn);

    // Assess
    const last = seen[seen.length - 1];
    expect(seen.map((j) => j.Status)).toContain('InProgress');
    expect(last).toMatchObject({ Status: 'Failed', Message: expect.any(String) });
    expect(await keys('runs/r1/output/')).toEqual([]);
  });

  it('returns Expired without ever starting when faults.terminalStatus is Expired', async () => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 4);
    const bedrock = emulator({ faults: { terminalStatus: 'Expired' } });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());

    // Act
    const seen = await pollToEnd(bedrock, JobArn);

    // Assess
    expect(seen.map((j) => j.Status)).toEqual(['Submitted', 'Validating', 'Scheduled', 'Expired']);
    expect(await keys('runs/r1/output/')).toEqual([]);
  });

  it.each([
    ['PartiallyCompleted', ['Submitted', 'Validating', 'Scheduled', 'InProgress', 'PartiallyCompleted']],
    ['Stopped', ['Submitted', 'Validating', 'Scheduled', 'InProgress', 'Stopping', 'Stopped']],
  ] as const)('returns %s with output for about half the records', async (terminalStatus, statuses) => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 10);
    const bedrock = emulator({ faults: { terminalStatus } });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());
    const id = jobIdOf(JobArn);

    // Act
    const seen = await pollToEnd(bedrock, JobArn);

    // Assess
    expect(seen.map((j) => j.Status)).toEqual(statuses);
    expect(seen[seen.length - 1]).toMatchObject({ TotalRecordCount: 10, ProcessedRecordCount: 5 });
    expect(await readJsonLines(`runs/r1/output/${id}/part-0001.jsonl.out`)).toHaveLength(5);
    const manifest = JSON.parse(await store.getText(`runs/r1/output/${id}/manifest.json.out`)) as Record<
      string,
      number
    >;
    expect(manifest).toMatchObject({ totalRecordCount: 10, processedRecordCount: 5, successRecordCount: 5 });
  });

  it.skipIf(!existsSync(REAL_INPUT))('returns Completed for a real Bedrock batch input file', async () => {
    // Prepare
    const body = readFileSync(REAL_INPUT, 'utf8');
    const records = body.split('\n').filter((l) => l.trim() !== '').length;
    await store.put('runs/real/input/input.jsonl', body);
    const bedrock = new LocalBedrockBatch({ store, ticksPerStatus: 0 });
    const { JobArn } = await bedrock.createModelInvocationJob(
      jobRequest({
        InputDataConfig: { S3InputDataConfig: { S3Uri: `s3://${BUCKET}/runs/real/input/` } },
        OutputDataConfig: { S3OutputDataConfig: { S3Uri: `s3://${BUCKET}/runs/real/output/` } },
      }),
    );

    // Act
    const job = await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Assess
    expect(records).toBeGreaterThanOrEqual(100);
    expect(job).toMatchObject({
      Status: 'Completed',
      TotalRecordCount: records,
      SuccessRecordCount: records,
    });
  });
});

describe('Function: LocalBedrockBatch.stopModelInvocationJob', () => {
  it('returns {} and the job goes Stopping then Stopped, without output before it started', async () => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 4);
    const bedrock = emulator();
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());
    await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Act
    const result = await bedrock.stopModelInvocationJob({ JobIdentifier: JobArn });
    const seen = await pollToEnd(bedrock, JobArn);

    // Assess
    expect(result).toEqual({});
    expect(seen.map((j) => j.Status)).toEqual(['Stopping', 'Stopped']);
    expect(await keys('runs/r1/output/')).toEqual([]);
  });

  it('returns partial output when the job is stopped while in progress', async () => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 4);
    const bedrock = emulator();
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());
    for (let i = 0; i < 3; i++) await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Act
    await bedrock.stopModelInvocationJob({ JobIdentifier: JobArn });
    const seen = await pollToEnd(bedrock, JobArn);

    // Assess
    expect(seen[seen.length - 1]).toMatchObject({ Status: 'Stopped', ProcessedRecordCount: 2 });
    expect(await readJsonLines(`runs/r1/output/${jobIdOf(JobArn)}/part-0001.jsonl.out`)).toHaveLength(2);
  });

  it('throws Bedrock.ValidationException for a job that already ended', async () => {
    // Prepare
    await writeRecords('runs/r1/input/part-0001.jsonl', 3);
    const bedrock = emulator({ ticksPerStatus: 0 });
    const { JobArn } = await bedrock.createModelInvocationJob(jobRequest());
    await bedrock.getModelInvocationJob({ JobIdentifier: JobArn });

    // Act
    const call = bedrock.stopModelInvocationJob({ JobIdentifier: JobArn });

    // Assess
    await expect(call).rejects.toMatchObject({ name: 'Bedrock.ValidationException' });
  });
});
