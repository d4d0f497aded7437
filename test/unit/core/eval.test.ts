import { describe, expect, it } from 'vitest';
import {
  type ExpectedRecord,
  evaluate,
  expectedRecordOf,
  inferKind,
  normalizeDate,
  normalizeId,
  normalizeText,
  type Outcome,
  parseMapping,
  stemOf,
  tokenF1,
} from '../../../src/core/eval.ts';
import { ConfigError } from '../../../src/errors.ts';

const exp = (stem: string, record: Record<string, unknown>, folder?: string): ExpectedRecord => ({
  stem,
  file: folder ? `${folder}/${stem}.json` : `${stem}.json`,
  ...(folder ? { folder } : {}),
  record,
});

const result = (name: string, record: Record<string, unknown>, type = 'receipt'): Outcome => ({
  docId: `doc-${name}`,
  type,
  status: 'result',
  sources: [`incoming/${type}/${name}`],
  record,
});

const field = (r: ReturnType<typeof evaluate>, name: string) => {
  const f = r.fields.find((x) => x.field === name);
  if (!f) throw new Error(`no field ${name}`);
  return f;
};

describe('Function: normalizers', () => {
  it('text ignores case, spacing, punctuation and compatibility forms', () => {
    expect(normalizeText('  BOOK TA .K (TAMAN DAYA) SDN BHD ')).toBe('book ta k taman daya sdn bhd');
    expect(normalizeText('Ｃａｆé,  Ltd.')).toBe('café ltd');
  });

  it('ids keep letters and digits only', () => {
    expect(normalizeId('#BLR_WFLD-2015')).toBe('blrwfld2015');
    expect(normalizeId('DE 232 446 240')).toBe(normalizeId('de232446240'));
  });

  it('dates are read as printed (day first) or as ISO, datetimes cut to the date', () => {
    expect(normalizeDate('25/12/2018')).toBe('2018-12-25');
    expect(normalizeDate('18 april 2014')).toBe('2014-04-18');
    expect(normalizeDate('2014-08-03T00:00:00Z')).toBe('2014-08-03');
    expect(normalizeDate('not a date')).toBeUndefined();
  });

  it('token F1 counts tokens with multiplicity', () => {
    expect(tokenF1('a b c d e', 'a b c d x')).toBeCloseTo(0.8);
    expect(tokenF1('a a b', 'a b b')).toBeCloseTo(2 / 3);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('a', '')).toBe(0);
  });

  it('infers the comparison from the schema, else from the value', () => {
    expect(inferKind('date', { type: 'string', format: 'date' }, 'x')).toBe('date');
    expect(inferKind('total', { type: 'number' }, '9.00')).toBe('amount');
    expect(inferKind('merchant_name', { type: 'string' }, 'x')).toBe('tokens');
    expect(inferKind('currency', { type: 'string', pattern: '^[A-Z]{3}$' }, 'EUR')).toBe('id');
    expect(inferKind('line_items', { type: 'array' }, [])).toBe('items');
    expect(inferKind('note', { type: 'string' }, 'x')).toBe('text');
    expect(inferKind('amount', undefined, 4.11)).toBe('amount');
  });

  it('reads an expected file holding an object or a list with one object, nothing else', () => {
    expect(expectedRecordOf({ a: 1 })).toEqual({ a: 1 });
    expect(expectedRecordOf([{ a: 1 }])).toEqual({ a: 1 });
    expect(expectedRecordOf(['receipt/x.pdf'])).toBeUndefined();
    expect(expectedRecordOf([{ a: 1 }, { a: 2 }])).toBeUndefined();
  });

  it('takes a stem as the file name without its last extension', () => {
    expect(stemOf('incoming/receipt/001.jpg')).toBe('001');
    expect(stemOf('incoming/x/a.b.pdf')).toBe('a.b');
    expect(stemOf('incoming/x/.hidden')).toBe('.hidden');
  });
});

