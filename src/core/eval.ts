/**
 * Evaluation against ground truth: extracted records compared with expected records field by field,
 * with normalizers that forgive what does not change the meaning (case, spacing, punctuation, how a
 * date or an amount is printed) and nothing else. Pure: the CLI reads the files and hands them in.
 */
import { ConfigError, type Reason } from '../errors.ts';
import { coerceDate, coerceNumber } from './collect.ts';
import type { JsonSchema } from './families/types.ts';

/**
 * How two values are compared.
 * - `text`: equal after lower-casing, Unicode normalisation, punctuation to spaces, spaces collapsed.
 * - `id`: equal letters and digits only (`#BLR_WFLD-20` = `blrwfld20`), for identifiers and codes.
 * - `tokens`: token F1 of the `text` forms; a hit when F1 ≥ the threshold (names, addresses).
 * - `date`: equal ISO 8601 dates, either side may be printed (`25/12/2018`, `18 april 2014`).
 * - `amount`: equal numbers within the tolerance, either side may be a printed amount (`1,234.50`).
 * - `items`: lists of objects (line items), each expected item matched to a distinct predicted item
 *   whose every compared sub-field hits; a hit when every item matches and none is left over.
 */
export type FieldKind = 'text' | 'id' | 'tokens' | 'date' | 'amount' | 'items';

export const FIELD_KINDS: readonly FieldKind[] = ['text', 'id', 'tokens', 'date', 'amount', 'items'];

/** One expected label compared with one record field. */
export interface FieldRule {
  label: string;
  field: string;
  /** Unset: inferred from the record schema's property, else from the expected value. */
  kind?: FieldKind;
  /** `tokens`: the F1 from which a prediction counts as correct. */
  threshold?: number;
  /** `amount`: the largest difference still counted as equal. */
  tolerance?: number;
  /** `items`: labels of an expected item → fields of a record's item (unset: the same names). */
  items?: FieldRule[];
}

/** Expected label → field; labels not listed are not compared (and listed as such). */
export interface Mapping {
  rules: FieldRule[];
}

export interface EvalOptions {
  /** Default `tokens` threshold. */
  threshold: number;
  /** Default `amount` tolerance. */
  tolerance: number;
}

export const DEFAULT_EVAL_OPTIONS: EvalOptions = { threshold: 0.8, tolerance: 0.01 };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parseRule(label: string, value: unknown, where: string): FieldRule {
  if (typeof value === 'string' && value) return { label, field: value };
  if (!isObject(value) || typeof value['field'] !== 'string' || !value['field'])
    throw new ConfigError(
      `${where}["${label}"] must be a field name or {"field": NAME, "kind"?: KIND}, got ${JSON.stringify(value)}`,
    );
  const rule: FieldRule = { label, field: value['field'] };
  const kind = value['kind'];
  if (kind !== undefined) {
    if (!FIELD_KINDS.includes(kind as FieldKind))
      throw new ConfigError(
        `${where}["${label}"].kind is ${JSON.stringify(kind)}; allowed: ${FIELD_KINDS.join(', ')}`,
      );
    rule.kind = kind as FieldKind;
  }
  for (const key of ['threshold', 'tolerance'] as const) {
    const n = value[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !(n >= 0))
      throw new ConfigError(`${where}["${label}"].${key} must be a number ≥ 0, got ${JSON.stringify(n)}`);
    rule[key] = n;
  }
  const items = value['items'];
  if (items !== undefined) {
    if (!isObject(items))
      throw new ConfigError(`${where}["${label}"].items must be an object of item label → item field`);
    rule.items = Object.entries(items).map(([l, v]) => parseRule(l, v, `${where}["${label}"].items`));
  }
  const unknown = Object.keys(value).filter(
    (k) => !['field', 'kind', 'threshold', 'tolerance', 'items'].includes(k),
  );
  if (unknown.length)
    throw new ConfigError(
      `${where}["${label}"] has unknown key(s) ${unknown.join(', ')}; allowed: field, kind, threshold, tolerance, items`,
    );
  return rule;
}

