import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { AlreadyExistsError, InvalidKeyError, NotFoundError } from '../../errors.ts';
import type { ObjectInfo, ObjectStore, ObjectWriter, PutOptions } from '../../ports.ts';

/** Name of the scratch folder for atomic writes; never a valid key segment. */
const TMP_DIR = '.tmp';

/**
 * Keys are S3 keys: relative, '/'-separated. Refuse anything that could escape the bucket
 * directory or that S3 and a file system would read differently.
 */
export function assertValidKey(key: string): void {
  if (
    key.length === 0 ||
    key.length > 1024 ||
    key.startsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    /^[a-zA-Z]:/.test(key)
  ) {
    throw new InvalidKeyError(key);
  }
  const segments = key.split('/');
  // A trailing '/' is an S3 "folder" marker; any other empty or dot segment is refused.
  for (const [i, s] of segments.entries()) {
    if (s === '.' || s === '..' || (s === '' && i !== segments.length - 1) || (i === 0 && s === TMP_DIR)) {
      throw new InvalidKeyError(key);
    }
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** A directory standing in for an S3 bucket: `<root>/<key>`. Writes are atomic (temp file + rename). */
export class FsStore implements ObjectStore {
  readonly bucket: string;
  readonly root: string;
  #tmpSeq = 0;

  constructor(root: string, bucket = 'docbatch-local') {
    this.root = root;
    this.bucket = bucket;
  }

  path(key: string): string {
    assertValidKey(key);
    return join(this.root, ...key.split('/'));
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'EISDIR')) throw new NotFoundError(key);
      throw error;
    }
  }

  async getText(key: string): Promise<string> {
    return Buffer.from(await this.get(key)).toString('utf8');
  }

  async *lines(key: string): AsyncIterable<string> {
    const path = this.path(key);
    if (!(await this.head(key))) throw new NotFoundError(key);
    const rl = createInterface({
      input: createReadStream(path, { encoding: 'utf8' }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of rl) {
      if (line.length > 0) yield line;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { key, size: s.size } : undefined;
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    if (options.ifNoneMatch) {
      // The local equivalent of S3's If-None-Match: link(2) publishes the complete temp file under
      // the key only if nothing is there (EEXIST otherwise), in one atomic step. Creating the target
      // with O_EXCL and renaming over it would leave an empty object behind if killed in between.
      const tmp = await this.#writeTemp(body);
      try {
        await link(tmp, target);
      } catch (error) {
        if (isErrno(error, 'EEXIST')) throw new AlreadyExistsError(key);
        throw error;
      } finally {
        await rm(tmp, { force: true });
      }
      return;
    }
    const tmp = await this.#writeTemp(body);
    await rename(tmp, target);
  }

  openWriter(key: string): ObjectWriter {
    const target = this.path(key);
    const tmp = this.#tmpPath();
    let stream: import('node:fs').WriteStream | undefined;
    let bytes = 0;
    const open = async () => {
      if (!stream) {
        await mkdir(dirname(tmp), { recursive: true });
        stream = createWriteStream(tmp);
      }
      return stream;
    };
    const finish = (s: import('node:fs').WriteStream) =>
      new Promise<void>((resolve, reject) => s.end((e?: Error | null) => (e ? reject(e) : resolve())));
    return {
      get bytes() {
        return bytes;
      },
      async write(data) {
        const s = await open();
        bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
        // Respect back-pressure so a long run never buffers more than the stream's high-water mark.
        if (!s.write(data)) await new Promise<void>((resolve) => s.once('drain', resolve));
      },
      async close() {
        await finish(await open());
        await mkdir(dirname(target), { recursive: true });
        await rename(tmp, target);
      },
      async abort() {
        if (stream) await finish(stream);
        await rm(tmp, { force: true });
      },
    };
  }

  #tmpPath(): string {
    return join(this.root, TMP_DIR, `${process.pid}-${Date.now()}-${this.#tmpSeq++}`);
  }

  async #writeTemp(body: Uint8Array | string): Promise<string> {
    const tmp = this.#tmpPath();
    await mkdir(dirname(tmp), { recursive: true });
    await writeFile(tmp, body);
    return tmp;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // Walk only the deepest directory the prefix names, then filter: listing `staged/` must not
    // read the whole bucket.
    const cut = prefix.lastIndexOf('/');
    const dirKey = cut >= 0 ? prefix.slice(0, cut) : '';
    if (dirKey) assertValidKey(dirKey);
    const start = dirKey ? join(this.root, ...dirKey.split('/')) : this.root;
    const keys: ObjectInfo[] = [];
    await this.#walk(start, dirKey, prefix, keys);
    keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* keys;
  }

  async #walk(dir: string, dirKey: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return;
      throw error;
    }
    for (const entry of entries) {
      if (!dirKey && entry.name === TMP_DIR) continue;
      const key = dirKey ? `${dirKey}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`))
          await this.#walk(join(dir, entry.name), key, prefix, out);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const s = await stat(join(dir, entry.name));
        out.push({ key, size: s.size });
      }
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