describe('Function: parseMapping', () => {
  it('accepts a field name or an object with kind, threshold, tolerance and item rules; skips $ notes', () => {
    const m = parseMapping({
      $comment: 'notes',
      company: 'merchant_name',
      total: { field: 'total', kind: 'amount', tolerance: 0.05 },
      lines: { field: 'line_items', kind: 'items', items: { name: 'description' } },
    });
    expect(m.rules).toEqual([
      { label: 'company', field: 'merchant_name' },
      { label: 'total', field: 'total', kind: 'amount', tolerance: 0.05 },
      {
        label: 'lines',
        field: 'line_items',
        kind: 'items',
        items: [{ label: 'name', field: 'description' }],
      },
    ]);
  });

  it('refuses unknown kinds, keys and shapes with the place and what is allowed', () => {
    expect(() => parseMapping({ a: { field: 'x', kind: 'fuzzy' } }, 'm.json')).toThrow(
      /m\.json\["a"\]\.kind is "fuzzy"; allowed: text, id, tokens, date, amount, items/,
    );
    expect(() => parseMapping({ a: { field: 'x', weight: 2 } })).toThrow(/unknown key\(s\) weight/);
    expect(() => parseMapping({ a: 3 })).toThrow(ConfigError);
    expect(() => parseMapping([])).toThrow(/must be a JSON object/);
  });
});

describe('Function: evaluate on a generated case with known scores', () => {
  const mapping = parseMapping({
    name: { field: 'merchant_name', kind: 'tokens' },
    date: { field: 'date', kind: 'date' },
    total: { field: 'total', kind: 'amount' },
  });
  const expected = [
    exp('A', { name: 'Corner Cafe Ltd', date: '25/12/2018', total: '9.00' }),
    exp('B', { name: 'Blue Sky Trading Sdn Bhd', date: '01/02/2019', total: '10.50' }),
    exp('C', { name: 'Gamma', date: '2020-01-01', total: 5 }),
    exp('D', { name: 'Delta Shop', date: null, total: '7' }),
    exp('F', { name: 'Foo', total: '1' }),
  ];
  const outcomes: Outcome[] = [
    // all three right: case and punctuation, an ISO date for a printed one, 9.004 within 0.01
    result('A.jpg', { merchant_name: 'CORNER CAFE LTD.', date: '2018-12-25', total: 9.004 }),
    // name F1 0.8 (a hit at the 0.8 threshold), wrong day, right total
    result('B.png', { merchant_name: 'Blue Sky Tradng Sdn Bhd', date: '2019-02-02', total: 10.5 }),
    { docId: 'doc-C', type: 'receipt', status: 'rejected', sources: ['incoming/receipt/C.jpg'], reasons: [] },
    // name F1 2/3 (a miss), a date where the truth says none (a false positive), right total
    result('D.jpg', { merchant_name: 'Delta', date: '2020-05-05', total: 7 }),
    // no expected record: not judged
    result('E.jpg', { merchant_name: 'Elsewhere' }),
    // F has no outcome at all
  ];
  const r = evaluate(expected, outcomes, { mapping });

  it('counts documents by outcome', () => {
    expect(r.documents).toEqual({
      expected: 5,
      results: 3,
      rejected: 1,
      missing: 1,
      ambiguous: 0,
      unexpected: 1,
    });
  });

  it('scores names by token F1: P 2/3, R 2/5, F1 1/2, mean F1 over the expected values', () => {
    const f = field(r, 'merchant_name');
    expect(f).toMatchObject({ kind: 'tokens', expected: 5, predicted: 3, correct: 2, labels: ['name'] });
    expect(f.precision).toBeCloseTo(2 / 3);
    expect(f.recall).toBeCloseTo(0.4);
    expect(f.f1).toBeCloseTo(0.5);
    expect(f.meanScore).toBeCloseTo((1 + 0.8 + 0 + 2 / 3 + 0) / 5);
  });

  it('judges a date only where the truth has the label; a null label makes a prediction a false positive', () => {
    const f = field(r, 'date');
    expect(f).toMatchObject({ expected: 3, predicted: 3, correct: 1 });
    expect(f.precision).toBeCloseTo(1 / 3);
    expect(f.recall).toBeCloseTo(1 / 3);
    expect(f.f1).toBeCloseTo(1 / 3);
  });

  it('compares amounts within the tolerance: P 1, R 3/5, F1 3/4', () => {
    const f = field(r, 'total');
    expect(f).toMatchObject({ expected: 5, predicted: 3, correct: 3, precision: 1 });
    expect(f.recall).toBeCloseTo(0.6);
    expect(f.f1).toBeCloseTo(0.75);
  });

  it('gives overall accuracy as correct / expected fields, rejected and missing documents missing all theirs', () => {
    expect(r.overall).toMatchObject({ expected: 13, predicted: 9, correct: 6 });
    expect(r.overall.accuracy).toBeCloseTo(6 / 13);
    expect(r.overall.precision).toBeCloseTo(6 / 9);
  });

  it('explains each document: the rejection, the misses with both values', () => {
    const b = r.perDocument.find((d) => d.stem === 'B');
    expect(b?.fields.find((f) => f.field === 'date')).toMatchObject({
      hit: false,
      expected: '01/02/2019',
      predicted: '2019-02-02',
    });
    expect(r.perDocument.find((d) => d.stem === 'C')?.verdict).toBe('rejected');
    expect(r.perDocument.find((d) => d.stem === 'F')?.verdict).toBe('missing');
  });

  it('a stricter threshold and a wider tolerance change exactly the judgements they govern', () => {
    const strict = evaluate(expected, outcomes, { mapping, options: { threshold: 0.9, tolerance: 0 } });
    expect(field(strict, 'merchant_name').correct).toBe(1);
    expect(field(strict, 'total').correct).toBe(2);
  });
});

