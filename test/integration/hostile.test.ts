/**
 * Hostile and malformed input: every file is generated here, all of them go through one offline
 * run together, and each must end in `rejected/<docId>.json` with a reason code and a message a
 * person can act on, decided in Register before anything paid (Textract, Bedrock) is called.
 * Valid documents with awkward names must succeed or fail on their content alone.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MupdfReader } from '../../src/adapters/documents/mupdf-reader.ts';
import { FsStore } from '../../src/adapters/local/fs-store.ts';
import { execute } from '../../src/cli/local-engine.ts';
import { collectInputs, type PipelineResult, runPipeline } from '../../src/cli/pipeline.ts';
import { checkIntegrity, describeContent, pdfHasEndMarker } from '../../src/core/documents.ts';
import { keys } from '../../src/core/keys.ts';
import type { IndexEntry, RejectedRecord, ResultRecord } from '../../src/core/outcomes.ts';
import { InvalidKeyError } from '../../src/errors.ts';
import {
  KNOWN_LINES,
  makeEncryptedPdf,
  makePdf,
  makePngHeader,
} from '../unit/adapters/documents/fixtures.ts';
import {
  docxArchive,
  invoiceDocument,
  jpegHeader,
  pseudoRandomBytes,
  simplePdf,
  tiffHeader,
} from './generate.ts';
import { listFiles, makeEnv, readJsonFile, statesEntered, type TestEnv } from './helpers.ts';

const MB = 1024 * 1024;
const fast = { waitMs: 5, retryMs: 0 } as const;

/** A PDF cut in half: mupdf rebuilds its cross-reference table and opens what is left. */
function truncatedPdf(): Uint8Array {
  const whole = makePdf([{ lines: KNOWN_LINES }, { lines: KNOWN_LINES }]);
  return whole.slice(0, Math.floor(whole.length / 2));
}

interface Hostile {
  name: string;
  bytes: () => Uint8Array;
  codes: string[];
  /** A fragment the first reason's message must contain: what a person reads. */
  says: RegExp;
}

const HOSTILE: Hostile[] = [
  { name: 'empty.pdf', bytes: () => new Uint8Array(), codes: ['EMPTY'], says: /empty \(0 bytes\)/ },
  { name: 'truncated.pdf', bytes: truncatedPdf, codes: ['TRUNCATED'], says: /%%EOF.*cut short/ },
  {
    name: 'corrupt.pdf',
    bytes: () => new Uint8Array([...Buffer.from('%PDF-1.7\n'), ...pseudoRandomBytes(4096, 7)]),
    // mupdf finds no object in the garbage, and the file has no end either.
    codes: ['CORRUPT', 'TRUNCATED'],
    says: /cannot open the bytes as application\/pdf/,
  },
  {
    name: 'random bytes.pdf',
    bytes: () => {
      const bytes = pseudoRandomBytes(8192, 3);
      bytes[0] = 0; // no magic number by accident
      return bytes;
    },
    codes: ['UNSUPPORTED_MEDIA_TYPE'],
    says: /unrecognised binary data, not a PDF, PNG, JPEG or TIFF/,
  },
  {
    name: 'not-really.png',
    bytes: () => Buffer.from('This is a text file that claims to be a picture.\nIt is not.\n'),
    codes: ['UNSUPPORTED_MEDIA_TYPE'],
    says: /plain text, not a PDF/,
  },
  {
    name: 'invoice.html',
    bytes: () => Buffer.from('<!DOCTYPE html><html><body><h1>Invoice 7</h1><p>Total 12.00</p></body></html>'),
    codes: ['UNSUPPORTED_MEDIA_TYPE'],
    says: /an HTML page/,
  },
  {
    name: 'letter.docx',
    bytes: docxArchive,
    codes: ['UNSUPPORTED_MEDIA_TYPE'],
    says: /an Office document \(Word, Excel or PowerPoint\)/,
  },
  { name: 'locked.pdf', bytes: makeEncryptedPdf, codes: ['ENCRYPTED'], says: /password-protected/ },
  {
    name: 'thousands.pdf',
    bytes: () => makePdf(Array.from({ length: 3001 }, () => ({}))),
    codes: ['TOO_MANY_PAGES'],
    says: /3001 pages exceeds the 3000-page limit/,
  },
  {
    name: 'bomb.png',
    bytes: () => makePngHeader(40_000, 40_000),
    codes: ['IMAGE_TOO_LARGE'],
    says: /40000×40000 px/,
  },
  {
    name: 'bomb.jpg',
    bytes: () => jpegHeader(60_000, 60_000),
    codes: ['IMAGE_TOO_LARGE'],
    says: /60000×60000 px/,
  },
  {
    name: 'bomb.tif',
    bytes: () => tiffHeader(40_000, 40_000),
    codes: ['IMAGE_TOO_LARGE'],
    says: /40000×40000 px/,
  },
];

