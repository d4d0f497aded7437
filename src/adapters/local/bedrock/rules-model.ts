/**
 * The offline "rules model": fills a JSON Schema's properties from document text with
 * generic rules, so the pipeline runs end to end without Bedrock. Nothing here knows a
 * document type: every rule is driven by the schema (types, formats, `x-docbatch` hints,
 * titles and property names) and by how business documents are commonly printed.
 *
 * A field the rules cannot find is left out, never guessed: the validator downstream then
 * rejects the record for a missing required field, exactly as it would a model's. A wrong
 * value is worse than none, so every reading below has guards that drop doubtful values.
 *
 * Rows are read as cells (rules-cells.ts): runs of two or more spaces, tabs, ` | ` and
 * Markdown pipes separate what a linearizer put side by side on one line, so two columns
 * merged on one row (`Sheffield S3 8AB  Invoice Number:  INV-2041`) and layout-ordered text
 * with `Key: value` lines and Markdown tables read the same way.
 *
 * Rules in short:
 * - Labels of a property: `x-docbatch.labels` (in preference order), `title`, and the
 *   property name as words (`total_amount` → "total amount"). A label printed inside a
 *   longer label of another property belongs to that one (`date` in "Due date"); a label
 *   never spans the gap between two cells.
 * - Where a label's value is: the rest of the label's own cell (`Invoice No: 42`); when that
 *   is empty, the next cell of the row (`Inv. No.  NW-7731`) unless that cell is itself a key
 *   (`Bill To:  Payment Terms:  Net 30 days`: a caption, a `Key: value` pair, a recipient
 *   heading or another label); then the cell under the label on the next row — the same
 *   column when both rows have as many cells, else the first cell when the label opens its
 *   row. In a row of digit-free captions over a row of values with as many cells (`Klant
 *   Order  Factuur datum` / `SCONL…  SCONL…  8-9-2022`), each caption's value is the one
 *   under it.
 * - `format: date` → ISO YYYY-MM-DD from the labelled value, else — for the schema's first
 *   date property only — the first date in the document. A bare `Date` caption after another
 *   event's noun (`Order Date`, `Check In`) is skipped, in the labelled pass and in the
 *   fallback. Numeric dates are day-first unless a part exceeds 12, or the document looks
 *   American (dollar amounts without other currencies, a US state + ZIP) and is slashed.
 * - numbers → the amount in the label's cell, else in the value cells after it (`Total  1
 *   278.61  40.39  319.00`: the last amount), else alone under it. Lines qualified as
 *   something else (sub, tax, qty, excl, discount, cash, change, no., id …, and their Dutch,
 *   German and French forms) are skipped unless the property's own labels use that word;
 *   long bare integers (`KvK 71234567`) are ids, never amounts; for a total-like property,
 *   "incl. tax" and "rounded" lines rank higher, tax-summary sections lower, and an amount
 *   equal to cash paid minus change wins; among equals the last one printed wins. A lone
 *   currency marker or `:` cell between label and amount is part of the value (`TOTAL  :  RM
 *   39.80`). With no labelled total: subtotal plus the charge lines under it when an amount
 *   below confirms the sum, else cash paid minus change. A bare integer (`1500`) whose digits
 *   are printed elsewhere as an amount with cents (`15.00`) is that amount (OCR lost the point).
 * - strings → the labelled value, more specific (multi-word) labels first. Identifier
 *   properties (labels or name with number/no/#/id/ref) take one token carrying a digit and
 *   nothing after it but an aside (`INV-2041 (continued)`); their bare captions (`No.`, `#`,
 *   `Number`) count only alone or after a word naming the document (`Invoice #`, `Document
 *   No.`), and a one-word caption (`INVOICE`) never reads the line under it, except in a
 *   caption row. Name properties take mostly-letter values that are not captions or
 *   sentences. `position: first-line` → the issuer name at the top (rules-layout.ts);
 *   `kind: address` → the address block under it; `kind: currency` or `pattern: ^[A-Z]{3}$`
 *   → ISO 4217 from codes and symbols; `enum` → the one enum value printed.
 * - arrays of objects → rows of a line-item table (Markdown or plain, rules-table.ts).
 * - nested objects → the same rules, kept only when something was found.
 */