/**
 * A mapping file's content: `{"company": "merchant_name", "total": {"field": "total", "kind": "amount"}}`.
 * Keys starting with `$` (`$comment`, `$schema`) are notes, not labels.
 */
export function parseMapping(value: unknown, where = 'mapping'): Mapping {
  if (!isObject(value))
    throw new ConfigError(`${where} must be a JSON object of expected label → field, got ${typeof value}`);
  return {
    rules: Object.entries(value)
      .filter(([label]) => !label.startsWith('$'))
      .map(([label, v]) => parseRule(label, v, where)),
  };
}

// ---------------------------------------------------------------------------------------------
// Normalizers

/** Lower case, compatibility forms folded, punctuation and symbols as spaces, spaces collapsed. */
export function normalizeText(value: unknown): string {
  return String(value)
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function normalizeId(value: unknown): string {
  return String(value)
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

/** ISO 8601 date of a value printed any common way; undefined when it is not one date. */
export function normalizeDate(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[T ].*)?$/.exec(s);
  return iso ? iso[1] : coerceDate(s);
}

export function normalizeAmount(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return typeof value === 'string' ? coerceNumber(value) : undefined;
}

/** Token F1 of two texts: 2·overlap / (|a| + |b|), tokens counted with multiplicity. */
export function tokenF1(a: unknown, b: unknown): number {
  const ta = normalizeText(a).split(' ').filter(Boolean);
  const tb = normalizeText(b).split(' ').filter(Boolean);
  if (ta.length === 0 && tb.length === 0) return 1;
  if (ta.length === 0 || tb.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const t of ta) counts.set(t, (counts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of tb) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      overlap++;
      counts.set(t, c - 1);
    }
  }
  return (2 * overlap) / (ta.length + tb.length);
}

/** Whether a value says something: not missing, null, blank or an empty list. */
export function isPresent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

const typesOf = (schema: JsonSchema | undefined): string[] =>
  Array.isArray(schema?.type) ? schema.type : schema?.type ? [schema.type] : [];

/** The comparison a field gets when the mapping does not say: from its schema, else from the value. */
export function inferKind(field: string, schema: JsonSchema | undefined, expected: unknown): FieldKind {
  if (schema) {
    const types = typesOf(schema);
    const hints = isObject(schema['x-docbatch']) ? schema['x-docbatch'] : {};
    if (schema.format === 'date') return 'date';
    if (types.includes('number') || types.includes('integer')) return 'amount';
    if (types.includes('array')) return 'items';
    if (hints['kind'] === 'address' || hints['position'] === 'first-line' || /(name|address)$/.test(field))
      return 'tokens';
    if (typeof schema['pattern'] === 'string' || /(_number|_id|^id|currency|code)$/.test(field)) return 'id';
    return 'text';
  }
  if (typeof expected === 'number') return 'amount';
  if (Array.isArray(expected)) return 'items';
  if (/(name|address)$/.test(field)) return 'tokens';
  if (/date$/.test(field) && normalizeDate(expected)) return 'date';
  return 'text';
}

export interface Judgement {
  hit: boolean;
  /** 1 or 0, or the token F1 (`tokens`) or item F1 (`items`). */
  score: number;
}

interface Resolved {
  kind: FieldKind;
  threshold: number;
  tolerance: number;
  items?: FieldRule[];
  /** The schema of an item, for sub-field kinds. */
  itemSchema?: JsonSchema;
}