describe('Function: evaluate, matching and special fields', () => {
  it('compares under the same names without a mapping and lists unmapped labels with one', () => {
    const r = evaluate([exp('a', { total: 3, vat: 'x' })], [result('a.pdf', { total: 3 })]);
    expect(r.overall.accuracy).toBe(0.5);
    expect(r.notCompared).toEqual([]);
    const mapped = evaluate([exp('a', { total: 3, vat: 'x' })], [result('a.pdf', { total: 3 })], {
      mapping: parseMapping({ total: 'total' }),
    });
    expect(mapped.overall.accuracy).toBe(1);
    expect(mapped.notCompared).toEqual(['vat']);
  });

  it('matches any key the bytes were uploaded under, and tells equal stems apart by folder = type', () => {
    const dup: Outcome = {
      ...result('x.pdf', { total: 1 }),
      sources: ['incoming/receipt/x.pdf', 'incoming/receipt/y.pdf'],
    };
    const r = evaluate([exp('y', { total: 1 })], [dup]);
    expect(r.overall.accuracy).toBe(1);

    const invoice = result('a.pdf', { total: 2 }, 'invoice');
    const receipt = result('a.png', { total: 1 }, 'receipt');
    const byFolder = evaluate([exp('a', { total: 2 }, 'invoice')], [receipt, invoice]);
    expect(byFolder.overall.accuracy).toBe(1);
    const ambiguous = evaluate([exp('a', { total: 2 })], [receipt, invoice]);
    expect(ambiguous.documents.ambiguous).toBe(1);
    expect(ambiguous.perDocument[0]?.note).toMatch(/several documents share the stem "a"/);
  });

  it('matches line items one to one, each compared sub-field by its kind', () => {
    const mapping = parseMapping({
      lines: {
        field: 'line_items',
        kind: 'items',
        items: { name: { field: 'description', kind: 'tokens' }, price_unit: 'unit_price' },
      },
    });
    const schemaFor = () => ({
      type: 'object',
      properties: {
        line_items: {
          type: 'array',
          items: { type: 'object', properties: { unit_price: { type: 'number' } } },
        },
      },
    });
    const truth = exp('inv', {
      lines: [
        { name: 'AWS Data Transfer', price_unit: '0.01' },
        { name: 'Amazon Glacier', price_unit: '2.22' },
        { line_note: 'not comparable: skipped' },
      ],
    });
    const right = evaluate(
      [truth],
      [
        result(
          'inv.pdf',
          {
            line_items: [
              { description: 'Amazon Glacier', unit_price: 2.22 },
              { description: 'AWS data transfer', unit_price: 0.01 },
            ],
          },
          'invoice',
        ),
      ],
      { mapping, schemaFor },
    );
    expect(field(right, 'line_items')).toMatchObject({ correct: 1, meanScore: 1 });
    const half = evaluate(
      [truth],
      [
        result(
          'inv.pdf',
          {
            line_items: [
              { description: 'Amazon Glacier', unit_price: 2.5 },
              { description: 'AWS data transfer', unit_price: 0.01 },
            ],
          },
          'invoice',
        ),
      ],
      { mapping, schemaFor },
    );
    expect(field(half, 'line_items')).toMatchObject({ correct: 0, meanScore: 0.5 });
  });
});
