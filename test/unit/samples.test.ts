import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import * as mupdf from 'mupdf';
import { describe, expect, it } from 'vitest';
import { makeSamples } from '../../scripts/make-samples.ts';
import { sniffMediaType } from '../../src/core/documents.ts';

// ajv-formats is CommonJS with `exports.default`; Node's ESM loader and TypeScript disagree on
// where the function sits.
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const formatsModule = addFormatsModule as unknown as { default: AddFormats | { default: AddFormats } };
const addFormats: AddFormats =
  typeof formatsModule.default === 'function' ? formatsModule.default : formatsModule.default.default;

const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));
const SCHEMAS = fileURLToPath(new URL('../../schemas/', import.meta.url));

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) =>
      join(e.parentPath, e.name)
        .slice(dir.length)
        .replace(/^[/\\]+/, ''),
    )
    .map((p) => p.split('\\').join('/'))
    .sort();
}

const readJson = async (path: string): Promise<unknown> => JSON.parse(await readFile(path, 'utf8'));
const expectedPathFor = (doc: string) => `${doc.replace(/\.[^.]+$/, '')}.json`;
const cents = (n: number) => Math.round(n * 100);

interface InvoiceRecord {
  invoice_number: string;
  seller_name: string;
  buyer_name?: string;
  subtotal?: number;
  tax_amount?: number;
  total_amount: number;
  line_items?: { description: string; quantity?: number; unit_price?: number; amount?: number }[];
}

const documents = await filesUnder(join(SAMPLES, 'documents'));
const expected = (await filesUnder(join(SAMPLES, 'expected'))).filter((p) => p !== 'rejected.json');
const rejected = (await readJson(join(SAMPLES, 'expected', 'rejected.json'))) as string[];
const invoices = expected.filter((p) => p.startsWith('invoice/'));

describe('samples', () => {
  it('has at least one sample of each kind', () => {
    expect(invoices.length).toBeGreaterThanOrEqual(2);
    expect(expected.some((p) => p.startsWith('receipt/'))).toBe(true);
    expect(rejected.length).toBeGreaterThanOrEqual(1);
  });

  it.each(expected)('expected/%s validates against its schema', async (path) => {
    const type = path.split('/')[0];
    // strict: false because the schemas carry the x-docbatch extraction hints.
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const { $id: _id, ...schema } = (await readJson(join(SCHEMAS, `${type}.schema.json`))) as Record<
      string,
      unknown
    >;
    const validate = ajv.compile(schema);
    const ok = validate(await readJson(join(SAMPLES, 'expected', path)));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('pairs every document with an expected record or a rejection, and nothing else', () => {
    for (const doc of documents) {
      const hasRecord = expected.includes(expectedPathFor(doc));
      expect({ doc, outcome: hasRecord !== rejected.includes(doc) }).toEqual({ doc, outcome: true });
    }
    for (const record of expected) {
      expect(documents.map(expectedPathFor)).toContain(record);
    }
    for (const doc of rejected) expect(documents).toContain(doc);
  });

  it('rejects by magic bytes, not by name', async () => {
    for (const doc of documents) {
      const mediaType = sniffMediaType(await readFile(join(SAMPLES, 'documents', doc)));
      if (rejected.includes(doc)) expect({ doc, mediaType }).toEqual({ doc, mediaType: undefined });
      else expect({ doc, mediaType }).not.toEqual({ doc, mediaType: undefined });
    }
  });

  it.each(invoices)('expected/%s adds up', async (path) => {
    const record = (await readJson(join(SAMPLES, 'expected', path))) as InvoiceRecord;
    const lines = record.line_items ?? [];
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(cents((line.quantity ?? 0) * (line.unit_price ?? 0)), line.description).toBe(
        cents(line.amount ?? 0),
      );
    }
    const lineSum = lines.reduce((sum, line) => sum + cents(line.amount ?? 0), 0);
    expect(lineSum).toBe(cents(record.subtotal ?? Number.NaN));
    expect(cents(record.subtotal ?? 0) + cents(record.tax_amount ?? 0)).toBe(cents(record.total_amount));
  });

  it.each(invoices.map((p) => p.replace(/\.json$/, '.pdf')))(
    'documents/%s shows what its record says',
    async (path) => {
      const record = (await readJson(join(SAMPLES, 'expected', expectedPathFor(path)))) as InvoiceRecord;
      const pdf = await readFile(join(SAMPLES, 'documents', path));
      const doc = mupdf.Document.openDocument(pdf, 'application/pdf');
      let text = '';
      for (let i = 0; i < doc.countPages(); i++) text += doc.loadPage(i).toStructuredText('').asText();
      doc.destroy();
      const printed = (n: number) => n.toLocaleString('en-GB', { minimumFractionDigits: 2 });
      const shown = [
        record.invoice_number,
        record.seller_name,
        record.buyer_name ?? '',
        printed(record.total_amount),
        ...(record.line_items ?? []).map((l) => l.description),
      ];
      for (const s of shown) expect(text).toContain(s);
    },
  );

  it('the first invoice runs over two pages', async () => {
    const pdf = await readFile(join(SAMPLES, 'documents', 'invoice', 'acme-invoice-2041.pdf'));
    const doc = mupdf.Document.openDocument(pdf, 'application/pdf');
    expect(doc.countPages()).toBe(2);
    doc.destroy();
  });

  it('regenerates byte for byte, with no stale files left in samples/', async () => {
    const out = await mkdtemp(join(tmpdir(), 'docbatch-samples-'));
    try {
      const written = await makeSamples(out);
      expect([...written].sort()).toEqual(await filesUnder(SAMPLES));
      for (const path of written) {
        const fresh = await readFile(join(out, path));
        const committed = await readFile(join(SAMPLES, path));
        expect(fresh.equals(committed), `${path} differs from a fresh \`npm run samples\``).toBe(true);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('stays small', async () => {
    let total = 0;
    for (const path of await filesUnder(SAMPLES)) total += (await readFile(join(SAMPLES, path))).length;
    expect(total).toBeLessThan(512 * 1024);
  });
});