function compareItems(expected: unknown[], predicted: unknown, r: Resolved, options: EvalOptions): Judgement {
  const predictedItems = Array.isArray(predicted) ? predicted.filter(isObject) : [];
  const comparable = expected.filter(isObject).flatMap((item) => {
    const rules = (r.items ?? Object.keys(item).map((label) => ({ label, field: label }))).filter((rule) =>
      isPresent(item[rule.label]),
    );
    return rules.length ? [{ item, rules }] : [];
  });
  const used = new Set<number>();
  let matched = 0;
  for (const { item, rules } of comparable) {
    const at = predictedItems.findIndex(
      (p, i) =>
        !used.has(i) &&
        rules.every((rule) => {
          const sub = resolve(rule, r.itemSchema?.properties?.[rule.field], item[rule.label], options);
          return judge(item[rule.label], p[rule.field], sub, options).hit;
        }),
    );
    if (at >= 0) {
      used.add(at);
      matched++;
    }
  }
  const precision = predictedItems.length ? matched / predictedItems.length : 0;
  const recall = comparable.length ? matched / comparable.length : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { hit: matched === comparable.length && matched === predictedItems.length, score: f1 };
}

function resolve(
  rule: FieldRule,
  schema: JsonSchema | undefined,
  expected: unknown,
  options: EvalOptions,
): Resolved {
  return {
    kind: rule.kind ?? inferKind(rule.field, schema, expected),
    threshold: rule.threshold ?? options.threshold,
    tolerance: rule.tolerance ?? options.tolerance,
    ...(rule.items ? { items: rule.items } : {}),
    ...(schema?.items ? { itemSchema: schema.items } : {}),
  };
}

const binary = (hit: boolean): Judgement => ({ hit, score: hit ? 1 : 0 });

/** One expected value against one predicted value (which may be missing). */
function judge(expected: unknown, predicted: unknown, r: Resolved, options: EvalOptions): Judgement {
  if (r.kind === 'items')
    return Array.isArray(expected) ? compareItems(expected, predicted, r, options) : binary(false);
  if (!isPresent(predicted)) return binary(false);
  switch (r.kind) {
    case 'amount': {
      const e = normalizeAmount(expected);
      const p = normalizeAmount(predicted);
      if (e === undefined || p === undefined)
        return binary(normalizeText(expected) === normalizeText(predicted));
      // A hair above the tolerance so that 0.1 + 0.2 against 0.3 is not lost to binary fractions.
      return binary(Math.abs(e - p) <= r.tolerance + 1e-9);
    }
    case 'date': {
      const e = normalizeDate(expected);
      const p = normalizeDate(predicted);
      return binary(e !== undefined ? e === p : normalizeText(expected) === normalizeText(predicted));
    }
    case 'tokens': {
      const f1 = tokenF1(expected, predicted);
      return { hit: f1 >= r.threshold, score: f1 };
    }
    case 'id':
      return binary(normalizeId(expected) === normalizeId(predicted));
    case 'text':
      return binary(normalizeText(expected) === normalizeText(predicted));
  }
}

// ---------------------------------------------------------------------------------------------
// Documents

/** One ground-truth file. */
export interface ExpectedRecord {
  /** Its name without `.json`: the file name (without extension) of the document it describes. */
  stem: string;
  /** Path relative to the expected directory, for messages. */
  file: string;
  /** The folder it sits in, when nested (`invoice/acme.json`): used as the document type to tell apart equal stems. */
  folder?: string;
  record: Record<string, unknown>;
}

/** What the pipeline made of one document: `results/<type>/<docId>.json` or `rejected/<docId>.json`. */
export interface Outcome {
  docId: string;
  type: string;
  status: 'result' | 'rejected';
  /** Every key the document was uploaded under. */
  sources: string[];
  record?: Record<string, unknown>;
  reasons?: Reason[];
}

