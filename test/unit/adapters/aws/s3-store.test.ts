import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3Store } from '../../../../src/adapters/aws/s3-store.ts';
import {
  AlreadyExistsError,
  InvalidKeyError,
  NotFoundError,
  RetryableError,
} from '../../../../src/errors.ts';

const s3 = mockClient(S3Client);
let store: S3Store;

/** An S3 service error as the SDK raises it after its own retries. */
function serviceError(name: string, status: number, fault: 'client' | 'server' = 'client') {
  return new S3ServiceException({
    name,
    message: `${name} (test)`,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });
}

/** A GetObject body: a Node stream, as the SDK returns in Node (chunks split anywhere). */
const body = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c))) as unknown as never;

beforeEach(() => {
  s3.reset();
  store = new S3Store(new S3Client({ region: 'us-east-1' }), 'docs-bucket', { partSize: 5 * 1024 * 1024 });
});

afterEach(() => {
  s3.reset();
});

describe('Function: S3Store.get / getText', () => {
  it('returns the object bytes from the bucket and key', async () => {
    // A body is a stream, read once: each call gets its own.
    s3.on(GetObjectCommand, { Bucket: 'docs-bucket', Key: 'documents/a.json' }).callsFake(() => ({
      Body: body('{"a":', '1}'),
    }));
    expect(await store.getText('documents/a.json')).toBe('{"a":1}');
    expect(Buffer.from(await store.get('documents/a.json')).toString()).toBe('{"a":1}');
  });

  it('uses the SDK stream mixin when the body has one', async () => {
    const mixin = { transformToByteArray: async () => new TextEncoder().encode('mixed') };
    s3.on(GetObjectCommand).resolves({ Body: mixin as never });
    expect(await store.getText('k')).toBe('mixed');
  });

  it('throws NotFoundError for NoSuchKey', async () => {
    s3.on(GetObjectCommand).rejects(serviceError('NoSuchKey', 404));
    await expect(store.get('staged/x.jsonl')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a key that FsStore refuses, before calling S3', async () => {
    await expect(store.get('../etc/passwd')).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(store.put('a//b', 'x')).rejects.toBeInstanceOf(InvalidKeyError);
    expect(s3.calls()).toHaveLength(0);
  });

  it('surfaces throttling that outlasted the SDK retries as RetryableError, keeping the cause', async () => {
    const slowDown = serviceError('SlowDown', 503, 'server');
    s3.on(GetObjectCommand).rejects(slowDown);
    const error = await store.get('runs/r/plan.json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).name).toBe('RetryableError');
    expect((error as Error).cause).toBe(slowDown);
    expect((error as Error).message).toMatch(/GetObject runs\/r\/plan\.json failed after retries: SlowDown/);
  });

  it('leaves access errors as S3 named them (retrying cannot fix them)', async () => {
    s3.on(GetObjectCommand).rejects(serviceError('AccessDenied', 403));
    await expect(store.get('incoming/a/b.pdf')).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('Function: S3Store.lines', () => {
  it('streams non-empty lines, including one split across chunks and CRLF endings', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body('{"n":1}\r\n{"n"', ':2}\n\n{"n":3}') });
    const lines: string[] = [];
    for await (const line of store.lines('runs/r/input/job-1/part-1.jsonl')) lines.push(line);
    expect(lines).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
  });

  it('throws NotFoundError when the object is missing', async () => {
    s3.on(GetObjectCommand).rejects(serviceError('NoSuchKey', 404));
    const read = async () => {
      for await (const _ of store.lines('staged/none.jsonl')) {
        // nothing
      }
    };
    await expect(read()).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('Function: S3Store.chunks', () => {
  it('streams the body’s bytes as they arrive, every byte once and in order', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body('{"n":1}\n{"n"', ':2}\n', 'é') });
    const got: Uint8Array[] = [];
    for await (const chunk of store.chunks('runs/r/output/j/part-0.jsonl.out')) got.push(chunk);
    expect(got.length).toBe(3);
    expect(Buffer.concat(got).toString('utf8')).toBe('{"n":1}\n{"n":2}\né');
  });

  it('throws NotFoundError when the object is missing', async () => {
    s3.on(GetObjectCommand).rejects(serviceError('NoSuchKey', 404));
    const read = async () => {
      for await (const _ of store.chunks('runs/r/output/none.jsonl.out')) {
        // nothing
      }
    };
    await expect(read()).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('Function: S3Store.head', () => {
  it('returns key and size', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 42 });
    expect(await store.head('documents/a.json')).toEqual({ key: 'documents/a.json', size: 42 });
  });

  it('returns undefined for a missing object (404 NotFound)', async () => {
    s3.on(HeadObjectCommand).rejects(serviceError('NotFound', 404));
    expect(await store.head('documents/none.json')).toBeUndefined();
  });

  it('throws on 403: without s3:ListBucket a missing key looks forbidden, which is a deployment error', async () => {
    s3.on(HeadObjectCommand).rejects(serviceError('Forbidden', 403));
    await expect(store.head('documents/a.json')).rejects.toMatchObject({ name: 'Forbidden' });
  });
});

describe('Function: S3Store.put', () => {
  it('writes the body with no condition by default', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store.put('reports/r.json', '{}', { contentType: 'application/json' });
    const input = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'docs-bucket',
      Key: 'reports/r.json',
      Body: '{}',
      ContentType: 'application/json',
    });
    expect(input?.IfNoneMatch).toBeUndefined();
  });

  it('sends If-None-Match: * for a conditional write', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store.put('claims/d.json', '{}', { ifNoneMatch: true });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.IfNoneMatch).toBe('*');
  });

  it('throws AlreadyExistsError when S3 answers 412 PreconditionFailed', async () => {
    s3.on(PutObjectCommand).rejects(serviceError('PreconditionFailed', 412));
    await expect(store.put('claims/d.json', '{}', { ifNoneMatch: true })).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
  });

  it('retries a 409 ConditionalRequestConflict through the state machine (RetryableError)', async () => {
    s3.on(PutObjectCommand).rejects(serviceError('ConditionalRequestConflict', 409));
    await expect(store.put('claims/d.json', '{}', { ifNoneMatch: true })).rejects.toBeInstanceOf(
      RetryableError,
    );
  });
});