import { type Cell, cellIndexAt, isKeyCell } from './rules-cells.ts';
import {
  type Doc,
  findImprintName,
  findIssuerAddress,
  findIssuerName,
  hasLegalSuffix,
  isColumnHeaderRow,
  isNameLike,
  isRecipientHeading,
  joinAddress,
  makeDoc,
} from './rules-layout.ts';
import {
  type AmountToken,
  type DateToken,
  detectCurrency,
  findAmounts,
  findDates,
  isCurrencyMarker,
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
  const doc = makeDoc(text);
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
          // A label never spans the gap between two cells (`Sub  Total` are two captions).
          if (/\s{2,}|\t|\s\|\s/.test(m[0])) continue;
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

/** Where a label hit sits among the cells of its row. */
interface Place {
  cells: Cell[];
  index: number;
  cell: Cell;
}

function placeOf(doc: Doc, i: number, hit: Hit): Place {
  const cells = doc.cells[i] ?? [];
  const index = cellIndexAt(cells, hit.start);
  const line = doc.lines[i] ?? '';
  return { cells, index, cell: cells[index] ?? { text: line, start: 0, end: line.length } };
}

/**
 * The text after a label within its own cell, up to the next label of another field that
 * starts a new `Key: value` pair in the same cell (`Date: 1/2/2024 Total: 9.00`).
 */
function ownRest(line: string, hit: Hit, lineHits: readonly Hit[], place: Place): string {
  let end = Math.max(hit.end, place.cell.end);
  for (const o of lineHits) {
    if (o.field === hit.field || o.start < hit.end || o.start >= end) continue;
    if (/^\s*[:#]/.test(line.slice(o.end))) {
      end = o.start;
      break;
    }
  }
  return line.slice(hit.end, end);
}

/** Does any label hit fall inside this cell? */
function cellHasHit(cell: Cell, lineHits: readonly Hit[]): boolean {
  return lineHits.some((h) => h.start >= cell.start && h.start < cell.end);
}

/**
 * The value cells following a label's cell on its row: the run of cells carrying a digit
 * (`Total  1  278.61  40.39  319.00`), up to the first key cell — a caption without digits or
 * one holding another label — which starts the next pair of a merged row. Receipts print the
 * separator and the currency as cells of their own (`TOTAL  :  RM  39.80`): a cell of bare
 * separators is stepped over, and a lone currency marker belongs to the amount after it.
 */
function followingValues(place: Place, lineHits: readonly Hit[]): string {
  const out: string[] = [];
  for (let k = place.index + 1; k < place.cells.length; k++) {
    const c = place.cells[k];
    if (!c || c.text === '' || /^[:=\-–.|]+$/.test(c.text)) continue;
    if (isCurrencyMarker(c.text)) {
      out.push(c.text);
      continue;
    }
    if (isKeyCell(c.text) || cellHasHit(c, lineHits)) break;
    out.push(c.text);
  }
  return out.join('  ');
}

/**
 * The cell printed under a label's cell: the same column of the next row when both rows have
 * as many cells (a caption row over a value row, `Bill To:  Payment Terms:` over `Globex
 * Corporation  Currency:`), or the first cell when the label opens its row.
 */
function cellBelow(
  doc: Doc,
  i: number,
  place: Place,
): { cell: Cell; text: string; line: number } | undefined {
  const j = nextContentLine(doc, i);
  if (j === undefined) return undefined;
  const below = doc.cells[j] ?? [];
  if (below.length !== place.cells.length && place.index !== 0) return undefined;
  const cell = below[place.index];
  return cell && cell.text !== '' ? { cell, text: cell.text, line: j } : undefined;
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
  // The same qualifiers as Dutch, German and French invoices print them.
  'btw',
  'mwst',
  'ust',
  'tva',
  'iva',
  'subtotaal',
  'zwischensumme',
  'netto',
  'ht',
  'exclusief',
  'exkl',
  'zzgl',
  'hors',
  'korting',
  'rabatt',
  'remise',
  // Ids printed after a tax or total word (`VAT no.`, `VAT/TIN:`) are not amounts.
  'no',
  'nr',
  'number',
  'id',
  'kvk',
  'tin',
  'reg',
]);
const TAX_WORDS = new Set(['tax', 'gst', 'vat', 'btw', 'mwst', 'ust', 'tva', 'iva']);
const INCL_WORDS = new Set([
  'incl',
  'inclusive',
  'including',
  'includes',
  'inc',
  'with',
  'inclusief',
  'inkl',
  'inklusive',
  'ttc',
]);
const SCOPE_WORDS = new Set([
  ...INCL_WORDS,
  'excl',
  'excluding',
  'exclusive',
  'excluded',
  'before',
  'after',
  'without',
  'exclusief',
  'exkl',
  'exklusive',
  'zzgl',
  'ohne',
  'hors',
]);
// OCR glues the next word on (`Inclusivof GST`) and reads a capital I as l or 1 (`lnclusiv`):
// the stems still say what the amount covers.
function isInclWord(w: string): boolean {
  return INCL_WORDS.has(w) || /^(?:[il1|]nclu|inklu)/.test(w);
}
function isScopeWord(w: string): boolean {
  return SCOPE_WORDS.has(w) || /^(?:[il1|]nclu|inklu|exclu|exklu)/.test(w);
}
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
const NOT_TOTAL_WORDS = new Set([
  'sub',
  'subtotal',
  'tax',
  'vat',
  'gst',
  'excl',
  'subtotaal',
  'zwischensumme',
  'btw',
  'mwst',
  'tva',
  'netto',
  'ht',
]);

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
    if (TAX_WORDS.has(w) && ws.slice(Math.max(0, i - 3), i).some(isScopeWord)) continue;
    return true;
  }
  // The field's own label scoped by "incl."/"excl." ("Total incl. tax" is not the tax).
  const before = ws.slice(Math.max(0, labelStartWord - 2), labelStartWord);
  return before.some(isScopeWord);
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
  /** Printed with decimals or a currency marker. */
  monetary: boolean;
}