/** `incoming/receipt/001.jpg` → `001`; `a.b.pdf` → `a.b`. */
export function stemOf(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

export type DocumentVerdict = 'result' | 'rejected' | 'missing' | 'ambiguous';

export interface FieldJudgement {
  label: string;
  field: string;
  kind: FieldKind;
  expected: unknown;
  predicted?: unknown;
  hit: boolean;
  score: number;
  /** The expected value is null: the document has none, so any prediction is a false positive. */
  expectsNone?: boolean;
}

export interface DocumentEval {
  stem: string;
  file: string;
  verdict: DocumentVerdict;
  docId?: string;
  type?: string;
  /** Why it has no record (rejection reasons), or which documents made it ambiguous. */
  note?: string;
  fields: FieldJudgement[];
}

export interface FieldScore {
  field: string;
  labels: string[];
  kind: FieldKind;
  /** Documents whose expected record has a value for it. */
  expected: number;
  /** Documents judged for it whose record has a value for it. */
  predicted: number;
  correct: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  /** Mean token F1 (`tokens`) or item F1 (`items`) over the expected values, a miss counting 0. */
  meanScore?: number;
}

export interface EvalReport {
  options: EvalOptions;
  documents: {
    expected: number;
    results: number;
    rejected: number;
    missing: number;
    ambiguous: number;
    /** Outcomes in the work directory that no expected record describes (not judged). */
    unexpected: number;
  };
  fields: FieldScore[];
  overall: {
    expected: number;
    predicted: number;
    correct: number;
    /** Correct fields / expected fields: a rejected or missing document misses all of its fields. */
    accuracy: number | null;
    precision: number | null;
    recall: number | null;
    f1: number | null;
  };
  /** Expected labels no rule compares (a mapping was given and does not list them). */
  notCompared: string[];
  perDocument: DocumentEval[];
}

function ratios(correct: number, predicted: number, expected: number) {
  const precision = predicted ? correct / predicted : null;
  const recall = expected ? correct / expected : null;
  const f1 =
    precision !== null && recall !== null
      ? precision + recall > 0
        ? (2 * precision * recall) / (precision + recall)
        : 0
      : null;
  return { precision, recall, f1 };
}

/** Picks each expected record's outcome by file stem (and type, when stems repeat). */
function matchOutcome(
  exp: ExpectedRecord,
  byStem: Map<string, Outcome[]>,
): { outcome?: Outcome; ambiguous?: Outcome[] } {
  let candidates = byStem.get(exp.stem) ?? [];
  if (candidates.length > 1 && exp.folder !== undefined) {
    const sameType = candidates.filter((o) => o.type === exp.folder);
    if (sameType.length > 0) candidates = sameType;
  }
  if (candidates.length > 1) return { ambiguous: candidates };
  const [outcome] = candidates;
  return outcome ? { outcome } : {};
}

/**
 * Compares every expected record with the outcome of the document of the same file stem.
 * A field is judged where the expected record has its label: present → expected (and predicted if
 * the record has it), null → the document has none (a predicted value is a false positive); a label
 * the expected record lacks is not judged, since sparse ground truth says nothing about it.
 */
export function evaluate(
  expected: readonly ExpectedRecord[],
  outcomes: readonly Outcome[],
  options: {
    mapping?: Mapping;
    schemaFor?: (type: string) => JsonSchema | undefined;
    options?: Partial<EvalOptions>;
  } = {},
): EvalReport {
  const opts: EvalOptions = { ...DEFAULT_EVAL_OPTIONS, ...(options.options ?? {}) };
  const byStem = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    for (const stem of new Set(o.sources.map(stemOf))) {
      const list = byStem.get(stem) ?? [];
      list.push(o);
      byStem.set(stem, list);
    }
  }
  const judged = new Set<string>();
  const notCompared = new Set<string>();
  const perDocument: DocumentEval[] = [];
  const scores = new Map<
    string,
    {
      labels: Set<string>;
      kind: FieldKind;
      expected: number;
      predicted: number;
      correct: number;
      score: number;
    }
  >();
  const documents = {
    expected: expected.length,
    results: 0,
    rejected: 0,
    missing: 0,
    ambiguous: 0,
    unexpected: 0,
  };

  for (const exp of expected) {
    const { outcome, ambiguous } = matchOutcome(exp, byStem);
    const verdict: DocumentVerdict = ambiguous ? 'ambiguous' : outcome ? outcome.status : 'missing';
    documents[verdict === 'result' ? 'results' : verdict]++;
    for (const o of ambiguous ?? (outcome ? [outcome] : [])) judged.add(o.docId);
    const record = verdict === 'result' ? (outcome?.record ?? {}) : undefined;
    const type = outcome?.type ?? exp.folder;
    const schema = type !== undefined ? options.schemaFor?.(type) : undefined;
    const rules =
      options.mapping?.rules ??
      Object.keys(exp.record).map((label) => ({ label, field: label }) as FieldRule);
    const mapped = new Set(rules.map((r) => r.label));
    for (const label of Object.keys(exp.record)) if (!mapped.has(label)) notCompared.add(label);

    const fields: FieldJudgement[] = [];
    for (const rule of rules) {
      if (!(rule.label in exp.record)) continue;
      const value = exp.record[rule.label];
      const r = resolve(rule, schema?.properties?.[rule.field], value, opts);
      const predicted = record?.[rule.field];
      const s = scores.get(rule.field) ?? {
        labels: new Set<string>(),
        kind: r.kind,
        expected: 0,
        predicted: 0,
        correct: 0,
        score: 0,
      };
      scores.set(rule.field, s);
      s.labels.add(rule.label);
      if (!isPresent(value)) {
        // The ground truth says the document has none: only a prediction can be wrong here.
        if (isPresent(predicted)) s.predicted++;
        fields.push({
          label: rule.label,
          field: rule.field,
          kind: r.kind,
          expected: value,
          ...(isPresent(predicted) ? { predicted } : {}),
          hit: !isPresent(predicted),
          score: isPresent(predicted) ? 0 : 1,
          expectsNone: true,
        });
        continue;
      }
      const j = record ? judge(value, predicted, r, opts) : binary(false);
      s.expected++;
      if (isPresent(predicted)) s.predicted++;
      if (j.hit) s.correct++;
      s.score += j.score;
      fields.push({
        label: rule.label,
        field: rule.field,
        kind: r.kind,
        expected: value,
        ...(isPresent(predicted) ? { predicted } : {}),
        hit: j.hit,
        score: j.score,
      });
    }
    const note =
      verdict === 'ambiguous'
        ? `several documents share the stem "${exp.stem}": ${(ambiguous ?? []).map((o) => o.sources[0] ?? o.docId).join(', ')}`
        : verdict === 'rejected'
          ? (outcome?.reasons ?? []).map((x) => `${x.code}: ${x.message}`).join('; ')
          : undefined;
    perDocument.push({
      stem: exp.stem,
      file: exp.file,
      verdict,
      ...(outcome ? { docId: outcome.docId, type: outcome.type } : {}),
      ...(note !== undefined ? { note } : {}),
      fields,
    });
  }
  documents.unexpected = outcomes.filter((o) => !judged.has(o.docId)).length;

  const fields: FieldScore[] = [...scores.entries()].map(([field, s]) => ({
    field,
    labels: [...s.labels],
    kind: s.kind,
    expected: s.expected,
    predicted: s.predicted,
    correct: s.correct,
    ...ratios(s.correct, s.predicted, s.expected),
    ...(s.kind === 'tokens' || s.kind === 'items'
      ? { meanScore: s.expected ? s.score / s.expected : 0 }
      : {}),
  }));
  const total = fields.reduce(
    (t, f) => ({
      expected: t.expected + f.expected,
      predicted: t.predicted + f.predicted,
      correct: t.correct + f.correct,
    }),
    { expected: 0, predicted: 0, correct: 0 },
  );
  return {
    options: opts,
    documents,
    fields,
    overall: {
      ...total,
      accuracy: total.expected ? total.correct / total.expected : null,
      ...ratios(total.correct, total.predicted, total.expected),
    },
    notCompared: [...notCompared].sort(),
    perDocument,
  };
}

/**
 * An expected file's content as a record: an object, or a list holding one object (invoice2data's
 * ground truth is `[{…}]`); undefined for anything else (say, a list of rejected file names).
 */
export function expectedRecordOf(value: unknown): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (Array.isArray(value) && value.length === 1 && isObject(value[0])) return value[0];
  return undefined;
}
