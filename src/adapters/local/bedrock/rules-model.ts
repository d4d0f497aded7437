/**
 * The offline "rules model": fills a JSON Schema's properties from document text with
 * generic rules, so the pipeline runs end to end without Bedrock. Nothing here knows a
 * document type: every rule is driven by the schema (types, formats, `x-docbatch` hints,
 * titles and property names) and by how business documents are commonly printed.
 *
 * A field the rules cannot find is left out, never guessed: the validator downstream then
 * rejects the record for a missing required field, exactly as it would a model's.
 *
 * Rules in short:
 * - Labels of a property: `x-docbatch.labels` (in preference order), `title`, and the
 *   property name as words (`total_amount` → "total amount"). A label printed inside a
 *   longer label of another property belongs to that one (`date` in "Due date").
 * - `format: date` → ISO YYYY-MM-DD from the labelled line (or the line after it), else —
 *   for the schema's first date property only — the first date in the document. Numeric
 *   dates are day-first unless a part exceeds 12, or the document looks American (dollar
 *   amounts without other currencies, a US state + ZIP) and the date is slashed.
 * - numbers → the amount after the label on the same line, or alone on the next line.
 *   Lines qualified as something else (sub, tax, qty, excl, discount, cash, change …) are
 *   skipped unless the property's own labels use that word; for a total-like property,
 *   "incl. tax" and "rounded" lines rank higher, tax-summary sections lower, and an amount
 *   equal to cash paid minus change wins; among equals the last one printed wins.
 * - strings → the value after `Label:` (or the next line); `position: first-line` → the
 *   issuer name at the top; `kind: address` → the address block under it; `kind:
 *   currency` or `pattern: ^[A-Z]{3}$` → ISO 4217 from codes and symbols; `enum` → the one
 *   enum value printed.
 * - arrays of objects → rows of a line-item table (Markdown or plain), down to the totals.
 * - nested objects → the same rules, kept only when something was found.
 */

import { type Doc, findIssuerAddress, findIssuerName, joinAddress, splitLines } from './rules-layout.ts';
import {
  type AmountToken,
  type DateToken,
  detectCurrency,
  docContext,
  findAmounts,
  findDates,
  labelPattern,
  labelWords,
  markerToCode,
} from './rules-parse.ts';
import { type ColumnSpec, columnRole, extractItems } from './rules-table.ts';

/** The `x-docbatch` extension keyword: extraction hints that validation ignores. */
export interface DocbatchHints {
  labels?: string[];
  position?: string;
  kind?: string;
}

/** The subset of JSON Schema (draft 2020-12) the rules model reads; other keywords pass through. */
export interface JSONSchemaObject {
  type?: string | string[];
  title?: string;
  description?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, JSONSchemaObject>;
  items?: JSONSchemaObject;
  required?: string[];
  $ref?: string;
  $defs?: Record<string, JSONSchemaObject>;
  definitions?: Record<string, JSONSchemaObject>;
  anyOf?: JSONSchemaObject[];
  oneOf?: JSONSchemaObject[];
  'x-docbatch'?: DocbatchHints;
  [keyword: string]: unknown;
}

type Kind =
  | 'date'
  | 'number'
  | 'integer'
  | 'string'
  | 'boolean'
  | 'currency'
  | 'address'
  | 'name'
  | 'enum'
  | 'items'
  | 'object'
  | 'skip';

interface Field {
  key: string;
  schema: JSONSchemaObject;
  kind: Kind;
  labels: string[];
  patterns: { re: RegExp; idx: number; words: number }[];
  labelWordSet: Set<string>;
}

interface Hit {
  field: string;
  idx: number;
  words: number;
  start: number;
  end: number;
}

/** Extract a record for `schema` from document `text`. Pure: no I/O, no clock, no randomness. */
export function extractBySchema(text: string, schema: JSONSchemaObject): Record<string, unknown> {
  const doc: Doc = { lines: splitLines(text), ctx: docContext(text) };
  return extractObject(doc, text, resolve(schema, schema), schema) ?? {};
}

// ---------------------------------------------------------------------------------------------
// Schema helpers