function pickToken(tokens: readonly AmountToken[], f: Field): AmountToken | undefined {
  // A long bare integer (`KvK 71234567`, `VAT/TIN: 29670869006`) is an id, never a quantity.
  const usable = tokens.filter(
    (t) => withinBounds(t.value, f.schema, f.kind) && (t.monetary || Math.abs(t.value) < 1_000_000),
  );
  if (f.kind === 'integer') return usable.find((t) => !t.monetary) ?? usable[0];
  const monetary = usable.filter((t) => t.monetary);
  if (monetary.length > 0) return monetary[monetary.length - 1];
  // A bare integer is read only when it stands alone after the label ("Total: 12").
  return usable.length === 1 ? usable[0] : undefined;
}

/**
 * The amount printed under a label that has none beside it. A label alone on its row: the
 * first amount of the next line, when at most one word precedes it there — column layouts
 * interleave labels and values this way (`TOTAL INCL. GST RM` / `ROUNDING 15.00`), and a lone
 * `9.00` is common. A label among other cells: the amount opening the cell under it.
 */
function valueOnNextLine(
  doc: Doc,
  i: number,
  place: Place,
  f: Field,
  hits: readonly Hit[][],
): AmountToken | undefined {
  let text: string | undefined;
  let at: number | undefined;
  if (place.cells.length <= 1) {
    at = nextContentLine(doc, i);
    text = at === undefined ? undefined : doc.lines[at];
  } else {
    const below = cellBelow(doc, i, place);
    at = below?.line;
    text = below?.text;
  }
  if (at === undefined || text === undefined || (hits[at] ?? []).some((h) => h.field === f.key))
    return undefined;
  const token = leadingAmount(doc, text);
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
  // Payment is printed after the total: above it, `CARD` or `CASH` is part of an item's name
  // (`PRIVILEGE CARD`) or of the document's title (`CASH RECEIPT`).
  const firstTotal = doc.lines.findIndex((l) => words(l).some((w) => TOTAL_WORDS.has(w)));
  doc.lines.forEach((line, i) => {
    if (i < firstTotal) return;
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

// Lines added to a subtotal on the way to the total: taxes, service charges, rounding.
const CHARGE_WORDS = new Set([...TAX_WORDS, 'service', 'charge', 'charges', 'rounding', 'round', 'adj']);

/**
 * The last amount with decimals of a line, or the one opening the line under a label alone;
 * `next` is the line after the one the amount was read from.
 */
function lineAmount(doc: Doc, i: number): { value: number; next: number } | undefined {
  const amounts = findAmounts(doc.lines[i] ?? '', doc.ctx).filter((a) => a.monetary);
  const own = amounts[amounts.length - 1];
  if (own) return { value: own.value, next: i + 1 };
  const at = nextContentLine(doc, i);
  const below = at === undefined ? undefined : leadingAmount(doc, doc.lines[at] ?? '');
  return below && at !== undefined ? { value: below.value, next: at + 1 } : undefined;
}

/**
 * A total printed without a readable label: the subtotal plus the tax, service-charge and
 * rounding lines printed right under it (`SUB TOTAL 68.87`, `SERVICE CHARGE 0.00`, `GST 6%
 * 4.13`), confirmed by an amount equal to that sum within the next few lines (`TO : RM 73.00`).
 * Unconfirmed sums are never returned: a missed charge line would make them wrong.
 */
const SUBTOTAL_RE = /(?<![\p{L}])sub[\s\-.]*total/iu;

function summedTotal(doc: Doc): number | undefined {
  // The caption may be glued to OCR noise (`SUB-TOTALABYY`), so it is matched as a prefix.
  const start = doc.lines.findIndex((l) => SUBTOTAL_RE.test(l));
  if (start < 0) return undefined;
  const subtotal = lineAmount(doc, start);
  if (subtotal === undefined) return undefined;
  // Labels and amounts may alternate line by line (`SUB-TOTAL` / `144.68` / `TOTAL TAX` /
  // `8.68`): a label's amount below it is its own, not a line of the run nor a confirmation.
  // Every reading of the run: a rounding line's sign is often lost to OCR (`ROUNDING 0.01`
  // printed as `-0.01`), so both signs stay possible until a printed amount settles it.
  let sums = [subtotal.value];
  let i = subtotal.next;
  let noise = 0;
  for (; i < doc.lines.length; ) {
    const line = doc.lines[i] ?? '';
    const ws = words(line);
    // `TOTAL TAX 1.56` is a charge; `TOTAL 27.55` ends the run.
    if (!ws.some((w) => CHARGE_WORDS.has(w))) {
      // A line of scanner noise between the charges (`a 7 oo .`) does not end the run.
      if (
        findAmounts(line, doc.ctx).every((a) => !a.monetary) &&
        !ws.some((w) => TOTAL_WORDS.has(w)) &&
        ++noise <= 1
      ) {
        i++;
        continue;
      }
      break;
    }
    const amount = lineAmount(doc, i);
    if (amount === undefined) break;
    const value = amount.value;
    i = amount.next;
    const rounding = ws.some((w) => w === 'rounding' || w === 'round' || w === 'adj');
    sums = sums.flatMap((sum) => (rounding && value !== 0 ? [sum + value, sum - value] : [sum + value]));
  }
  const totals = sums.map((sum) => Math.round(sum * 100) / 100);
  for (let j = i; j < Math.min(doc.lines.length, i + 3); j++) {
    // The subtotal printed again (a table row, then a summary line) confirms nothing.
    if (SUBTOTAL_RE.test(doc.lines[j] ?? '')) continue;
    const printed = [
      ...findAmounts(doc.lines[j] ?? '', doc.ctx),
      ...repairedAmounts(doc, doc.lines[j] ?? ''),
    ];
    const total = totals.find((t) => printed.some((a) => a.monetary && Math.abs(a.value - t) < 0.005));
    if (total !== undefined) return total;
  }
  return undefined;
}

/**
 * Amounts as OCR commonly damages them on a receipt's right edge: a column rule read as a
 * leading slash (`/18.00`) or the decimal point read as a colon (`27:55`). They are not amounts
 * by themselves; a caller uses them only where a label or a sum vouches for them.
 */
function repairedAmounts(doc: Doc, line: string): AmountToken[] {
  const repaired = line
    .replace(/(^|\s)[/|]\s?(?=\d+[.,]\d{2}(?!\d))/g, '$1 ')
    .replace(/(?<![\d:])(\d{1,4}):(\d{2})(?![\d:])/g, '$1.$2');
  return repaired === line ? [] : findAmounts(repaired, doc.ctx).filter((a) => a.monetary);
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
      const place = placeOf(doc, i, hit);
      const keyStart = place.cell.start <= hit.start ? place.cell.start : 0;
      // The value beside the label: in its own cell, else in the value cells after it.
      let rest = ownRest(line, hit, lineHits, place);
      let token = pickToken(findAmounts(rest, doc.ctx), f);
      if (!token && findAmounts(rest, doc.ctx).every((t) => !t.monetary)) {
        const after = followingValues(place, lineHits);
        if (after) {
          rest = `${rest}  ${after}`;
          token = pickToken(findAmounts(rest, doc.ctx), f);
        }
      }
      let score = 10 + 2 * hit.words - 0.1 * hit.idx;
      if (!token && findAmounts(rest, doc.ctx).every((t) => !t.monetary)) {
        // `TOTAL  /18.00`: read through the damage, a little less trusted than a clean amount.
        const repaired = repairedAmounts(doc, rest);
        token = repaired.length > 0 ? pickToken(repaired, f) : undefined;
        if (token) score -= 1;
      }
      let context = line.slice(keyStart, hit.end) + (token ? rest.slice(0, token.start) : rest);
      if (!token && findAmounts(rest, doc.ctx).length === 0 && words(rest).length <= 6) {
        token = valueOnNextLine(doc, i, place, f, hits);
        context = place.cells.length <= 1 ? line : place.cell.text;
        score -= 1;
      }
      if (!token) continue;
      const labelStartWord = words(line.slice(keyStart, hit.start)).length;
      if (qualifiedAway(context, f, labelStartWord)) continue;
      const ws = words(context);
      if (totalLike && ws.some(isInclWord)) score += 3;
      if (totalLike && ws.some((w) => w === 'rounded' || w === 'round')) score += 2;
      if (summaryAt >= 0 && i > summaryAt) score -= 8;
      if (findAmounts(rest, doc.ctx).filter((t) => t.monetary).length > 1) score -= 3;
      candidates.push({ value: token.value, line: i, score, monetary: token.monetary });
    }
  });
  if (candidates.length === 0) {
    // No labelled total (a label lost to the print or to OCR: `TO  :  RM  73.00`): the
    // subtotal plus the charges under it, when an amount printed below equals that sum; else
    // what the customer handed over minus the change handed back. Both need two printed
    // amounts that agree: a payment alone may be a round note larger than the total.
    if (!totalLike) return undefined;
    const value = summedTotal(doc) ?? payment(doc).expected;
    return value !== undefined && value > 0 && withinBounds(value, f.schema, f.kind) ? value : undefined;
  }
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
  // A bare integer on a total line (`Total Cty 25`: a count whose caption OCR garbled) is weak;
  // what was handed over less the change handed back is two printed amounts that agree.
  if (totalLike && !best.monetary && expected !== undefined && expected > 0 && best.value !== expected)
    return expected;
  // Nothing is owed, yet change was given for a payment: the zero is a tax column's total.
  if (totalLike && best.value <= 0 && expected !== undefined && expected > 0) return expected;
  if (totalLike && !(expected !== undefined && Math.abs(best.value - expected) < 0.005)) {
    // Subtotal and charges adding up to an amount printed under them are two readings that
    // agree; a labelled amount that neither they nor the payment confirm yields to them.
    const summed = summedTotal(doc);
    if (
      summed !== undefined &&
      summed > 0 &&
      Math.abs(best.value - summed) >= 0.005 &&
      withinBounds(summed, f.schema, f.kind)
    )
      return summed;
  }
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
  return f.kind === 'number' && !best.monetary ? lostDecimalPoint(doc, best.value) : best.value;
}