describe('Function: S3Store.openWriter', () => {
  it('puts a small object in one request when closed', async () => {
    s3.on(PutObjectCommand).resolves({});
    const writer = store.openWriter('runs/r/index/job-1.jsonl');
    await writer.write('a\n');
    await writer.write(new TextEncoder().encode('b\n'));
    expect(writer.bytes).toBe(4);
    await writer.close();
    const calls = s3.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({ Bucket: 'docs-bucket', Key: 'runs/r/index/job-1.jsonl' });
  });

  it('streams a large object as a multipart upload, holding only a few parts in memory', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    s3.on(UploadPartCommand).callsFake(async (input: { PartNumber?: number }) => ({
      ETag: `e${input.PartNumber}`,
    }));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    const writer = store.openWriter('runs/r/input/job-1/part-1.jsonl');
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 11 * 1024; i++) await writer.write(line); // 11 MiB
    await writer.close();
    expect(writer.bytes).toBe(11 * 1024 * 1024);
    expect(s3.commandCalls(UploadPartCommand)).toHaveLength(3);
    const complete = s3.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input;
    expect(complete?.UploadId).toBe('up-1');
    expect(complete?.MultipartUpload?.Parts?.map((p) => p.PartNumber)).toEqual([1, 2, 3]);
  });

  it('writes an empty object when closed without a write', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store.openWriter('runs/r/index/job-2.jsonl').close();
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key).toBe('runs/r/index/job-2.jsonl');
  });

  it('aborts the multipart upload so no parts are left to pay for', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    s3.on(UploadPartCommand).resolves({ ETag: 'e' });
    s3.on(AbortMultipartUploadCommand).resolves({});
    const writer = store.openWriter('runs/r/input/job-1/part-2.jsonl');
    const chunk = Buffer.alloc(1024 * 1024, 'y');
    for (let i = 0; i < 6; i++) await writer.write(chunk);
    await writer.abort();
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
  });

  it('fails close with RetryableError when the upload hits throttling', async () => {
    s3.on(PutObjectCommand).rejects(serviceError('SlowDown', 503, 'server'));
    const writer = store.openWriter('runs/r/index/job-3.jsonl');
    await writer.write('a\n');
    await expect(writer.close()).rejects.toBeInstanceOf(RetryableError);
  });
});