function resolve(schema: JSONSchemaObject, root: JSONSchemaObject, depth = 0): JSONSchemaObject {
  let s = schema;
  // Local references only: the assembler inlines schemas, and a user's `$defs` live in the root.
  for (let i = 0; i < 8 && typeof s.$ref === 'string'; i++) {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(s.$ref);
    const table = m?.[1] === '$defs' ? root.$defs : root.definitions;
    const target = m?.[2] ? table?.[decodeURIComponent(m[2])] : undefined;
    if (!target) break;
    const { $ref: _ignored, ...rest } = s;
    s = { ...target, ...rest };
  }
  const branches = s.anyOf ?? s.oneOf;
  if (!s.type && !s.properties && branches && depth < 4) {
    const firstNonNull = branches.find((b) => b.type !== 'null');
    if (firstNonNull) {
      const { anyOf: _a, oneOf: _o, ...own } = s;
      return { ...resolve(firstNonNull, root, depth + 1), ...own };
    }
  }
  return s;
}

function primaryType(schema: JSONSchemaObject): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null');
  if (schema.type) return schema.type;
  if (schema.properties) return 'object';
  if (schema.items) return 'array';
  if (schema.enum) return 'string';
  return undefined;
}

function hintsOf(schema: JSONSchemaObject): DocbatchHints {
  const h = schema['x-docbatch'];
  return h && typeof h === 'object' ? h : {};
}

function kindOf(schema: JSONSchemaObject, root: JSONSchemaObject): Kind {
  const hints = hintsOf(schema);
  const type = primaryType(schema);
  if (type === 'array') {
    const items = schema.items ? resolve(schema.items, root) : undefined;
    return items && primaryType(items) === 'object' && items.properties ? 'items' : 'skip';
  }
  if (type === 'object') return schema.properties ? 'object' : 'skip';
  if (type === 'number') return 'number';
  if (type === 'integer') return 'integer';
  if (type === 'boolean') return 'boolean';
  if (type !== 'string') return 'skip';
  if (schema.format === 'date') return 'date';
  if (hints.kind === 'currency' || schema.pattern === '^[A-Z]{3}$') return 'currency';
  if (hints.kind === 'address') return 'address';
  if (hints.position === 'first-line') return 'name';
  if (Array.isArray(schema.enum) && schema.enum.every((v) => typeof v === 'string')) return 'enum';
  // Formats the rules cannot produce faithfully (date-time needs a zone) are left out.
  if (schema.format === 'date-time' || schema.format === 'time') return 'skip';
  return 'string';
}

function labelsOf(key: string, schema: JSONSchemaObject): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (label: string | undefined): void => {
    if (!label) return;
    const norm = labelWords(label).join(' ');
    if (norm && !seen.has(norm)) {
      seen.add(norm);
      out.push(label);
    }
  };
  for (const l of hintsOf(schema).labels ?? []) add(l);
  add(schema.title);
  add(labelWords(key).join(' '));
  return out;
}

function buildFields(schema: JSONSchemaObject, root: JSONSchemaObject): Field[] {
  const fields: Field[] = [];
  for (const [key, raw] of Object.entries(schema.properties ?? {})) {
    const s = resolve(raw, root);
    const labels = labelsOf(key, s);
    const patterns: Field['patterns'] = [];
    labels.forEach((label, idx) => {
      const re = labelPattern(label);
      if (re) patterns.push({ re, idx, words: labelWords(label).length });
    });
    fields.push({
      key,
      schema: s,
      kind: kindOf(s, root),
      labels,
      patterns,
      labelWordSet: new Set(labels.flatMap((l) => labelWords(l))),
    });
  }
  return fields;
}

// ---------------------------------------------------------------------------------------------
// Label hits