/**
 * A bare integer read where amounts have cents (`Total Incl. GST  RM 1500`, OCR having lost
 * the point of `15.00`): when the same digits are printed elsewhere in the document as an
 * amount with two decimals (`15.00`), that amount is what the line says. Without such a
 * witness the integer stands as read.
 */
function lostDecimalPoint(doc: Doc, value: number): number {
  if (!Number.isInteger(value) || value < 100) return value;
  const cents = value / 100;
  const witnessed = doc.lines.some((l) =>
    findAmounts(l, doc.ctx).some((a) => a.monetary && Math.abs(a.value - cents) < 0.005),
  );
  return witnessed ? cents : value;
}

// ---------------------------------------------------------------------------------------------
// Dates

// Nouns that make a bare `Date` caption the date of some other event (`Order Date:`,
// `Delivery date`): such a caption is not the label of a generic date property.
const OTHER_EVENT_WORDS = new Set([
  'order',
  'ordered',
  'due',
  'delivery',
  'delivered',
  'ship',
  'shipping',
  'shipped',
  'dispatch',
  'despatch',
  'check',
  'birth',
  'expiry',
  'expiration',
  'valid',
  'start',
  'end',
  'arrival',
  'departure',
  'travel',
  'booking',
  'pickup',
  'return',
  'payment',
  'service',
]);
const GENERIC_DATE_WORDS = new Set(['date', 'datum', 'fecha', 'data', 'dated']);

