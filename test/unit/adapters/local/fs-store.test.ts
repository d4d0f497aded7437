import { existsSync, statfsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertValidKey, FsStore } from '../../../../src/adapters/local/fs-store.ts';
import { AlreadyExistsError, InvalidKeyError, NotFoundError } from '../../../../src/errors.ts';

let dir: string;
let store: FsStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fs-store-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Function: assertValidKey', () => {
  it.each([
    '../x',
    'a/../../b',
    '/etc/passwd',
    'a//b',
    './a',
    'a/./b',
    '',
    'C:/x',
    'a\\..\\b',
    '.tmp/x',
    'a\0b',
  ])('refuses %j', (key) => {
    expect(() => assertValidKey(key)).toThrow(InvalidKeyError);
  });

  it.each([
    'incoming/receipt/my scan (1).pdf',
    'incoming/x/ünïcødé €.png',
    "incoming/x/$(rm -rf ~);'.pdf",
    'runs/a/',
  ])('accepts %j', (key) => {
    expect(() => assertValidKey(key)).not.toThrow();
  });
});

describe('Function: FsStore options', () => {
  it('runs small objects inline on a file system in memory, through the pool elsewhere, unless told', () => {
    const shm = existsSync('/dev/shm') && statfsSync('/dev/shm').type === 0x01021994;
    expect(new FsStore('/dev/shm/docbatch-not-there/bucket').inline).toBe(shm);
    expect(new FsStore(dir, 'b', { inline: true }).inline).toBe(true);
    expect(new FsStore(dir, 'b', { inline: false }).inline).toBe(false);
  });
});