/** Valid invoices whose names a shell, a URL or a naive path join would trip over. */
const AWKWARD_NAMES = [
  'invoice  with   spaces .pdf',
  'Rechnung Nº 42 – Müller ✓ 請求書 🧾.pdf',
  '$(touch pwned); rm -rf ~ && echo `id` | cat > x \'q\' "dq" *?!#{}[]<>%&=+,@^~.pdf',
  'C:\\Users\\..\\..\\windows style.pdf',
  '-rf --help.pdf',
];

let t: TestEnv;
let dir: string;
let run: PipelineResult;
const bytesOf = new Map<string, Uint8Array>();
const registerMs = new Map<string, number>();
let elapsedMs = 0;
let peakRssDelta = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docbatch-hostile-'));
  await mkdir(join(dir, 'invoice'));
  for (const h of HOSTILE) bytesOf.set(h.name, h.bytes());
  for (const [i, name] of AWKWARD_NAMES.entries())
    bytesOf.set(name, simplePdf(invoiceDocument(100 + i).lines));
  for (const [name, bytes] of bytesOf) await writeFile(join(dir, 'invoice', name), bytes);

  t = await makeEnv();
  // Register's own time per upload key: the image bombs must be refused from their headers.
  const register = t.env.bindings.ingest['Register'];
  if (!register) throw new Error('no Register binding');
  t.env.bindings.ingest['Register'] = async (input) => {
    const started = performance.now();
    try {
      return await register(input);
    } finally {
      registerMs.set((input as { key: string }).key, performance.now() - started);
    }
  };

  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  try {
    run = await runPipeline(t.env, await collectInputs([dir]), fast);
  } finally {
    clearInterval(sampler);
  }
  elapsedMs = performance.now() - started;
  peakRssDelta = Math.max(peak, process.memoryUsage().rss) - baseline;
  console.log(
    `hostile run: ${run.documents.length} inputs in ${Math.round(elapsedMs)} ms; RSS peak +${(peakRssDelta / MB).toFixed(0)} MB over ${(baseline / MB).toFixed(0)} MB (process maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB)`,
  );
});

afterAll(async () => {
  await t?.dispose();
  await rm(dir, { recursive: true, force: true });
});

function outcomeOf(name: string) {
  const i = run.documents.findIndex((d) => basename(d.input.path) === name);
  const doc = run.documents[i];
  const ingest = run.ingest[i];
  if (!doc || !ingest) throw new Error(`no outcome for ${name}`);
  return { doc, ingest };
}