function otherEventDate(keyBefore: string, label: string): boolean {
  if (!labelWords(label).every((w) => GENERIC_DATE_WORDS.has(w))) return false;
  return words(keyBefore)
    .slice(-2)
    .some((w) => OTHER_EVENT_WORDS.has(w));
}

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
      const place = placeOf(doc, i, hit);
      if (otherEventDate(line.slice(place.cell.start, hit.start), f.labels[hit.idx] ?? '')) continue;
      let score = 10 + 2 * hit.words - 0.1 * hit.idx;
      const own = ownRest(line, hit, lineHits, place);
      let date: DateToken | undefined = findDates(own, doc.ctx)[0];
      if (!date && !/[\p{L}\p{N}]{2}/u.test(own)) {
        // `Invoice Date:  14 March 2025`: the value is the next cell of the row.
        date = findDates(followingValues(place, lineHits), doc.ctx)[0];
      }
      if (!date) {
        // Column layouts print the value under its label: accept a date opening the next line,
        // or, in a row of captions, opening the cell under the caption.
        const below =
          place.cells.length <= 1
            ? (() => {
                const j = nextContentLine(doc, i);
                return j === undefined ? undefined : { text: doc.lines[j] ?? '', line: j };
              })()
            : cellBelow(doc, i, place);
        const d = below ? findDates(below.text, doc.ctx)[0] : undefined;
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
    const cells = doc.cells[i] ?? [];
    const captionsAbove = i > 0 && isColumnHeaderRow(doc, i - 1) ? (doc.cells[i - 1] ?? []) : [];
    for (const d of findDates(line, doc.ctx)) {
      // A date captioned as another event's (`Order Date: 1 May 2024`, or `Check In` in the
      // row of captions above) is not the document's.
      const k = cellIndexAt(cells, d.start);
      const cell = cells[k];
      const before = words(line.slice(cell && cell.start <= d.start ? cell.start : 0, d.start)).slice(-3);
      const caption = words(captionsAbove[k]?.text ?? '');
      if ([...before, ...caption].some((w) => OTHER_EVENT_WORDS.has(w))) continue;
      return d.iso;
    }
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
  'kvk',
  'coc',
  'btw',
  'ust',
  'ustid',
  'steuer',
  'kunden',
  'kundennr',
  'klant',
  'klantnummer',
  'bestell',
  'auftrags',
  'contract',
  'booking',
  'page',
  'seite',
  'table',
  'pos',
  'item',
  'article',
  'artikel',
  'delivery',
  'quote',
  'quotation',
  'transaction',
  'txn',
  'terminal',
  'cashier',
]);

