/**
 * The Lambda entry points the stack deploys: each builds its adapters once and calls its task.
 * The tasks are replaced by spies here (they have their own tests); S3 stops at the client boundary.
 */
import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { S3Store } from '../../src/adapters/aws/s3-store.ts';
import { ConfigError, DocumentRejectedError, RetryableError, SchemaError } from '../../src/errors.ts';
import { HANDLER_ENTRIES, NEEDS_MUPDF } from '../../src/handlers/index.ts';
import { BUILTIN_SCHEMAS, loadStoreSchemas } from '../../src/handlers/schemas.ts';
import type { TaskContext } from '../../src/tasks/context.ts';
import { type TaskName, tasks } from '../../src/tasks/index.ts';

vi.mock('../../src/tasks/index.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/tasks/index.ts')>();
  return {
    ...actual,
    tasks: Object.fromEntries(Object.keys(actual.tasks).map((name) => [name, vi.fn()])),
  };
});

const s3 = mockClient(S3Client);
const MODEL = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const spy = (task: TaskName) => tasks[task] as unknown as ReturnType<typeof vi.fn>;
type Handler = (event: unknown) => Promise<unknown>;
const load = async (task: TaskName): Promise<Handler> =>
  ((await import(`../../src/handlers/${HANDLER_ENTRIES[task]}`)) as { handler: Handler }).handler;

const savedEnv = { ...process.env };
beforeAll(() => {
  process.env['AWS_REGION'] = 'eu-west-1';
  process.env['AWS_ACCESS_KEY_ID'] = 'test';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'test';
  process.env['DOCBATCH_BUCKET'] = 'docs-bucket';
  process.env['DOCBATCH_MODEL_ID'] = MODEL;
  process.env['DOCBATCH_CONFIG'] = JSON.stringify({ batch: { timeoutHours: 48 } });
  // Powertools writes EMF and log lines to stdout; the assertions below look at calls instead.
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});
afterAll(() => {
  process.env = savedEnv;
});

beforeEach(() => {
  s3.reset();
  s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
  s3.on(HeadObjectCommand).resolves({ ContentLength: 1 });
  for (const task of Object.keys(HANDLER_ENTRIES) as TaskName[]) spy(task).mockReset();
});