describe('Function: S3Store.list', () => {
  it('follows ListObjectsV2 continuation tokens and yields keys with sizes', async () => {
    s3.on(ListObjectsV2Command, { Prefix: 'staged/', ContinuationToken: undefined }).resolves({
      Contents: [{ Key: 'staged/a.jsonl', Size: 1 }],
      IsTruncated: true,
      NextContinuationToken: 't2',
    });
    s3.on(ListObjectsV2Command, { Prefix: 'staged/', ContinuationToken: 't2' }).resolves({
      Contents: [{ Key: 'staged/b.jsonl', Size: 2 }],
      IsTruncated: false,
    });
    const found = [];
    for await (const o of store.list('staged/')) found.push(o);
    expect(found).toEqual([
      { key: 'staged/a.jsonl', size: 1 },
      { key: 'staged/b.jsonl', size: 2 },
    ]);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(2);
  });

  it('yields nothing for an empty prefix', async () => {
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });
    const found = [];
    for await (const o of store.list('schemas/')) found.push(o);
    expect(found).toEqual([]);
  });
});

describe('Function: S3Store.delete', () => {
  it('deletes the key', async () => {
    s3.on(DeleteObjectCommand).resolves({});
    await store.delete('claims/d.json');
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'docs-bucket',
      Key: 'claims/d.json',
    });
  });
});

describe('Function: S3Store.deleteMany', () => {
  it('deletes the keys a thousand at a time, quietly', async () => {
    s3.on(DeleteObjectsCommand).resolves({});
    const many = Array.from({ length: 2500 }, (_, i) => `staged/${String(i).padStart(24, '0')}.jsonl`);
    await store.deleteMany(many);
    const calls = s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Delete?.Objects?.length)).toEqual([1000, 1000, 500]);
    expect(calls.every((c) => c.Bucket === 'docs-bucket' && c.Delete?.Quiet === true)).toBe(true);
    expect(calls.flatMap((c) => c.Delete?.Objects?.map((o) => o.Key))).toEqual(many);
  });

  it('makes no request for no keys, and refuses a bad key before any', async () => {
    await store.deleteMany([]);
    await expect(store.deleteMany(['claims/a.json', '../etc/passwd'])).rejects.toBeInstanceOf(
      InvalidKeyError,
    );
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });

  it('fails with the name S3 gives a key it refused, RetryableError when that is transient', async () => {
    s3.on(DeleteObjectsCommand).resolves({
      Errors: [{ Key: 'claims/a.json', Code: 'AccessDenied', Message: 'Access Denied' }],
    });
    await expect(store.deleteMany(['claims/a.json', 'claims/b.json'])).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringMatching(/1 of 2 keys, the first claims\/a\.json: Access Denied/),
    });
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'claims/b.json', Code: 'SlowDown' }] });
    await expect(store.deleteMany(['claims/b.json'])).rejects.toMatchObject({ name: 'RetryableError' });
    s3.on(DeleteObjectsCommand).rejects(serviceError('SlowDown', 503, 'server'));
    await expect(store.deleteMany(['claims/c.json'])).rejects.toBeInstanceOf(RetryableError);
  });
});