// Labels that name no document of their own (`No.`, `#`, `Number`): they are the key of a
// pair only alone or after a word naming the document itself (`Invoice #`, `Document No.`),
// never after another noun (`Registered in England No. 0881`, `Service tax #`).
const GENERIC_ID_WORDS = new Set(['no', 'nr', 'nº', 'n°', 'number', 'nummer', 'num', '#', 'id']);
const DOCUMENT_NOUNS = new Set([
  'invoice',
  'inv',
  'bill',
  'document',
  'doc',
  'receipt',
  'credit',
  'debit',
  'note',
  'voucher',
  'factuur',
  'rechnung',
  'rechnungs',
  'facture',
  'factura',
  'fattura',
]);

function isGenericIdLabel(label: string): boolean {
  const ws = labelWords(label).map((w) => w.replace(/\.$/, ''));
  return ws.length > 0 && ws.every((w) => GENERIC_ID_WORDS.has(w));
}

/**
 * A cell that is the key of another pair, not a value: a caption (`Payment Terms:`), a whole
 * pair (`Payment Terms: Net 30 days`), a recipient heading, another field's label.
 */
function isKeyLike(cell: Cell, lineHits: readonly Hit[]): boolean {
  return (
    /:\s*$/.test(cell.text) ||
    /^[^:\d]{0,30}\p{L}[^:\d]{0,30}:\s/u.test(cell.text) ||
    isRecipientHeading(cell.text) ||
    cellHasHit(cell, lineHits)
  );
}