describe('Function: handler (one per Task state)', () => {
  it.each(Object.keys(HANDLER_ENTRIES) as TaskName[])(
    'calls the %s task with the event and a context built on the stack’s bucket and configuration',
    async (task) => {
      const handler = await load(task);
      spy(task).mockResolvedValue({ ok: task });
      const event = { docId: 'abc', runId: 'r1', key: 'incoming/invoice/a.pdf', bucket: 'docs-bucket' };
      expect(await handler(event)).toEqual({ ok: task });
      expect(spy(task)).toHaveBeenCalledTimes(1);
      const [input, ctx] = spy(task).mock.calls[0] as [unknown, TaskContext];
      expect(input).toEqual(event);
      expect(ctx.store).toBeInstanceOf(S3Store);
      expect(ctx.store.bucket).toBe('docs-bucket');
      expect(ctx.config.model.id).toBe(MODEL);
      expect(ctx.config.batch.timeoutHours).toBe(48);
      expect(ctx.schemas.types()).toEqual(Object.keys(BUILTIN_SCHEMAS).sort());
    },
  );

  it.each(Object.keys(HANDLER_ENTRIES) as TaskName[])(
    'lets the %s task’s errors through unchanged, name included (the ASL matches on it)',
    async (task) => {
      const handler = await load(task);
      const rejected = new DocumentRejectedError([{ code: 'CORRUPT', message: 'not a PDF' }]);
      spy(task).mockRejectedValueOnce(rejected);
      await expect(handler({})).rejects.toBe(rejected);
      const retryable = new RetryableError('slow down');
      spy(task).mockRejectedValueOnce(retryable);
      const error = await handler({}).catch((e: unknown) => e);
      expect(error).toBe(retryable);
      expect((error as Error).name).toBe('RetryableError');
    },
  );

  it('builds the context once per cold start, not per invocation', async () => {
    const handler = await load('Chunk');
    spy('Chunk').mockResolvedValue({});
    await handler({});
    const contexts = spy('Chunk').mock.calls.map((c) => c[1]);
    await handler({});
    expect(spy('Chunk').mock.calls[1]?.[1]).toBe(contexts[0]);
  });

  it('gives a document reader only to the functions that bundle mupdf', async () => {
    for (const task of Object.keys(HANDLER_ENTRIES) as TaskName[]) {
      const handler = await load(task);
      spy(task).mockResolvedValue({});
      await handler({ key: 'incoming/invoice/a.pdf' });
      const ctx = spy(task).mock.calls.at(-1)?.[1] as TaskContext;
      const refused = await ctx.reader.inspect(new Uint8Array(), 'application/pdf').then(
        () => false,
        (e: unknown) => e instanceof ConfigError,
      );
      expect(refused, task).toBe(!NEEDS_MUPDF.has(task));
    }
  });

  it('gives an on-demand model only to InvokeOnDemand', async () => {
    const handler = await load('Report');
    spy('Report').mockResolvedValue({});
    await handler({});
    const ctx = spy('Report').mock.calls[0]?.[1] as TaskContext;
    await expect(ctx.onDemand.invoke(MODEL, {})).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('Function: Register handler', () => {
  it('passes a URL-encoded event key decoded when only the decoded key is in the bucket', async () => {
    const handler = await load('Register');
    s3.reset();
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    s3.on(HeadObjectCommand, { Key: 'incoming/invoice/acme+invoice+%282%29.pdf' }).rejects(
      new S3ServiceException({
        name: 'NotFound',
        $fault: 'client',
        message: '',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    s3.on(HeadObjectCommand, { Key: 'incoming/invoice/acme invoice (2).pdf' }).resolves({ ContentLength: 5 });
    spy('Register').mockResolvedValue({});
    await handler({ bucket: 'docs-bucket', key: 'incoming/invoice/acme+invoice+%282%29.pdf' });
    expect(spy('Register').mock.calls[0]?.[0]).toEqual({
      bucket: 'docs-bucket',
      key: 'incoming/invoice/acme invoice (2).pdf',
    });
  });

  it('passes the key as given when it is in the bucket (a literal + stays a +)', async () => {
    const handler = await load('Register');
    spy('Register').mockResolvedValue({});
    await handler({ bucket: 'docs-bucket', key: 'incoming/invoice/c++.pdf' });
    expect(spy('Register').mock.calls[0]?.[0]).toEqual({
      bucket: 'docs-bucket',
      key: 'incoming/invoice/c++.pdf',
    });
  });
});

describe('Function: Report handler', () => {
  it('publishes the run’s rejected and result counts as EMF metrics', async () => {
    const { metrics } = await import('../../src/handlers/runtime.ts');
    const added: [string, number][] = [];
    const addMetric = vi.spyOn(metrics, 'addMetric').mockImplementation((name, _unit, value) => {
      added.push([name, value]);
      return metrics;
    });
    const publish = vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    try {
      const handler = await load('Report');
      spy('Report').mockResolvedValue({ runId: 'r1', results: 7, rejected: 2, report: 'reports/r1.json' });
      await handler({ runId: 'r1' });
      expect(added).toEqual([
        ['RejectedDocuments', 2],
        ['ResultDocuments', 7],
      ]);
      expect(publish).toHaveBeenCalledTimes(1);
    } finally {
      addMetric.mockRestore();
      publish.mockRestore();
    }
  });
});

describe('Function: buildContext', () => {
  it('refuses to start without DOCBATCH_BUCKET, and builds once it is set', async () => {
    const { buildContext } = await import('../../src/handlers/runtime.ts');
    await expect(buildContext({ DOCBATCH_MODEL_ID: MODEL }, 'Chunk')).rejects.toThrow(
      /DOCBATCH_BUCKET is not set/,
    );
    const ctx = await buildContext({ DOCBATCH_MODEL_ID: MODEL, DOCBATCH_BUCKET: 'b2' }, 'Chunk');
    expect(ctx.store.bucket).toBe('b2');
  });

  it('adds the user’s schemas from schemas/ in the bucket, overriding a built-in type of the same name', async () => {
    const { buildContext } = await import('../../src/handlers/runtime.ts');
    const po = {
      $id: 'urn:po',
      type: 'object',
      properties: { number: { type: 'string', description: 'PO number' } },
      required: ['number'],
    };
    s3.on(ListObjectsV2Command, { Prefix: 'schemas/' }).resolves({
      Contents: [
        { Key: 'schemas/purchase-order.schema.json', Size: 10 },
        { Key: 'schemas/README.md', Size: 10 },
      ],
    });
    s3.on(GetObjectCommand, { Key: 'schemas/purchase-order.schema.json' }).callsFake(() => ({
      Body: Readable.from([Buffer.from(JSON.stringify(po))]),
    }));
    const ctx = await buildContext({ DOCBATCH_MODEL_ID: MODEL, DOCBATCH_BUCKET: 'b' }, 'Assemble');
    expect(ctx.schemas.types()).toEqual([...Object.keys(BUILTIN_SCHEMAS), 'purchase-order'].sort());
    expect(ctx.schemas.validate('purchase-order', {})).not.toEqual([]);
  });
});

describe('Function: loadStoreSchemas', () => {
  it('names the object when a stored schema is not JSON', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'schemas/bad.schema.json', Size: 1 }] });
    s3.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([Buffer.from('{nope')]) }));
    const store = new S3Store(new S3Client({}), 'b');
    await expect(loadStoreSchemas(store)).rejects.toThrow(SchemaError);
    await expect(loadStoreSchemas(store)).rejects.toThrow(
      /s3:\/\/b\/schemas\/bad\.schema\.json is not valid JSON|"s3:\/\/b\/schemas\/bad\.schema\.json" is not valid JSON/,
    );
  });
});

describe('Constant: BUILTIN_SCHEMAS', () => {
  it('holds every schema shipped in schemas/ (the bundle has no folder to read them from)', () => {
    const files = readdirSync(new URL('../../schemas/', import.meta.url))
      .filter((f) => f.endsWith('.schema.json'))
      .map((f) => f.slice(0, -'.schema.json'.length))
      .sort();
    expect(Object.keys(BUILTIN_SCHEMAS).sort()).toEqual(files);
  });
});

describe('Function: safeFields', () => {
  it('keeps numbers, booleans and identifiers, and drops anything that could be document content', async () => {
    const { safeFields } = await import('../../src/handlers/runtime.ts');
    expect(
      safeFields({
        runId: 'r1',
        records: 12,
        deferred: false,
        text: 'ACME Corp invoice total 1,234.00',
        record: { total: 1234 },
        type: 'invoice',
      }),
    ).toEqual({ runId: 'r1', records: 12, deferred: false, type: 'invoice', dropped: ['text', 'record'] });
  });
});