/** Label matches of every field on every line; a match inside a longer match of another field is dropped. */
function labelHits(doc: Doc, fields: readonly Field[]): Hit[][] {
  return doc.lines.map((line) => {
    const hits: Hit[] = [];
    for (const f of fields) {
      for (const p of f.patterns) {
        for (const m of line.matchAll(p.re)) {
          hits.push({ field: f.key, idx: p.idx, words: p.words, start: m.index, end: m.index + m[0].length });
        }
      }
    }
    return hits
      .filter(
        (h) =>
          !hits.some(
            (o) =>
              o !== h &&
              o.start <= h.start &&
              o.end >= h.end &&
              o.end - o.start > h.end - h.start &&
              (o.field !== h.field || o.idx !== h.idx),
          ),
      )
      .sort((a, b) => a.start - b.start);
  });
}

/**
 * The text after a label, up to the next label of another field that starts a new
 * `Key: value` pair on the same line (`Date: 1/2/2024   Total: 9.00`).
 */
function restAfter(line: string, hit: Hit, lineHits: readonly Hit[]): string {
  let end = line.length;
  for (const o of lineHits) {
    if (o.field === hit.field || o.start < hit.end) continue;
    if (/^\s*[:#]/.test(line.slice(o.end))) {
      end = o.start;
      break;
    }
  }
  return line.slice(hit.end, end);
}

function words(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Numbers

// Words that turn "total" into some other quantity, unless the property's own labels use them.
const QUALIFIER_WORDS = new Set([
  'sub',
  'subtotal',
  'tax',
  'gst',
  'vat',
  'qty',
  'quantity',
  'item',
  'items',
  'count',
  'excl',
  'excluding',
  'exclusive',
  'excluded',
  'discount',
  'disc',
  'saving',
  'savings',
  'change',
  'tendered',
  'cash',
  'paid',
  'payment',
  'deposit',
  'points',
  'rounding',
  'adjustment',
  'adj',
]);
const TAX_WORDS = new Set(['tax', 'gst', 'vat']);
const INCL_WORDS = new Set(['incl', 'inclusive', 'including', 'includes', 'inc', 'with']);
const SCOPE_WORDS = new Set([
  ...INCL_WORDS,
  'excl',
  'excluding',
  'exclusive',
  'excluded',
  'before',
  'after',
  'without',
]);
const PAID_WORDS = new Set([
  'cash',
  'tendered',
  'paid',
  'payment',
  'visa',
  'mastercard',
  'master',
  'amex',
  'card',
  'debit',
  'credit',
]);
const TOTAL_WORDS = new Set(['total', 'due', 'balance', 'payable']);
const NOT_TOTAL_WORDS = new Set(['sub', 'subtotal', 'tax', 'vat', 'gst', 'excl']);

function isTotalLike(f: Field): boolean {
  const w = [...f.labelWordSet];
  return w.some((x) => TOTAL_WORDS.has(x)) && !w.some((x) => NOT_TOTAL_WORDS.has(x));
}

/** Does the text before the value say it is some other quantity than the field's? */
function qualifiedAway(context: string, f: Field, labelStartWord: number): boolean {
  const ws = words(context);
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i] ?? '';
    if (!QUALIFIER_WORDS.has(w) || f.labelWordSet.has(w)) continue;
    // "incl. GST", "inclusive of tax": a total that includes tax, not the tax.
    if (TAX_WORDS.has(w) && ws.slice(Math.max(0, i - 3), i).some((x) => SCOPE_WORDS.has(x))) continue;
    return true;
  }
  // The field's own label scoped by "incl."/"excl." ("Total incl. tax" is not the tax).
  const before = ws.slice(Math.max(0, labelStartWord - 2), labelStartWord);
  return before.some((x) => SCOPE_WORDS.has(x));
}

function withinBounds(v: number, s: JSONSchemaObject, kind: Kind): boolean {
  if (kind === 'integer' && !Number.isInteger(v)) return false;
  if (s.minimum !== undefined && v < s.minimum) return false;
  if (s.maximum !== undefined && v > s.maximum) return false;
  if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return false;
  if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum) return false;
  return true;
}

interface NumberCandidate {
  value: number;
  line: number;
  score: number;
}

function pickToken(tokens: readonly AmountToken[], f: Field): AmountToken | undefined {
  const usable = tokens.filter((t) => withinBounds(t.value, f.schema, f.kind));
  if (f.kind === 'integer') return usable.find((t) => !t.monetary) ?? usable[0];
  const monetary = usable.filter((t) => t.monetary);
  if (monetary.length > 0) return monetary[monetary.length - 1];
  // A bare integer is read only when it stands alone after the label ("Total: 12").
  return usable.length === 1 ? usable[0] : undefined;
}

