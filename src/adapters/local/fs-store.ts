import {
  closeSync,
  createReadStream,
  createWriteStream,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { AlreadyExistsError, InvalidKeyError, NotFoundError } from '../../errors.ts';
import type { ObjectInfo, ObjectStore, ObjectWriter, PutOptions } from '../../ports.ts';

/** Name of the scratch folder for atomic writes; never a valid key segment. */
const TMP_DIR = '.tmp';

/**
 * Objects up to this size may be read and written with synchronous system calls (see `inline`);
 * larger ones (uploads, batch files) always use asynchronous I/O, so that reading one never holds
 * up the rest of the process.
 */
const SYNC_MAX_BYTES = 1 << 20;

/** `statfs(2)` types of file systems held in memory: tmpfs (/dev/shm) and ramfs. */
const MEMORY_FILE_SYSTEMS = new Set([0x01021994, 0x858458f6]);

/** Whether the nearest existing directory of `path` is on a file system held in memory. */
function inMemory(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      return MEMORY_FILE_SYSTEMS.has(Number(statfsSync(dir).type));
    } catch (error) {
      if (!isErrno(error, 'ENOENT') || dirname(dir) === dir) return false;
    }
  }
}

/** Bytes read at a time by `lines`: its text (and the lines sliced from it) stays a young, small string. */
const LINES_CHUNK_BYTES = 64 * 1024;
/** Bytes per read of `chunks`. */
const CHUNKS_BYTES = 256 * 1024;

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

/**
 * Runs `step`; when it fails because a directory on the way is missing, creates `dir` and runs it
 * once more. Directories are created on demand rather than before every write: a `mkdir` per
 * object was a system call per object for a directory that nearly always exists already.
 */
function withDir<T>(dir: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    mkdirSync(dir, { recursive: true });
    return step();
  }
}

async function withDirAsync<T>(dir: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    await mkdir(dir, { recursive: true });
    return step();
  }
}

function isLarge(body: Uint8Array | string): boolean {
  if (typeof body !== 'string') return body.byteLength > SYNC_MAX_BYTES;
  // UTF-8 takes at most three bytes per UTF-16 unit: a short string needs no count.
  return body.length * 3 > SYNC_MAX_BYTES && Buffer.byteLength(body) > SYNC_MAX_BYTES;
}

/**
 * Splits text into lines as readline does with `crlfDelay: Infinity` (a line ends at `\n`, `\r\n`
 * or a lone `\r`), without the empty ones: the last piece, maybe incomplete, is returned apart.
 */
function splitLines(text: string, out: string[]): string {
  const parts = text.includes('\r') ? text.split(/\r\n|\r|\n/) : text.split('\n');
  const rest = parts.pop() ?? '';
  for (const line of parts) if (line.length > 0) out.push(line);
  return rest;
}

export interface FsStoreOptions {
  /**
   * Small objects (≤ 1 MiB) with synchronous system calls in the calling thread, instead of
   * libuv's thread pool. A run creates, rewrites and deletes small objects by the hundred thousand.
   * Where a call is a few microseconds of CPU (a file system in memory), a round trip through the
   * pool (a thread wake-up and a promise per open, write, close, rename) costs several times the
   * call, and inline is faster. Where calls may wait or take long (a disk file system: this
   * machine's ext4 without a journal spends hundreds of microseconds allocating an inode while
   * files are being deleted around it), the pool's threads overlap them on every core, and
   * inline calls would queue them on one. Default: inline on tmpfs and ramfs.
   */
  inline?: boolean;
}

/** A directory standing in for an S3 bucket: `<root>/<key>`. Writes are atomic (temp file + rename). */
export class FsStore implements ObjectStore {
  readonly bucket: string;
  readonly root: string;
  readonly #tmpDir: string;
  readonly #inline: boolean;
  #tmpSeq = 0;

  constructor(root: string, bucket = 'docbatch-local', options: FsStoreOptions = {}) {
    this.root = root;
    this.bucket = bucket;
    this.#tmpDir = join(root, TMP_DIR);
    this.#inline = options.inline ?? inMemory(root);
  }

  /** Whether small objects go through synchronous calls (see `FsStoreOptions.inline`). */
  get inline(): boolean {
    return this.#inline;
  }

  path(key: string): string {
    assertValidKey(key);
    return join(this.root, ...key.split('/'));
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.path(key);
    try {
      if (this.#inline) {
        const small = readSmall(path);
        if (small) return small;
      }
      return await readFile(path);
    } catch (error) {
      // EISDIR: a folder is no object in S3 either.
      if (isErrno(error, 'ENOENT') || isErrno(error, 'EISDIR')) throw new NotFoundError(key);
      throw error;
    }
  }

  async getText(key: string): Promise<string> {
    const bytes = await this.get(key);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }

  /** The object's bytes, read `readBytes` at a time. */
  async #read(key: string, readBytes: number): Promise<AsyncIterable<Buffer>> {
    const path = this.path(key);
    if (!(await this.head(key))) throw new NotFoundError(key);
    return createReadStream(path, { highWaterMark: readBytes });
  }

  async *chunks(key: string): AsyncIterable<Uint8Array> {
    if (this.#inline) {
      yield* this.#chunksInline(key);
      return;
    }
    // Larger reads than `lines` makes: each is a round trip through the thread pool, and a reader
    // deciding between them (Collect's task thread) lets one through per turn of its event loop.
    yield* await this.#read(key, CHUNKS_BYTES);
  }

  /**
   * `chunks` with a synchronous read per chunk, each a fresh buffer. On a file system in memory a
   * read of CHUNKS_BYTES is a copy of about 50 µs, which holds nothing up; through a read stream,
   * reading 680 MB of Collect's benchmark output cost about 1.5 s of CPU (a thread-pool round trip,
   * a promise and stream bookkeeping per chunk) against about 0.2 s.
   */
  *#chunksInline(key: string): Generator<Uint8Array> {
    let fd: number;
    try {
      fd = openFile(this.path(key)).fd;
    } catch (error) {
      // EISDIR: a folder is no object in S3 either.
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR') || isErrno(error, 'EISDIR'))
        throw new NotFoundError(key);
      throw error;
    }
    try {
      for (;;) {
        const buffer = Buffer.allocUnsafeSlow(CHUNKS_BYTES);
        const n = readSync(fd, buffer, 0, CHUNKS_BYTES, null);
        if (n === 0) return;
        yield n === CHUNKS_BYTES ? buffer : buffer.subarray(0, n);
      }
    } finally {
      closeSync(fd);
    }
  }

  async *lines(key: string): AsyncIterable<string> {
    const stream = await this.#read(key, LINES_CHUNK_BYTES);
    // Large reads split by hand: readline's per-line events cost more than the lines' parsing.
    const decoder = new StringDecoder('utf8');
    let rest = '';
    const ready: string[] = [];
    for await (const chunk of stream) {
      rest = splitLines(rest + decoder.write(chunk), ready);
      yield* ready;
      ready.length = 0;
    }
    rest += decoder.end();
    rest = splitLines(rest, ready);
    yield* ready;
    if (rest.length > 0) yield rest;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const s = statSync(this.path(key), { throwIfNoEntry: false });
      return s?.isFile() ? { key, size: s.size } : undefined;
    } catch (error) {
      if (isErrno(error, 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    const target = this.path(key);
    const tmp = this.#tmpPath();
    // The local equivalent of S3's If-None-Match: link(2) publishes the complete temp file under
    // the key only if nothing is there (EEXIST otherwise), in one atomic step. Creating the target
    // with O_EXCL and renaming over it would leave an empty object behind if killed in between.
    const exclusive = options.ifNoneMatch === true;
    try {
      if (this.#inline && !isLarge(body)) putInline(tmp, target, body, exclusive, this.#tmpDir);
      else await putAsync(tmp, target, body, exclusive, this.#tmpDir);
    } catch (error) {
      if (exclusive && isErrno(error, 'EEXIST')) throw new AlreadyExistsError(key);
      throw error;
    }
  }

  openWriter(key: string): ObjectWriter {
    const target = this.path(key);
    const tmp = this.#tmpPath();
    let stream: import('node:fs').WriteStream | undefined;
    let bytes = 0;
    const open = async () => {
      if (!stream) {
        await mkdir(this.#tmpDir, { recursive: true });
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
        await withDirAsync(dirname(target), () => rename(tmp, target));
      },
      async abort() {
        if (stream) await finish(stream);
        await rm(tmp, { force: true });
      },
    };
  }

  #tmpPath(): string {
    return join(this.#tmpDir, `${process.pid}-${Date.now()}-${this.#tmpSeq++}`);
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
    const path = this.path(key);
    try {
      if (this.#inline) unlinkSync(path);
      else await unlink(path);
    } catch (error) {
      // S3 deletes a missing key without complaint (ENOTDIR: a file stands where a folder would).
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return;
      throw error;
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    // A file system has no batch delete: one unlink each, as `delete` does them.
    for (const key of keys) await this.delete(key);
  }
}

/** A small file's bytes, read with synchronous calls; undefined when it is too large for that. */
function readSmall(path: string): Buffer | undefined {
  const { fd, size } = openFile(path);
  try {
    return size <= SYNC_MAX_BYTES ? readWhole(fd, size) : undefined;
  } finally {
    closeSync(fd);
  }
}

/** A file opened for reading, with its size; a folder fails with EISDIR, as reading it would. */
function openFile(path: string): { fd: number; size: number } {
  const fd = openSync(path, 'r');
  try {
    const s = fstatSync(fd);
    // Opening a folder for reading succeeds on Linux.
    if (s.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path}`), { code: 'EISDIR' });
    return { fd, size: s.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function putInline(
  tmp: string,
  target: string,
  body: Uint8Array | string,
  exclusive: boolean,
  tmpDir: string,
): void {
  withDir(tmpDir, () => writeFileSync(tmp, body));
  if (exclusive) {
    try {
      withDir(dirname(target), () => linkSync(tmp, target));
    } finally {
      // Linked, the temp name is a second name of the object; not linked, litter.
      unlinkSync(tmp);
    }
    return;
  }
  try {
    withDir(dirname(target), () => renameSync(tmp, target));
  } catch (error) {
    unlinkQuietly(tmp);
    throw error;
  }
}

async function putAsync(
  tmp: string,
  target: string,
  body: Uint8Array | string,
  exclusive: boolean,
  tmpDir: string,
): Promise<void> {
  await withDirAsync(tmpDir, () => writeFile(tmp, body));
  if (exclusive) {
    try {
      await withDirAsync(dirname(target), () => link(tmp, target));
    } finally {
      await unlink(tmp);
    }
    return;
  }
  try {
    await withDirAsync(dirname(target), () => rename(tmp, target));
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** The `size` bytes of an open file, read in as few calls as it takes. */
function readWhole(fd: number, size: number): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  let read = 0;
  while (read < size) {
    const n = readSync(fd, buffer, read, size - read, read);
    if (n === 0) break;
    read += n;
  }
  return read === size ? buffer : buffer.subarray(0, read);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
