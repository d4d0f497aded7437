import { jsonrepair } from 'jsonrepair';
import type { Reason } from '../errors.ts';
import type { JsonSchema, ModelFamily, ParsedOutput } from './families/types.ts';

export interface ExtractedValue {
  value?: Record<string, unknown>;
  reasons: Reason[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every balanced top-level `{…}` span of a text, in order (strings respected). */
function objectSpans(text: string): string[] {
  const spans: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"' && depth > 0) inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) spans.push(text.slice(start, i + 1));
    }
  }
  if (depth > 0 && start >= 0) spans.push(text.slice(start));
  return spans;
}

/**
 * The model's answer as an object: the forced tool's input when present; otherwise JSON found in
 * the text (fenced or bare, the last complete object wins), repaired by jsonrepair for trailing
 * commas, comments and quoting slips. A truncated answer is never guessed at.
 */
export function extractObject(parsed: ParsedOutput): ExtractedValue {
  if (parsed.truncated) {
    return {
      reasons: [
        {
          code: 'OUTPUT_TRUNCATED',
          message: 'the model stopped at its max_tokens budget before finishing the answer',
        },
      ],
    };
  }
  if (isObject(parsed.toolInput)) return { value: parsed.toolInput, reasons: [] };
  if (typeof parsed.toolInput === 'string') {
    const fromString = parseLenient(parsed.toolInput);
    if (fromString) return { value: fromString, reasons: [] };
  }
  const text = parsed.text ?? '';
  const fenced = [...text.matchAll(/```(?:json)?\s*([\s\S]*?)```/gi)].map((m) => m[1] ?? '');
  const candidates = [...fenced, ...objectSpans(text)].reverse();
  for (const candidate of candidates) {
    const value = parseLenient(candidate);
    if (value) return { value, reasons: [] };
  }
  return {
    reasons: [
      {
        code: 'NO_JSON',
        message: text
          ? 'the model answered without a tool call or a JSON object'
          : 'the model returned no content',
      },
    ],
  };
}

function parseLenient(candidate: string): Record<string, unknown> | undefined {
  const trimmed = candidate.trim();
  if (!trimmed.startsWith('{')) return undefined;
  for (const attempt of [() => JSON.parse(trimmed), () => JSON.parse(jsonrepair(trimmed))]) {
    try {
      const value: unknown = attempt();
      if (isObject(value)) return value;
    } catch {
      // try the next, more forgiving parse
    }
  }
  return undefined;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function isoDate(y: number, m: number, d: number): string | undefined {
  if (y < 100) y += y < 70 ? 2000 : 1900;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d)
    return undefined;
  return `${y}-${pad(m)}-${pad(d)}`;
}