interface StringCandidate {
  value: string;
  /** The line the value was read from (the label's, or the one under it). */
  line: number;
}

/**
 * The value of a `Label: value` pair, when the label really is the key of the pair: the text
 * after the label in its cell; when that is empty, the next cell of the row unless it is a key
 * itself (`Bill To:  Payment Terms:  Net 30 days`); else the cell under the label (the next
 * line for a label alone on its row). In a row of captions over a row of values, the value is
 * always the one under the caption.
 */
function labelledValue(
  doc: Doc,
  i: number,
  hit: Hit,
  hits: readonly Hit[][],
  f: Field,
): StringCandidate | undefined {
  const line = doc.lines[i] ?? '';
  const lineHits = hits[i] ?? [];
  const place = placeOf(doc, i, hit);
  const keyStart = place.cell.start <= hit.start ? place.cell.start : 0;
  const preceding = words(line.slice(keyStart, hit.start));
  const rest = ownRest(line, hit, lineHits, place);
  const separated = /^\s*[:#=|]/.test(rest);
  if (preceding.length > 0) {
    if (!separated || preceding.length > 2 || preceding.some((w) => FOREIGN_KEY_WORDS.has(w)))
      return undefined;
  }
  if (isGenericIdLabel(f.labels[hit.idx] ?? '') && !preceding.every((w) => DOCUMENT_NOUNS.has(w)))
    return undefined;
  const value = rest.replace(/^[\s:#=|.\-–]+/, '');
  // "Company Reg No.: 123": the label is only the start of a longer key.
  if (!separated && /^[^:]{1,25}:/.test(value)) return undefined;
  const own = value
    .replace(/\s{2,}\S[^:]{0,25}:.*$/, '')
    .replace(/[\s,;|]+$/, '')
    .trim();
  if (/[\p{L}\p{N}]/u.test(own)) return { value: own, line: i };
  if (own !== '') return undefined;
  const next = place.cells.slice(place.index + 1).find((c) => c.text !== '');
  if (next && !isKeyLike(next, lineHits) && !isColumnHeaderRow(doc, i)) {
    return { value: next.text.replace(/[\s,;|]+$/, ''), line: i };
  }
  // A one-word caption of an identifier (`INVOICE`, `No.`) is a title as often as a key: it
  // reads a value under it only in a row of captions over a row of values.
  if (hit.words < 2 && isIdField(f) && !isColumnHeaderRow(doc, i)) return undefined;
  // A label alone on its row reads the first cell of the next (`CUSTOMER` / `Contoso B.V.`).
  const below = cellBelow(doc, i, place);
  if (!below || !/[\p{L}\p{N}]/u.test(below.text)) return undefined;
  if (cellHasHit(below.cell, hits[below.line] ?? []) || /^[^:]{1,30}:/.test(below.text)) return undefined;
  // `Address` / `GST No.`: an empty form field followed by the next caption, not its value.
  if (/(?<![\p{L}])(?:no|nr|number|id)\.?$/iu.test(below.text.trim())) return undefined;
  return { value: below.text.replace(/[\s,;|]+$/, ''), line: below.line };
}

/**
 * Labelled values: those of labels of two words or more (`Invoice Number`) first, then those
 * of one-word labels (`No.`, `Invoice`, `Customer`), each in document order. A specific
 * caption anywhere is better evidence than a generic one printed earlier.
 */
function labelledStrings(doc: Doc, f: Field, hits: readonly Hit[][]): StringCandidate[] {
  const specific: StringCandidate[] = [];
  const generic: StringCandidate[] = [];
  doc.lines.forEach((_line, i) => {
    for (const hit of hits[i] ?? []) {
      if (hit.field !== f.key) continue;
      const c = labelledValue(doc, i, hit, hits, f);
      if (c) (hit.words >= 2 ? specific : generic).push(c);
    }
  });
  return [...specific, ...generic];
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

// Words of labels and property names that make a string an identifier (`Invoice No`, `order_id`).
const ID_WORDS = new Set([...GENERIC_ID_WORDS, 'ref', 'reference', 'code']);

// Numbers printed in spaced groups of letters and digits (`+44 114 496 0321`, `NL91 ABNA 0417`):
// contact and bank details, not identifiers of one token.
const GROUPED_NUMBER_WORDS = new Set([
  'phone',
  'tel',
  'telephone',
  'fax',
  'mobile',
  'iban',
  'vat',
  'gst',
  'abn',
]);

function isIdField(f: Field): boolean {
  const ws = [...f.labelWordSet, ...labelWords(f.key)];
  if (ws.some((w) => GROUPED_NUMBER_WORDS.has(w))) return false;
  return (
    ws.some((w) => ID_WORDS.has(w.replace(/\.$/, ''))) ||
    /(?:^|_)(?:number|no|nr|num|id|ref|code)$/i.test(f.key)
  );
}

function isNameField(f: Field): boolean {
  return labelWords(f.key).includes('name') || labelWords(f.schema.title ?? '').includes('name');
}

/**
 * An identifier as printed: one token carrying a digit (`NW-7731`, `#BLR_WFLD2015…`), maybe
 * continued by groups of digits (`12 345`), alone or followed only by an aside in parentheses
 * (`INV-2041 (continued)`) or by the next `Key:` pair. Anything else after it (`12 Main
 * Street`, `2 of 3`) means the token was not an identifier at all; text without a digit is a
 * caption or a word, never an invoice number.
 */
function identifier(value: string): string | undefined {
  // Groups of digits may follow the token (`No: 12 345`); a word may not (`12 Main Street`).
  const m =
    /^#?\s*([\p{L}\p{N}][\p{L}\p{N}\-_/.#]*?(?:\s\d[\d\-/]*)*?)[.,;]?(?:\s+\(.*\)|\s+[^:\d]{1,25}:.*)?$/u.exec(
      value.trim(),
    );
  const id = m?.[1];
  // The digit belongs to the first token: `PAGE 1` is a page, not an identifier.
  return id && /\p{N}/u.test(id.split(/\s/)[0] ?? '') ? id : undefined;
}

/** A name is mostly letters, never a caption (`Payment Terms:`) nor a sentence. */
function nameValue(value: string): string | undefined {
  const s = value
    .replace(/\s+/g, ' ')
    .replace(/[\s,;]+$/, '')
    .trim();
  const letterCount = (s.match(/\p{L}/gu) ?? []).length;
  if (letterCount < 2 || letterCount < s.replace(/\s/g, '').length * 0.5 || /:$/.test(s)) return undefined;
  return isNameLike(s) ? s : undefined;
}

function extractString(doc: Doc, f: Field, hits: readonly Hit[][], text: string): string | undefined {
  const format = f.schema.format;
  const shape = format === 'email' ? EMAIL_RE : format === 'uri' || format === 'url' ? URI_RE : undefined;
  const id = !shape && isIdField(f);
  const name = !shape && !id && isNameField(f);
  for (const c of labelledStrings(doc, f, hits)) {
    const value = shape
      ? shape.exec(c.value)?.[0]
      : id
        ? identifier(c.value)
        : name
          ? nameValue(c.value)
          : c.value;
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
    const s = nameValue(c.value);
    if (s && fitsString(s, f.schema)) return s;
  }
  // A letterhead without a legal suffix may be a logo's brand (`saeco`); an imprint naming a
  // company with its registration and contact details is the issuer itself.
  const top = findIssuerName(doc);
  const name = (top && hasLegalSuffix(top.name) ? top : (findImprintName(doc) ?? top))?.name;
  return name && fitsString(name, f.schema) ? name : undefined;
}

function extractAddress(doc: Doc, f: Field, hits: readonly Hit[][], positional: boolean): string | undefined {
  for (const c of labelledStrings(doc, f, hits)) {
    // An address starts with a word or a house number with its street (`Address  8` is a form
    // field's stray mark, not an address).
    if (!/\p{L}{2}/u.test(c.value)) continue;
    // A labelled address goes on over the short lines that follow it.
    const parts = [c.value];
    for (let i = c.line + 1; i < Math.min(doc.lines.length, c.line + 5); i++) {
      const line = doc.lines[i] ?? '';
      if ((hits[i] ?? []).length > 0 || /^[^:]{1,30}:/.test(line) || line.split(/\s+/).length > 8) break;
      // The next caption of a form (`GST No.`) or a lone separator ends the address.
      if (/(?<![\p{L}])(?:no|nr|number|id)\.?$/iu.test(line) || !/[\p{L}\p{N}]/u.test(line)) break;
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