/**
 * The amount printed under a label that has none beside it: the first amount of the next
 * line, when at most one word precedes it there. Column layouts interleave labels and
 * values this way (`TOTAL INCL. GST RM` / `ROUNDING 15.00`), and a lone `9.00` is common.
 */
function valueOnNextLine(doc: Doc, i: number, f: Field, hits: readonly Hit[][]): AmountToken | undefined {
  const at = nextContentLine(doc, i);
  if (at === undefined || (hits[at] ?? []).some((h) => h.field === f.key)) return undefined;
  const token = leadingAmount(doc, doc.lines[at] ?? '');
  return token && withinBounds(token.value, f.schema, f.kind) ? token : undefined;
}

/** The line after `i`, stepping over one line of bare separators (a lone `:` between columns). */
function nextContentLine(doc: Doc, i: number): number | undefined {
  for (let j = i + 1; j < Math.min(doc.lines.length, i + 3); j++) {
    if (!/^[\s:=\-–.|]*$/.test(doc.lines[j] ?? '')) return j;
  }
  return undefined;
}

/** The first amount of a line when at most one word precedes it (`9.00`, `RM 9.00`, `ROUNDING 15.00`). */
function leadingAmount(doc: Doc, line: string): AmountToken | undefined {
  const token = findAmounts(line, doc.ctx).find((t) => t.monetary);
  return token && words(line.slice(0, token.start)).length <= 1 ? token : undefined;
}

/** Where payments are printed: what the customer handed over and what came back. */
function payment(doc: Doc): { expected?: number; paidLine?: number } {
  let paid: { value: number; line: number } | undefined;
  let change: number | undefined;
  doc.lines.forEach((line, i) => {
    const ws = words(line);
    const amounts = findAmounts(line, doc.ctx).filter((a) => a.monetary);
    const at = nextContentLine(doc, i);
    const below =
      amounts.length === 0 && at !== undefined ? leadingAmount(doc, doc.lines[at] ?? '') : undefined;
    const value = amounts[amounts.length - 1]?.value ?? below?.value;
    if (value === undefined) return;
    if (ws.includes('change')) {
      if (paid && change === undefined) change = value;
    } else if (!paid && ws.some((w) => PAID_WORDS.has(w)) && !ws.some((w) => TOTAL_WORDS.has(w))) {
      paid = { value, line: i };
    }
  });
  if (!paid) return {};
  if (change === undefined) return { paidLine: paid.line };
  return { expected: Math.round((paid.value - change) * 100) / 100, paidLine: paid.line };
}

