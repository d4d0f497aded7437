import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough, Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  type _Error as DeleteObjectsError,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AlreadyExistsError, NotFoundError } from '../../errors.ts';
import type { ObjectInfo, ObjectStore, ObjectWriter, PutOptions } from '../../ports.ts';
import { assertValidKey } from '../local/fs-store.ts';
import { AwsTransientError, httpStatusOf, isTransient, surfaceTransient } from './errors.ts';

export interface S3StoreOptions {
  /** Multipart part size for `openWriter` (S3's minimum is 5 MiB). */
  partSize?: number;
  /** Parts uploaded in parallel by one writer; memory held is about partSize × queueSize. */
  queueSize?: number;
}

/** Inside Lambda: region and credentials come from the function's environment. */
export function createS3Client(): S3Client {
  return new S3Client({});
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

function isNotFound(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatusOf(error) === 404;
}

function isPreconditionFailed(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'PreconditionFailed' || httpStatusOf(error) === 412;
}

/** A GetObject body as bytes: the SDK's stream mixin when present, any async byte iterable otherwise. */
async function bodyBytes(body: unknown): Promise<Uint8Array> {
  const mixin = body as { transformToByteArray?: () => Promise<Uint8Array> } | undefined;
  if (typeof mixin?.transformToByteArray === 'function') return mixin.transformToByteArray();
  if (body instanceof Uint8Array) return body;
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  return new Uint8Array();
}

/**
 * `ObjectStore` on an S3 bucket, with the client injected. Keys are checked exactly as the local
 * `FsStore` checks them, so a key that works offline works here and vice versa. Throttling and
 * 5xx faults that outlast the SDK's retries surface as `RetryableError` (the name the ASL retries).
 */
export class S3Store implements ObjectStore {
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #partSize: number;
  readonly #queueSize: number;

  constructor(client: S3Client, bucket: string, options: S3StoreOptions = {}) {
    this.#client = client;
    this.bucket = bucket;
    this.#partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.#queueSize = options.queueSize ?? 4;
  }

  async #getBody(key: string): Promise<unknown> {
    assertValidKey(key);
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body;
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError(key);
      return surfaceTransient(`GetObject ${key}`, error);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    return bodyBytes(await this.#getBody(key));
  }

  async getText(key: string): Promise<string> {
    return Buffer.from(await this.get(key)).toString('utf8');
  }

  /** The body as a stream, read as it arrives: a multi-gigabyte JSONL object never sits in memory whole. */
  async #bodyStream(key: string): Promise<Readable> {
    const body = await this.#getBody(key);
    return body instanceof Readable
      ? body
      : Readable.from(
          body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
            ? (body as AsyncIterable<Uint8Array>)
            : [await bodyBytes(body)],
        );
  }

  async *chunks(key: string): AsyncIterable<Uint8Array> {
    const input = await this.#bodyStream(key);
    try {
      for await (const chunk of input as AsyncIterable<Uint8Array>) yield chunk;
    } finally {
      input.destroy();
    }
  }

  async *lines(key: string): AsyncIterable<string> {
    const input = await this.#bodyStream(key);
    const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of rl) {
        if (line.length > 0) yield line;
      }
    } finally {
      rl.close();
      input.destroy();
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: out.ContentLength ?? 0 };
    } catch (error) {
      // A 404 needs s3:ListBucket on the bucket; without it S3 answers 403 for a missing key.
      if (isNotFound(error)) return undefined;
      return surfaceTransient(`HeadObject ${key}`, error);
    }
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    assertValidKey(key);
    const input: PutObjectCommandInput = { Bucket: this.bucket, Key: key, Body: body };
    if (options.ifNoneMatch) input.IfNoneMatch = '*';
    if (options.contentType) input.ContentType = options.contentType;
    try {
      await this.#client.send(new PutObjectCommand(input));
    } catch (error) {
      if (options.ifNoneMatch && isPreconditionFailed(error)) throw new AlreadyExistsError(key);
      surfaceTransient(`PutObject ${key}`, error);
    }
  }

  openWriter(key: string): ObjectWriter {
    assertValidKey(key);
    const client = this.#client;
    const bucket = this.bucket;
    const partSize = this.#partSize;
    const queueSize = this.#queueSize;
    let bytes = 0;
    let stream: PassThrough | undefined;
    let upload: Upload | undefined;
    let done: Promise<unknown> | undefined;
    let failure: unknown;
    const putEmpty = () => this.put(key, new Uint8Array());

    // The multipart upload starts with the first write, so a writer closed empty costs one PutObject.
    const start = (): PassThrough => {
      if (stream) return stream;
      const s = new PassThrough();
      const u = new Upload({ client, params: { Bucket: bucket, Key: key, Body: s }, partSize, queueSize });
      stream = s;
      upload = u;
      done = u.done().catch((error: unknown) => {
        failure = error;
        // Unblock a writer waiting for 'drain' on a stream nobody reads any more.
        s.destroy();
        throw error;
      });
      // Observed through `close`; without this an early failure would be an unhandled rejection.
      done.catch(() => {});
      return s;
    };

    return {
      get bytes() {
        return bytes;
      },
      async write(data) {
        const s = start();
        if (failure) surfaceTransient(`Upload ${key}`, failure);
        bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
        // Back-pressure: at most about partSize × queueSize bytes are ever buffered.
        if (!s.write(data)) {
          await Promise.race([once(s, 'drain'), once(s, 'close')]);
          if (failure) surfaceTransient(`Upload ${key}`, failure);
        }
      },
      async close() {
        if (!stream) {
          await putEmpty();
          return;
        }
        stream.end();
        try {
          await done;
        } catch (error) {
          surfaceTransient(`Upload ${key}`, error);
        }
      },
      async abort() {
        if (!upload || !stream) return;
        stream.destroy();
        // Abort removes the parts already uploaded, so nothing is left to pay for.
        await upload.abort().catch(() => {});
        await done?.catch(() => {});
      },
    };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    if (prefix) assertValidKey(prefix);
    try {
      for await (const page of paginateListObjectsV2(
        { client: this.#client },
        { Bucket: this.bucket, Prefix: prefix },
      )) {
        for (const o of page.Contents ?? []) {
          if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0 };
        }
      }
    } catch (error) {
      surfaceTransient(`ListObjectsV2 ${prefix}`, error);
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      surfaceTransient(`DeleteObject ${key}`, error);
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertValidKey(key);
    for (let i = 0; i < keys.length; i += DELETE_OBJECTS_MAX_KEYS) {
      const batch = keys.slice(i, i + DELETE_OBJECTS_MAX_KEYS);
      let errors: DeleteObjectsError[];
      try {
        const out = await this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            // Quiet: the answer lists only the keys that could not be deleted.
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        errors = out.Errors ?? [];
      } catch (error) {
        surfaceTransient(`DeleteObjects (${batch.length} keys from ${batch[0]})`, error);
      }
      const first = errors[0];
      if (!first) continue;
      // Named as S3 names the refusal of the first key; a transient one (SlowDown, InternalError)
      // is worth the state machine's retry, anything else (AccessDenied) is not.
      const refusal = Object.assign(
        new Error(
          `DeleteObjects could not delete ${errors.length} of ${batch.length} keys, the first ${first.Key}: ${first.Message ?? first.Code}`,
        ),
        { name: first.Code ?? 'Error' },
      );
      const named = (e: DeleteObjectsError) => Object.assign(new Error(), { name: e.Code ?? '' });
      if (errors.some((e) => isTransient(named(e))))
        throw new AwsTransientError(`DeleteObjects (${batch.length} keys)`, refusal);
      throw refusal;
    }
  }
}

/** S3 DeleteObjects takes at most this many keys a request. */
const DELETE_OBJECTS_MAX_KEYS = 1000;