/** Common written dates → ISO 8601, only when unambiguous or day-first by convention. */
export function coerceDate(value: string): string | undefined {
  const s = value.trim();
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(s);
  if (m) return isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})$/.exec(s);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    // Day-first unless the first number cannot be a day of a month ≤ 12 reading.
    return b > 12 && a <= 12 ? isoDate(Number(m[3]), a, b) : isoDate(Number(m[3]), b, a);
  }
  m = /^(\d{1,2})(?:st|nd|rd|th)?[\s-]+([A-Za-z]{3,9})\.?,?[\s-]+(\d{2,4})$/.exec(s);
  if (m) {
    const month = MONTHS.indexOf((m[2] ?? '').slice(0, 3).toLowerCase()) + 1;
    return month ? isoDate(Number(m[3]), month, Number(m[1])) : undefined;
  }
  m = /^([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$/.exec(s);
  if (m) {
    const month = MONTHS.indexOf((m[1] ?? '').slice(0, 3).toLowerCase()) + 1;
    return month ? isoDate(Number(m[3]), month, Number(m[2])) : undefined;
  }
  return undefined;
}

/** "1,234.50", "1.234,50", "$ 12" → number; undefined when the text is not one amount. */
export function coerceNumber(value: string): number | undefined {
  let s = value
    .trim()
    .replace(/^[A-Z]{3}\s*|\s*[A-Z]{3}$/g, '')
    .replace(/^[^\d\-+.,]+|[^\d.,]+$/g, '')
    .replace(/\s/g, '');
  if (!/^[-+]?[\d.,]+$/.test(s)) return undefined;
  const lastComma = s.lastIndexOf(',');
  const lastDot = s.lastIndexOf('.');
  if (lastComma > lastDot) {
    // "1.234,50" or "12,50": the comma is the decimal mark when two digits or fewer follow it.
    s = s.length - lastComma - 1 <= 2 ? s.replace(/\./g, '').replace(',', '.') : s.replace(/,/g, '');
  } else {
    s = s.replace(/,/g, '');
  }
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** `typesOf` per schema node: normalizing asks it for every field of every line. */
const typesCache = new WeakMap<JsonSchema, readonly string[]>();

function typesOf(schema: JsonSchema): readonly string[] {
  let types = typesCache.get(schema);
  if (!types) {
    types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
    typesCache.set(schema, types);
  }
  return types;
}

/**
 * Brings a record to the schema without inventing anything: properties the schema does not define
 * are dropped and listed; strings are coerced to numbers or ISO dates only where that is lossless and
 * the schema asks for it. Everything else is left for validation to judge.
 */
export function normalizeRecord(
  value: Record<string, unknown>,
  schema: JsonSchema,
  path = '',
): { record: Record<string, unknown>; warnings: string[] } {
  const record: Record<string, unknown> = {};
  const warnings: string[] = [];
  const properties = schema.properties ?? {};
  // for…in over own keys, not Object.entries: no array of pairs per line (values come from
  // JSON.parse: plain objects, nothing inherited to skip but in principle).
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const raw = value[key];
    const prop = properties[key];
    if (!prop) {
      if (schema['additionalProperties'] === false) {
        warnings.push(`dropped ${path}/${key}: the schema does not define it`);
        continue;
      }
      record[key] = raw;
      continue;
    }
    if (raw === null || raw === undefined || raw === '') {
      // A model's way of saying "not in the document": absent, not an empty value.
      if (raw !== undefined) warnings.push(`dropped ${path}/${key}: empty value`);
      continue;
    }
    record[key] = normalizeValue(raw, prop, `${path}/${key}`, warnings);
  }
  return { record, warnings };
}

function normalizeValue(raw: unknown, prop: JsonSchema, path: string, warnings: string[]): unknown {
  const types = typesOf(prop);
  if (
    typeof raw === 'string' &&
    (types.includes('number') || types.includes('integer')) &&
    !types.includes('string')
  ) {
    const n = coerceNumber(raw);
    if (n !== undefined && (!types.includes('integer') || Number.isInteger(n) || types.includes('number'))) {
      warnings.push(`coerced ${path} from string "${raw}" to number ${n}`);
      return n;
    }
    return raw;
  }
  if (typeof raw === 'string' && prop.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const iso = coerceDate(raw);
    if (iso) {
      warnings.push(`coerced ${path} from "${raw}" to ISO date ${iso}`);
      return iso;
    }
    return raw;
  }
  if (Array.isArray(raw) && prop.items) {
    const items = prop.items;
    return raw.map((item, i) =>
      typeof item === 'object' && item !== null && !Array.isArray(item) && items.properties
        ? (() => {
            const n = normalizeRecord(item as Record<string, unknown>, items, `${path}/${i}`);
            warnings.push(...n.warnings);
            return n.record;
          })()
        : normalizeValue(item, items, `${path}/${i}`, warnings),
    );
  }
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && prop.properties) {
    const n = normalizeRecord(raw as Record<string, unknown>, prop, path);
    warnings.push(...n.warnings);
    return n.record;
  }
  return raw;
}

export interface ChunkRecord {
  chunk: number;
  record: Record<string, unknown>;
}

/**
 * One record per document from its chunks' records: scalars take the first non-null value in
 * page order (a differing later value is recorded as a conflict); arrays are concatenated in page
 * order with exact duplicates (repeated across chunk overlaps) removed.
 */
export function mergeChunks(parts: readonly ChunkRecord[]): {
  record: Record<string, unknown>;
  conflicts: string[];
} {
  // `decideDocument` passes them in order already: a sorted copy per document only when not.
  const sorted = parts.every((p, i) => i === 0 || (parts[i - 1] as ChunkRecord).chunk <= p.chunk)
    ? parts
    : [...parts].sort((a, b) => a.chunk - b.chunk);
  const record: Record<string, unknown> = {};
  const conflicts: string[] = [];
  // The serialized items of each merged array, kept across chunks rather than rebuilt per chunk:
  // the array only ever grows by the items added here.
  const seenByKey = new Map<string, Set<string>>();
  for (const { chunk, record: part } of sorted) {
    // for…in over own keys, not Object.entries: no array of pairs per chunk (records come from
    // JSON.parse and normalizeRecord: plain objects, nothing inherited to skip but in principle).
    for (const key in part) {
      if (!Object.hasOwn(part, key)) continue;
      const value = part[key];
      if (value === undefined || value === null) continue;
      const existing = record[key];
      if (existing === undefined) {
        record[key] = Array.isArray(value) ? [...value] : value;
      } else if (Array.isArray(existing) && Array.isArray(value)) {
        let seen = seenByKey.get(key);
        if (!seen) {
          seen = new Set(existing.map((v) => JSON.stringify(v)));
          seenByKey.set(key, seen);
        }
        for (const v of value) {
          const k = JSON.stringify(v);
          if (!seen.has(k)) {
            seen.add(k);
            existing.push(v);
          }
        }
      } else if (existing !== value && JSON.stringify(existing) !== JSON.stringify(value)) {
        // (`existing !== value` first: the same value again, common across chunks, serializes the same.)
        conflicts.push(
          `/${key}: kept ${JSON.stringify(existing)}, chunk ${chunk + 1} says ${JSON.stringify(value)}`,
        );
      }
    }
  }
  return { record, conflicts };
}