describe('Hostile and malformed input, all in one run', () => {
  it('gives every input exactly one outcome, in bounded time and memory', async () => {
    expect(run.documents).toHaveLength(HOSTILE.length + AWKWARD_NAMES.length);
    expect(run.documents.filter((d) => d.outcome === 'missing')).toEqual([]);
    expect(run.batch.status).toBe('SUCCEEDED');
    expect(elapsedMs).toBeLessThan(30_000);
    // A decoded 40,000 × 40,000 px image alone would take 1.6 GB.
    expect(peakRssDelta).toBeLessThan(400 * MB);
  });

  it.each(HOSTILE)('refuses $name in Register with $codes', async ({ name, codes, says }) => {
    const { doc, ingest } = outcomeOf(name);
    expect(doc.outcome).toBe('rejected');
    expect(statesEntered(ingest)).toEqual(['Register', 'Route', 'Quarantine', 'Rejected']);
    expect(ingest.error?.Error).toBe('DocumentRejected');

    const rejection = await readJsonFile<RejectedRecord>(join(t.workdir, 'bucket', keys.rejected(doc.docId)));
    expect(rejection.reasons.map((r) => r.code)).toEqual(codes);
    expect(rejection.reasons[0]?.message).toMatch(says);
    for (const r of rejection.reasons) {
      // Readable: one sentence, no stack trace, no raw bytes.
      expect(r.message.length).toBeGreaterThan(10);
      expect(r.message.length).toBeLessThan(300);
      expect(r.message).not.toMatch(/\n|\s+at\s+\S+\s+\(/);
      expect([...r.message].every((c) => c >= ' ')).toBe(true);
    }
    const bytes = bytesOf.get(name) ?? new Uint8Array();
    expect(rejection.source).toEqual({
      key: doc.key,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(rejection.sources).toEqual([doc.key]);
    expect(rejection.stage).toBe('ingest');
  });

  it('refuses the image bombs from their headers, without decoding them', async () => {
    // Decoding 1.6 gigapixels takes seconds and gigabytes; reading a header takes neither, even
    // while three other ingest executions share the event loop.
    for (const name of ['bomb.png', 'bomb.jpg', 'bomb.tif']) {
      const ms = registerMs.get(outcomeOf(name).doc.key) ?? Number.POSITIVE_INFINITY;
      expect(ms, name).toBeLessThan(2000);
    }
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const info = await t.env.ctx.reader.inspect(bytesOf.get('bomb.png') ?? new Uint8Array(), 'image/png');
    expect(performance.now() - started).toBeLessThan(100);
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * MB);
    expect(info.pixelSizes).toEqual([{ width: 40_000, height: 40_000 }]);
    console.log(
      `Register: ${[...registerMs].map(([k, ms]) => `${basename(k)} ${ms.toFixed(0)} ms`).join(', ')}`,
    );
  });

  it('rejects the truncated PDF although mupdf can open what is left of it', async () => {
    // Deterministic for this file: mupdf repairs the half and reads both pages (one with text), so
    // a reader alone would have sent half an invoice on to OCR. The missing %%EOF decides.
    const info = await new MupdfReader().inspect(
      bytesOf.get('truncated.pdf') ?? new Uint8Array(),
      'application/pdf',
    );
    expect(info.pages).toBe(2);
  });

  it('sends nothing hostile to OCR or to the model', async () => {
    const rejectedIds = new Set(HOSTILE.map((h) => outcomeOf(h.name).doc.docId));
    expect(await listFiles(join(t.workdir, 'bucket/ocr'))).not.toContainEqual(
      expect.stringMatching([...rejectedIds].join('|')),
    );
    const indexFiles = (await listFiles(join(t.workdir, 'bucket/runs'))).filter((f) => f.includes('/index/'));
    const submitted: string[] = [];
    for (const f of indexFiles) {
      for await (const line of t.env.store.lines(`runs/${f}`))
        submitted.push((JSON.parse(line) as IndexEntry).docId);
    }
    expect(submitted.filter((id) => rejectedIds.has(id))).toEqual([]);
    expect(submitted).toHaveLength(AWKWARD_NAMES.length);
  });

  it.each(AWKWARD_NAMES)('processes %j on its content alone', async (name) => {
    const { doc, ingest } = outcomeOf(name);
    expect(doc.outcome).toBe('result');
    expect(statesEntered(ingest)).toEqual(['Register', 'Route', 'ExtractTextLayer', 'Chunk', 'Staged']);
    expect(doc.key).toBe(keys.incoming('invoice', name.replaceAll('\\', '_')));
    const result = await readJsonFile<ResultRecord>(join(t.workdir, 'bucket', doc.outputKey ?? ''));
    expect(result.sources).toEqual([doc.key]);
    expect(t.env.ctx.schemas.validate('invoice', result.record)).toEqual([]);
    // Nothing was created from the name: no stray file beside the inputs or the bucket.
    expect((await readdir(dir)).sort()).toEqual(['invoice']);
  });
});

describe('An upload beyond every size limit', () => {
  it('is refused from its size alone, without being read', async () => {
    // A sparse file: 600 MB to stat(), nothing on disk, and a clear signal if anyone reads it.
    const key = 'incoming/invoice/huge scan.pdf';
    const path = t.env.store.path(key);
    await writeFile(path, '%PDF-1.7\n');
    await truncate(path, 600 * MB);
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const outcome = await execute(
      t.env.definitions.ingest,
      { detail: { bucket: { name: t.env.store.bucket }, object: { key } } },
      { bindings: t.env.bindings.ingest, executionName: 'too-large', ...fast },
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * MB);
    expect(statesEntered(outcome)).toEqual(['Register', 'Route', 'Quarantine', 'Rejected']);
    const docId = (
      outcome.events.find((e) => e.type === 'StateExited' && e.state?.name === 'Register')?.state?.output as
        | { docId?: string }
        | undefined
    )?.docId;
    const rejection = await readJsonFile<RejectedRecord>(
      join(t.workdir, 'bucket', keys.rejected(docId ?? '')),
    );
    expect(rejection.reasons.map((r) => r.code)).toEqual(['TOO_LARGE']);
    expect(rejection.reasons[0]?.message).toMatch(/^629145600 bytes exceeds the 524288000-byte limit/);
    expect(rejection.source).toEqual({ key, sha256: '' });
    await rm(path);
  });
});

describe('Object keys that would escape the bucket', () => {
  const ESCAPES = [
    '../outside.json',
    'incoming/../../outside.json',
    '/etc/passwd',
    '/tmp/outside',
    'C:/x',
    'a/./b',
  ];

  it.each(ESCAPES)('FsStore itself refuses %j on every operation', async (key) => {
    const root = await mkdtemp(join(tmpdir(), 'docbatch-keys-'));
    try {
      const store = new FsStore(join(root, 'bucket'));
      await expect(store.put(key, 'x')).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.put(key, 'x', { ifNoneMatch: true })).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.head(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
      expect(() => store.openWriter(key)).toThrow(InvalidKeyError);
      const listing = async () => {
        for await (const _ of store.list(`${key}/`)) {
          // draining
        }
      };
      await expect(listing()).rejects.toBeInstanceOf(InvalidKeyError);
      // Nothing was written anywhere, inside or outside the bucket.
      expect(await readdir(root)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('quarantines an upload event whose key escapes the bucket, reading nothing', async () => {
    const event = {
      detail: {
        bucket: { name: t.env.store.bucket },
        object: { key: 'incoming/invoice/../../../etc/passwd' },
      },
    };
    const outcome = await execute(t.env.definitions.ingest, event, {
      bindings: t.env.bindings.ingest,
      executionName: 'escape',
      ...fast,
    });
    expect(statesEntered(outcome)).toEqual(['Register', 'Quarantine', 'Rejected']);
    const rejections = await Promise.all(
      (await listFiles(join(t.workdir, 'bucket/rejected'))).map((f) =>
        readJsonFile<RejectedRecord>(join(t.workdir, 'bucket/rejected', f)),
      ),
    );
    const escaped = rejections.find((r) => r.source.key === event.detail.object.key);
    expect(escaped?.reasons.map((r) => r.code)).toEqual(['InvalidKey']);
    expect(escaped?.source.sha256).toBe('');
  });
});

describe('What Register says about bytes it refuses, and where a PDF ends', () => {
  const ascii = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));

  it.each([
    ['GIF89a\x01\x00\x01\x00', 'a GIF image'],
    ['RIFF\x10\x00\x00\x00WEBPVP8 ', 'a WebP image'],
    ['\x00\x00\x00\x18ftypheic\x00\x00\x00\x00', 'a HEIC/HEIF or AVIF image (convert it to JPEG or PNG)'],
    ['BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00', 'a BMP image'],
    ['BMW service invoice, total 120.00', 'plain text'],
    ['\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1', 'a legacy Office document (.doc, .xls or .ppt)'],
    ['{\\rtf1\\ansi Invoice', 'an RTF document'],
    ['  <?xml version="1.0"?><invoice/>', 'an XML file'],
    ['\n\n<HTML><body>x</body></HTML>', 'an HTML page'],
  ])('describes %j as %s', (bytes, says) => {
    expect(describeContent(ascii(bytes))).toBe(says);
  });

  it('calls UTF-8 text text, even cut inside a character, and control bytes binary', () => {
    expect(describeContent(new Uint8Array(Buffer.from('Rechnung Müller – 請求書 '.repeat(60), 'utf8')))).toBe(
      'plain text',
    );
    expect(describeContent(ascii('text\x01\x02 with control bytes'))).toBe('unrecognised binary data');
  });

  it('finds %%EOF at the very end, before trailing whitespace or NUL padding, and within 1 KB only', () => {
    const pdf = simplePdf([{ x: 50, y: 700, text: 'hello' }]);
    expect(pdfHasEndMarker(pdf)).toBe(true);
    expect(pdfHasEndMarker(new Uint8Array([...pdf, ...ascii('\r\n  \x00\x00\x00')]))).toBe(true);
    expect(pdfHasEndMarker(new Uint8Array([...pdf, ...ascii('x'.repeat(1100))]))).toBe(false);
    expect(pdfHasEndMarker(pdf.slice(0, pdf.length - 3))).toBe(false);
    expect(checkIntegrity(pdf, 'application/pdf')).toEqual([]);
    expect(checkIntegrity(pdf.slice(0, 100), 'image/png')).toEqual([]);
  });
});