function extractNumber(doc: Doc, f: Field, hits: readonly Hit[][]): number | undefined {
  const totalLike = isTotalLike(f);
  const summaryAt = doc.lines.findIndex((l) =>
    /(?<![\p{L}])(summary|breakdown|analysis)(?![\p{L}])/iu.test(l),
  );
  const candidates: NumberCandidate[] = [];
  doc.lines.forEach((line, i) => {
    const lineHits = hits[i] ?? [];
    for (const hit of lineHits) {
      if (hit.field !== f.key) continue;
      const rest = restAfter(line, hit, lineHits);
      let token = pickToken(findAmounts(rest, doc.ctx), f);
      let context = line.slice(0, hit.end) + (token ? rest.slice(0, token.start) : rest);
      let score = 10 + 2 * hit.words - 0.1 * hit.idx;
      if (!token && findAmounts(rest, doc.ctx).length === 0 && words(rest).length <= 6) {
        token = valueOnNextLine(doc, i, f, hits);
        context = line;
        score -= 1;
      }
      if (!token) continue;
      const labelStartWord = words(line.slice(0, hit.start)).length;
      if (qualifiedAway(context, f, labelStartWord)) continue;
      const ws = words(context);
      if (totalLike && ws.some((w) => INCL_WORDS.has(w))) score += 3;
      if (totalLike && ws.some((w) => w === 'rounded' || w === 'round')) score += 2;
      if (summaryAt >= 0 && i > summaryAt) score -= 8;
      if (findAmounts(rest, doc.ctx).filter((t) => t.monetary).length > 1) score -= 3;
      candidates.push({ value: token.value, line: i, score });
    }
  });
  if (candidates.length === 0) return undefined;
  let expected: number | undefined;
  let paidLine: number | undefined;
  if (totalLike) {
    ({ expected, paidLine } = payment(doc));
    for (const c of candidates) {
      if (expected !== undefined && Math.abs(c.value - expected) < 0.005) c.score += 6;
    }
  }
  let best = candidates[0];
  for (const c of candidates) {
    if (!best || c.score > best.score || (c.score === best.score && totalLike && c.line > best.line))
      best = c;
  }
  if (!best) return undefined;
  // A rounding adjustment printed between the total and the payment: the rounded amount is
  // what was paid (`TOTAL 60.31`, `ROUNDING -0.01`, `60.30`, `CASH 70.30`, `CHANGE 10.00`).
  if (totalLike && expected !== undefined && paidLine !== undefined && best.value !== expected) {
    if (Math.abs(best.value - expected) <= 0.1 + 1e-9) {
      for (let i = best.line + 1; i < paidLine; i++) {
        if (findAmounts(doc.lines[i] ?? '', doc.ctx).some((t) => Math.abs(t.value - expected) < 0.005)) {
          return expected;
        }
      }
    }
  }
  return best.value;
}

// ---------------------------------------------------------------------------------------------
// Dates

