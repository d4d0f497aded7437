import { describe, expect, it } from 'vitest';
import {
  coerceDate,
  coerceNumber,
  extractObject,
  mergeChunks,
  normalizeRecord,
} from '../../../src/core/collect.ts';
import type { JsonSchema } from '../../../src/core/families/types.ts';

const usage = { inputTokens: 1, outputTokens: 1 };

describe('Function: extractObject', () => {
  it('returns the tool input when the model called the tool', () => {
    const out = extractObject({ toolInput: { total: 3 }, truncated: false, usage });
    expect(out).toEqual({ value: { total: 3 }, reasons: [] });
  });

  it('returns the last JSON object of a text answer, fenced or not', () => {
    const text = 'First try: {"total": 1}\nActually:\n```json\n{"total": 2,}\n```';
    expect(extractObject({ text, truncated: false, usage }).value).toEqual({ total: 2 });
  });

  it('repairs comments and trailing commas', () => {
    const text = 'Here you go {"a": 1, // the amount\n "b": "x",}';
    expect(extractObject({ text, truncated: false, usage }).value).toEqual({ a: 1, b: 'x' });
  });

  it('refuses to guess at a truncated answer', () => {
    const out = extractObject({ text: '{"total": 12', truncated: true, usage });
    expect(out.value).toBeUndefined();
    expect(out.reasons[0]?.code).toBe('OUTPUT_TRUNCATED');
  });

  it('returns NO_JSON for prose without an object', () => {
    expect(
      extractObject({ text: 'I cannot read this document.', truncated: false, usage }).reasons[0]?.code,
    ).toBe('NO_JSON');
  });
});

describe('Function: coerceDate', () => {
  it.each([
    ['2024-12-25', '2024-12-25'],
    ['25/12/2024', '2024-12-25'],
    ['12/25/2024', '2024-12-25'],
    ['25.12.24', '2024-12-25'],
    ['14 March 2025', '2025-03-14'],
    ['March 14, 2025', '2025-03-14'],
    ['3rd Jan 2020', '2020-01-03'],
  ])('returns ISO for %s', (input, iso) => {
    expect(coerceDate(input)).toBe(iso);
  });

  it('returns undefined for impossible dates', () => {
    expect(coerceDate('31/02/2024')).toBeUndefined();
    expect(coerceDate('yesterday')).toBeUndefined();
  });
});

describe('Function: coerceNumber', () => {
  it.each([
    ['1,234.50', 1234.5],
    ['1.234,50', 1234.5],
    ['$ 12', 12],
    ['RM9.00', 9],
    ['EUR 5,541.80', 5541.8],
    ['12,5', 12.5],
  ])('parses %s', (input, n) => {
    expect(coerceNumber(input)).toBe(n);
  });

  it('returns undefined for text that is not an amount', () => {
    expect(coerceNumber('twelve')).toBeUndefined();
    expect(coerceNumber('12 and 13')).toBeUndefined();
  });
});

const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    total: { type: 'number' },
    date: { type: 'string', format: 'date' },
    name: { type: 'string' },
    items: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, properties: { amount: { type: 'number' } } },
    },
  },
};

describe('Function: normalizeRecord', () => {
  it('drops undeclared fields and lists them as warnings', () => {
    const { record, warnings } = normalizeRecord({ name: 'A', colour: 'red' }, schema);
    expect(record).toEqual({ name: 'A' });
    expect(warnings).toContain('dropped /colour: the schema does not define it');
  });

  it('coerces only lossless values the schema declares', () => {
    const { record } = normalizeRecord({ total: '1,234.50', date: '25/12/2024', name: '42' }, schema);
    expect(record).toEqual({ total: 1234.5, date: '2024-12-25', name: '42' });
  });

  it('leaves non-coercible values for validation to reject', () => {
    const { record } = normalizeRecord({ total: 'about ten', date: 'soon' }, schema);
    expect(record).toEqual({ total: 'about ten', date: 'soon' });
  });

  it('normalizes nested array items', () => {
    const { record, warnings } = normalizeRecord({ items: [{ amount: '3.50', extra: 1 }] }, schema);
    expect(record).toEqual({ items: [{ amount: 3.5 }] });
    expect(warnings.some((w) => w.includes('/items/0/extra'))).toBe(true);
  });

  it('treats null and empty string as absent', () => {
    expect(normalizeRecord({ name: '', total: null }, schema).record).toEqual({});
  });
});

describe('Function: mergeChunks', () => {
  it('keeps the first value of a scalar and records a conflict', () => {
    const { record, conflicts } = mergeChunks([
      { chunk: 1, record: { total: 9 } },
      { chunk: 0, record: { total: 10, name: 'A' } },
    ]);
    expect(record).toEqual({ total: 10, name: 'A' });
    expect(conflicts).toHaveLength(1);
  });

  it('concatenates arrays in chunk order without duplicates from overlaps', () => {
    const { record } = mergeChunks([
      { chunk: 0, record: { items: [{ a: 1 }, { a: 2 }] } },
      { chunk: 1, record: { items: [{ a: 2 }, { a: 3 }] } },
    ]);
    expect(record['items']).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });
});