/** What one output line contributed to its document. */
export interface ChunkOutcome {
  record?: Record<string, unknown>;
  reasons: Reason[];
  warnings: string[];
  jobId: string;
  tokens: { input: number; output: number };
  output?: unknown;
}

/**
 * One output line → its chunk's outcome. Never throws: a body that does not parse becomes a
 * reason, an errored record keeps the service's code and message.
 */
export function interpretOutputLine(
  line: { modelOutput?: unknown; error?: { errorCode?: unknown; errorMessage?: unknown } },
  family: ModelFamily,
  schema: JsonSchema,
  jobId: string,
): ChunkOutcome {
  if (line.error !== undefined && line.error !== null) {
    const code = typeof line.error.errorCode === 'number' ? line.error.errorCode : '';
    const message = typeof line.error.errorMessage === 'string' ? line.error.errorMessage : '';
    return {
      reasons: [
        {
          code: 'MODEL_ERROR',
          message: `${code} ${message}`.trim() || 'the record failed without a message',
        },
      ],
      warnings: [],
      jobId,
      tokens: { input: 0, output: 0 },
    };
  }
  let parsed: ParsedOutput;
  try {
    parsed = family.parseResponse(line.modelOutput);
  } catch {
    parsed = { truncated: false, usage: { inputTokens: 0, outputTokens: 0 } };
  }
  const extracted = extractObject(parsed);
  const outcome: ChunkOutcome = {
    reasons: extracted.reasons,
    warnings: [],
    jobId,
    tokens: { input: parsed.usage.inputTokens, output: parsed.usage.outputTokens },
    output: line.modelOutput,
  };
  if (extracted.value) {
    const normalized = normalizeRecord(extracted.value, schema);
    outcome.record = normalized.record;
    outcome.warnings = normalized.warnings;
  }
  return outcome;
}

export type DocumentDecision =
  | {
      kind: 'result';
      record: Record<string, unknown>;
      warnings: string[];
      jobIds: string[];
      tokens: { input: number; output: number };
    }
  | {
      kind: 'rejected';
      stage: 'extract' | 'validate';
      reasons: Reason[];
      warnings: string[];
      jobIds: string[];
      tokens: { input: number; output: number };
      lastOutput?: unknown;
    };

/**
 * A document's outcome from its chunks: every chunk must have produced a record; the merged
 * record must validate. Exactly one of a valid record or a non-empty list of reasons.
 */
export function decideDocument(
  chunks: ReadonlyMap<number, ChunkOutcome>,
  chunkCount: number,
  validate: (record: Record<string, unknown>) => Reason[],
  missingNote = '',
): DocumentDecision {
  const reasons: Reason[] = [];
  const warnings: string[] = [];
  const parts: ChunkRecord[] = [];
  const jobIds = new Set<string>();
  const tokens = { input: 0, output: 0 };
  let lastOutput: unknown;
  for (let c = 0; c < chunkCount; c++) {
    const outcome = chunks.get(c);
    if (!outcome) {
      reasons.push({
        code: 'MISSING_OUTPUT',
        message: `chunk ${c + 1}/${chunkCount} has no model output${missingNote ? ` (${missingNote})` : ''}`,
      });
      continue;
    }
    jobIds.add(outcome.jobId);
    tokens.input += outcome.tokens.input;
    tokens.output += outcome.tokens.output;
    lastOutput = outcome.output ?? lastOutput;
    warnings.push(...outcome.warnings);
    reasons.push(...outcome.reasons);
    if (outcome.record) parts.push({ chunk: c, record: outcome.record });
    else if (outcome.reasons.length === 0)
      reasons.push({ code: 'NO_JSON', message: `chunk ${c + 1}/${chunkCount} produced no record` });
  }
  const common = { warnings, jobIds: [...jobIds], tokens };
  if (reasons.length > 0) {
    return {
      kind: 'rejected',
      stage: 'extract',
      reasons,
      ...common,
      ...(lastOutput !== undefined ? { lastOutput } : {}),
    };
  }
  const merged = mergeChunks(parts);
  warnings.push(...merged.conflicts.map((c) => `conflict ${c}`));
  // Validate exactly what will be written: JSON has no NaN or Infinity, so judge the serialized form.
  const record = JSON.parse(JSON.stringify(merged.record)) as Record<string, unknown>;
  const invalid = validate(record);
  if (invalid.length > 0) {
    return {
      kind: 'rejected',
      stage: 'validate',
      reasons: invalid,
      ...common,
      ...(lastOutput !== undefined ? { lastOutput } : {}),
    };
  }
  return { kind: 'result', record, ...common };
}