describe.each([
  ['with synchronous calls for small objects', true],
  ['through the thread pool', false],
])('Function: FsStore %s', (_mode, inline) => {
  beforeEach(() => {
    store = new FsStore(dir, 'docbatch-local', { inline });
  });

  it('returns what was put, and NotFound for a missing key', async () => {
    await store.put('a/b.json', '{"x":1}');
    expect(await store.getText('a/b.json')).toBe('{"x":1}');
    expect(await store.head('a/b.json')).toEqual({ key: 'a/b.json', size: 7 });
    await expect(store.get('a/missing')).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.head('a')).toBeUndefined();
  });

  it('refuses a second conditional write and keeps the first body', async () => {
    await store.put('k', 'one', { ifNoneMatch: true });
    await expect(store.put('k', 'two', { ifNoneMatch: true })).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(await store.getText('k')).toBe('one');
  });

  it('lets exactly one of many concurrent conditional writers win', async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.put('race', `w${i}`, { ifNoneMatch: true })),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    expect(await store.getText('race')).toMatch(/^w\d+$/);
  });

  it('lists keys under a prefix in lexicographic order, without temp files', async () => {
    for (const k of ['ocr/d/j/10', 'ocr/d/j/2', 'ocr/d/j/1', 'ocr/e/j/1', 'other']) await store.put(k, 'x');
    const listed: string[] = [];
    for await (const o of store.list('ocr/d/')) listed.push(o.key);
    expect(listed).toEqual(['ocr/d/j/1', 'ocr/d/j/10', 'ocr/d/j/2']);
    const all: string[] = [];
    for await (const o of store.list('')) all.push(o.key);
    expect(all).toHaveLength(5);
  });

  it('streams lines and writes through a writer that appears only on close', async () => {
    const w = store.openWriter('big.jsonl');
    for (let i = 0; i < 1000; i++) await w.write(`{"i":${i}}\n`);
    expect(await store.head('big.jsonl')).toBeUndefined();
    await w.close();
    let n = 0;
    for await (const l of store.lines('big.jsonl')) n += JSON.parse(l).i === n ? 1 : 0;
    expect(n).toBe(1000);
    expect(w.bytes).toBe((await store.head('big.jsonl'))?.size);
  });

  it('leaves no temp files behind', async () => {
    await store.put('a', 'x');
    await store.put('b', 'y', { ifNoneMatch: true });
    await store.put('b', 'z', { ifNoneMatch: true }).catch(() => {});
    const w = store.openWriter('c');
    await w.write('x');
    await w.abort();
    expect(await readdir(join(dir, '.tmp'))).toEqual([]);
  });

  it('splits lines at \\n, \\r\\n and a lone \\r, as readline does, across its read size and multi-byte characters', async () => {
    // Lines longer than one read (1 MiB), with a two-byte character on every boundary it could cut.
    const long = 'é'.repeat(700_000);
    const body = `a\r\nb\rc\n\n${long}\r\n${long}x\nlast`;
    await store.put('l.txt', body);
    const got: string[] = [];
    for await (const l of store.lines('l.txt')) got.push(l);
    expect(got).toEqual(['a', 'b', 'c', long, `${long}x`, 'last']);
    // A \r\n split by the read boundary is one line end.
    const edge = 'a'.repeat((1 << 20) - 1);
    await store.put('edge.txt', `${edge}\r\nb\r`);
    const lines: string[] = [];
    for await (const l of store.lines('edge.txt')) lines.push(l);
    expect(lines).toEqual([edge, 'b']);
    await expect(async () => {
      for await (const _ of store.lines('missing')) break;
    }).rejects.toBeInstanceOf(NotFoundError);
  });

  it('streams an object’s bytes in order, across its read size, and refuses a missing key', async () => {
    const bytes = new Uint8Array(600_000).map((_, i) => i % 251);
    await store.put('runs/r/output/j/part-0.jsonl.out', bytes);
    const got: Uint8Array[] = [];
    for await (const chunk of store.chunks('runs/r/output/j/part-0.jsonl.out')) got.push(chunk);
    expect(got.length).toBeGreaterThan(1);
    expect(Buffer.concat(got).equals(Buffer.from(bytes))).toBe(true);
    await expect(async () => {
      for await (const _ of store.chunks('missing')) break;
    }).rejects.toBeInstanceOf(NotFoundError);
    // A folder is no object, as in S3.
    await expect(async () => {
      for await (const _ of store.chunks('runs/r/output/j')) break;
    }).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reads and writes objects above the synchronous size the same way, conditional writes included', async () => {
    const big = 'x'.repeat((1 << 20) + 10);
    await store.put('big/one', big);
    expect(await store.getText('big/one')).toBe(big);
    const bytes = new Uint8Array(2 << 20).fill(7);
    await store.put('big/two', bytes.subarray(1), { ifNoneMatch: true });
    await expect(store.put('big/two', big, { ifNoneMatch: true })).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await store.get('big/two')).byteLength).toBe((2 << 20) - 1);
    expect(await readdir(join(dir, '.tmp'))).toEqual([]);
  });

  it('treats a folder as no object and deletes a missing key without complaint', async () => {
    await store.put('d/inner/k', 'x');
    await expect(store.get('d/inner')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.getText('d')).rejects.toBeInstanceOf(NotFoundError);
    await store.delete('d/missing');
    await store.delete('d/inner/k/below');
    await store.delete('d/inner/k');
    expect(await store.head('d/inner/k')).toBeUndefined();
  });

  it('deletes many keys at once, missing ones included, and leaves the others', async () => {
    for (const k of ['m/a', 'm/b', 'm/c']) await store.put(k, k);
    await store.deleteMany(['m/a', 'm/missing', 'm/c', 'm/a']);
    const left: string[] = [];
    for await (const o of store.list('m/')) left.push(o.key);
    expect(left).toEqual(['m/b']);
  });

  it('creates the folders of a key on demand, also after they were removed', async () => {
    await store.put('p/q/r', '1');
    await rm(join(dir, 'p'), { recursive: true });
    await rm(join(dir, '.tmp'), { recursive: true });
    await store.put('p/q/r', '2', { ifNoneMatch: true });
    expect(await store.getText('p/q/r')).toBe('2');
  });
});