function extractDate(
  doc: Doc,
  f: Field,
  hits: readonly Hit[][],
  fallback: boolean,
  fields: readonly Field[],
): string | undefined {
  let best: { iso: string; score: number } | undefined;
  doc.lines.forEach((line, i) => {
    const lineHits = hits[i] ?? [];
    for (const hit of lineHits) {
      if (hit.field !== f.key) continue;
      let score = 10 + 2 * hit.words - 0.1 * hit.idx;
      let date: DateToken | undefined = findDates(restAfter(line, hit, lineHits), doc.ctx)[0];
      if (!date && i + 1 < doc.lines.length) {
        const next = doc.lines[i + 1] ?? '';
        const d = findDates(next, doc.ctx)[0];
        // Column layouts print the value under its label: accept a date opening the next line.
        if (d && d.start <= 2) {
          date = d;
          score -= 1;
        }
      }
      if (date && (!best || score > best.score)) best = { iso: date.iso, score };
    }
  });
  if (best) return best.iso;
  if (!fallback) return undefined;
  const otherDateFields = new Set(
    fields.filter((o) => o.kind === 'date' && o.key !== f.key).map((o) => o.key),
  );
  for (const [i, line] of doc.lines.entries()) {
    if ((hits[i] ?? []).some((h) => otherDateFields.has(h.field))) continue;
    const d = findDates(line, doc.ctx)[0];
    if (d) return d.iso;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Strings

// Words that make a preceding label mean another identifier ("Phone number", "Order no").
const FOREIGN_KEY_WORDS = new Set([
  'phone',
  'tel',
  'telephone',
  'fax',
  'mobile',
  'order',
  'account',
  'acct',
  'customer',
  'client',
  'po',
  'purchase',
  'reg',
  'registration',
  'gst',
  'vat',
  'abn',
  'tin',
  'iban',
  'ref',
  'reference',
  'tracking',
  'serial',
  'member',
  'card',
  'bank',
  'routing',
  'swift',
  'download',
  'feedback',
]);

/** The value of a `Label: value` pair, when the label really is the key of the pair. */
function labelledValue(line: string, hit: Hit, lineHits: readonly Hit[]): string | undefined {
  const before = line.slice(0, hit.start);
  const keyStart =
    Math.max(before.lastIndexOf('|'), before.search(/\s{2,}\S*$/), before.lastIndexOf('\t')) + 1;
  const preceding = words(before.slice(keyStart));
  const rest = restAfter(line, hit, lineHits);
  const separated = /^\s*[:#=|]/.test(rest);
  if (preceding.length > 0) {
    if (!separated || preceding.length > 2 || preceding.some((w) => FOREIGN_KEY_WORDS.has(w)))
      return undefined;
  }
  const value = rest.replace(/^[\s:#=|.\-–]+/, '');
  // "Company Reg No.: 123": the label is only the start of a longer key.
  if (!separated && /^[^:]{1,25}:/.test(value)) return undefined;
  return value
    .replace(/\s{2,}\S[^:]{0,25}:.*$/, '')
    .replace(/[\s,;|]+$/, '')
    .trim();
}

interface StringCandidate {
  value: string;
  line: number;
  next: boolean;
}

/** Labelled values in document order; an empty value reads the next line when it is not a pair itself. */
function labelledStrings(doc: Doc, f: Field, hits: readonly Hit[][]): StringCandidate[] {
  const out: StringCandidate[] = [];
  doc.lines.forEach((line, i) => {
    const lineHits = hits[i] ?? [];
    for (const hit of lineHits) {
      if (hit.field !== f.key) continue;
      const value = labelledValue(line, hit, lineHits);
      if (value === undefined) continue;
      if (/[\p{L}\p{N}]/u.test(value)) {
        out.push({ value, line: i, next: false });
      } else if (value === '' && i + 1 < doc.lines.length) {
        const next = doc.lines[i + 1] ?? '';
        if ((hits[i + 1] ?? []).length === 0 && !/^[^:]{1,30}:/.test(next) && /[\p{L}\p{N}]/u.test(next)) {
          out.push({ value: next, line: i + 1, next: true });
        }
      }
    }
  });
  return out;
}

function fitsString(value: string, s: JSONSchemaObject): boolean {
  if (s.minLength !== undefined && value.length < s.minLength) return false;
  if (s.maxLength !== undefined && value.length > s.maxLength) return false;
  if (s.pattern) {
    try {
      if (!new RegExp(s.pattern, 'u').test(value)) return false;
    } catch {
      // A pattern JavaScript cannot compile is the validator's problem, not a reason to drop the value.
    }
  }
  return true;
}

const EMAIL_RE = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}/u;
const URI_RE = /\bhttps?:\/\/[^\s|<>"]+/u;

function extractString(doc: Doc, f: Field, hits: readonly Hit[][], text: string): string | undefined {
  const format = f.schema.format;
  const shape = format === 'email' ? EMAIL_RE : format === 'uri' || format === 'url' ? URI_RE : undefined;
  for (const c of labelledStrings(doc, f, hits)) {
    const value = shape ? shape.exec(c.value)?.[0] : c.value;
    if (value && fitsString(value, f.schema)) return value;
  }
  if (shape) {
    const found = shape.exec(text)?.[0];
    if (found && fitsString(found, f.schema)) return found;
  }
  return undefined;
}

function extractName(doc: Doc, f: Field, hits: readonly Hit[][]): string | undefined {
  for (const c of labelledStrings(doc, f, hits)) {
    const s = c.value.replace(/\s+/g, ' ').trim();
    const letterCount = (s.match(/\p{L}/gu) ?? []).length;
    if (letterCount >= 2 && letterCount >= s.replace(/\s/g, '').length * 0.5 && fitsString(s, f.schema))
      return s;
  }
  const name = findIssuerName(doc)?.name;
  return name && fitsString(name, f.schema) ? name : undefined;
}

function extractAddress(doc: Doc, f: Field, hits: readonly Hit[][], positional: boolean): string | undefined {
  for (const c of labelledStrings(doc, f, hits)) {
    // A labelled address goes on over the short lines that follow it.
    const parts = [c.value];
    for (let i = c.line + 1; i < Math.min(doc.lines.length, c.line + 5); i++) {
      const line = doc.lines[i] ?? '';
      if ((hits[i] ?? []).length > 0 || /^[^:]{1,30}:/.test(line) || line.split(/\s+/).length > 8) break;
      if (findAmounts(line, doc.ctx).some((a) => a.monetary)) break;
      parts.push(line);
    }
    const value = joinAddress(parts);
    if (value && /\p{L}{2}/u.test(value) && fitsString(value, f.schema)) return value;
  }
  if (!positional) return undefined;
  const address = findIssuerAddress(doc);
  return address && fitsString(address, f.schema) ? address : undefined;
}

function extractCurrency(doc: Doc, f: Field, hits: readonly Hit[][], text: string): string | undefined {
  for (const c of labelledStrings(doc, f, hits)) {
    const code = /(?<![\p{L}])[A-Z]{3}(?![\p{L}])/u.exec(c.value)?.[0];
    if (code && fitsString(code, f.schema)) return code;
    const marker = /^(RM|Rs\.?|US\$|[$€£₹¥])/.exec(c.value)?.[1];
    const fromMarker = marker ? markerToCode(marker, 'USD') : undefined;
    if (fromMarker) return fromMarker;
  }
  const code = detectCurrency(text, doc.ctx);
  return code && fitsString(code, f.schema) ? code : undefined;
}

function extractEnum(doc: Doc, f: Field, hits: readonly Hit[][], text: string): string | undefined {
  const values = (f.schema.enum ?? []).filter((v): v is string => typeof v === 'string' && v.length > 0);
  const inText = (hay: string): string[] =>
    values.filter((v) => labelPattern(v)?.test(hay) || (!/[\p{L}\p{N}]/u.test(v) && hay.includes(v)));
  for (const c of labelledStrings(doc, f, hits)) {
    const found = inText(c.value);
    if (found.length === 1) return found[0];
  }
  const found = inText(text);
  return found.length === 1 ? found[0] : undefined;
}

function extractBoolean(doc: Doc, f: Field, hits: readonly Hit[][]): boolean | undefined {
  for (const c of labelledStrings(doc, f, hits)) {
    const w = words(c.value)[0];
    if (w === undefined) continue;
    if (['yes', 'y', 'true', 'ja', 'oui', 'si', 'sí'].includes(w)) return true;
    if (['no', 'n', 'false', 'nein', 'non'].includes(w)) return false;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Objects

function itemColumns(items: JSONSchemaObject, root: JSONSchemaObject): ColumnSpec[] {
  return buildFields(items, root)
    .filter((f) => ['string', 'name', 'number', 'integer', 'enum'].includes(f.kind))
    .map((f) => {
      const numeric = f.kind === 'number' || f.kind === 'integer';
      return {
        key: f.key,
        role: columnRole(f.key, numeric, f.labels),
        integer: f.kind === 'integer',
        labels: f.labels,
      };
    });
}

function extractObject(
  doc: Doc,
  text: string,
  schema: JSONSchemaObject,
  root: JSONSchemaObject,
  depth = 0,
): Record<string, unknown> | undefined {
  if (depth > 4) return undefined;
  const fields = buildFields(schema, root);
  const hits = labelHits(doc, fields);
  const firstDate = fields.find((f) => f.kind === 'date')?.key;
  const firstAddress = fields.find((f) => f.kind === 'address')?.key;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    let value: unknown;
    switch (f.kind) {
      case 'number':
      case 'integer':
        value = extractNumber(doc, f, hits);
        break;
      case 'date':
        value = extractDate(doc, f, hits, f.key === firstDate, fields);
        break;
      case 'string':
        value = extractString(doc, f, hits, text);
        break;
      case 'name':
        value = extractName(doc, f, hits);
        break;
      case 'address':
        value = extractAddress(doc, f, hits, f.key === firstAddress);
        break;
      case 'currency':
        value = extractCurrency(doc, f, hits, text);
        break;
      case 'enum':
        value = extractEnum(doc, f, hits, text);
        break;
      case 'boolean':
        value = extractBoolean(doc, f, hits);
        break;
      case 'items': {
        const items = f.schema.items ? resolve(f.schema.items, root) : undefined;
        const rows = items ? extractItems(doc, itemColumns(items, root)) : [];
        if (rows.length > 0) value = rows;
        break;
      }
      case 'object':
        value = extractObject(doc, text, f.schema, root, depth + 1);
        break;
      case 'skip':
        break;
    }
    if (value !== undefined) out[f.key] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
