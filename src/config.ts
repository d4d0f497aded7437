/**
 * Configuration: the typed effective `Config` tasks use, its defaults, and how it is resolved from
 * layers (built-in defaults < docbatch.config.json < environment < command-line flags), remembering
 * where every value came from. Pure: reading files and `process.env` is the caller's job (the CLI,
 * a Lambda handler), so the same resolution runs everywhere.
 */

import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import configSchema from '../config/docbatch.config.schema.json' with { type: 'json' };
import { familyByName, familyForModel } from './core/families/index.ts';
import { DEFAULT_PRICES, type ModelPrice, type PriceTable, type TextractFeature } from './core/pricing.ts';
import { ConfigError } from './errors.ts';

/** Bedrock batch quotas for one model (AWS_CONTRACTS.md: several have no primary value, so all are configurable). */
export interface Quotas {
  /** Fewer records than this and Bedrock rejects the job (100 for most models in 2026). */
  minRecordsPerJob: number;
  maxRecordsPerJob: number;
  maxRecordsPerFile: number;
  maxFileBytes: number;
  maxJobBytes: number;
  /** Submitted + in-progress jobs per model: the nightly Map's MaxConcurrency. */
  maxConcurrentJobs: number;
}

export interface Config {
  model: {
    id: string;
    /** Model id pattern → family, first match wins. */
    families: { match: string; family: string }[];
  };
  /** The quotas of `model.id` (the configuration's per-pattern rows already applied). */
  quotas: Quotas;
  /** What to do with a run that has fewer records than the model's minimum. */
  belowMinimum: 'on-demand' | 'defer';
  /** Bounded concurrency for on-demand calls. */
  onDemandConcurrency: number;
  chunk: { maxTokens: number };
  ocr: {
    textLayer: 'prefer' | 'never' | 'only';
    /**
     * A text-layer page with an image covering at least this share of the page and no text-layer
     * character on it is "mixed": its text layer lacks the image's text, so it is not read from
     * the text layer alone under "prefer". Logos stay below the default 5 %; 1 turns the check off.
     */
    imageTextMinCoverage: number;
    /** Document type (or `*`) → Textract AnalyzeDocument features; none means text detection. */
    textractFeatures: Record<string, TextractFeature[]>;
    /**
     * The OCR engine of the offline Textract stand-in (never used on AWS): "paddle" (PP-OCRv4
     * through onnxruntime, the more accurate) or "tesseract" (tesseract.js, lighter on CPU and memory).
     */
    localEngine: 'paddle' | 'tesseract';
  };
  batch: {
    /** Bedrock's own job timeout (timeoutDurationInHours, 24–168); past it a job ends Expired. */
    timeoutHours: number;
    /** Attempts per document, the first included: failed records are re-driven until this many. */
    maxAttempts: number;
    /** Must equal the batch ASL's WaitForJob Seconds: the poll count measures time with it. */
    pollSeconds: number;
    /** A job still not finished this long after creation is stopped and its records re-driven. */
    deadlineHours: number;
    /** belowMinimum 'defer': hours after a document's registration when its records go on-demand even below the minimum. */
    deferMaxAgeHours: number;
  };
  /** Prices for estimates: the configuration's rows in front of the dated default table. */
  prices: PriceTable;
  /** The nightly batch once deployed (EventBridge Scheduler). */
  schedule: { expression: string; timezone: string };
}

/** The offline rules model: answers in Anthropic Claude's shape, so it is in the anthropic family. */
export const LOCAL_MODEL_ID = 'docbatch.rules-v1';

export const DEFAULT_QUOTAS: Quotas = {
  minRecordsPerJob: 100,
  maxRecordsPerJob: 50_000,
  maxRecordsPerFile: 50_000,
  maxFileBytes: 1024 ** 3,
  maxJobBytes: 5 * 1024 ** 3,
  maxConcurrentJobs: 10,
};

/** Built-in quota overrides by model id pattern; the local model has no minimum worth waiting for. */
const MODEL_QUOTAS: { match: RegExp; quotas: Partial<Quotas> }[] = [
  { match: /^docbatch\.rules/, quotas: { minRecordsPerJob: 1, maxConcurrentJobs: 4 } },
  { match: /amazon\.nova-(lite|pro)/, quotas: { maxJobBytes: 100 * 1024 ** 3 } },
];

export function defaultQuotas(modelId: string): Quotas {
  const row = MODEL_QUOTAS.find((r) => r.match.test(modelId));
  return { ...DEFAULT_QUOTAS, ...(row?.quotas ?? {}) };
}

/**
 * `ocr.imageTextMinCoverage` by default. Logos on the invoices of the corpora cover 0.2–3.1 % of
 * their page; a block of company data pasted in as a picture (saeco.pdf: name, address, VAT and
 * bank numbers) 7.7 %. Below 5 % an image rarely holds more than a name that also appears as text,
 * and sending every invoice with a logo to Textract would cost its pages for nothing.
 */
export const DEFAULT_IMAGE_TEXT_MIN_COVERAGE = 0.05;

export function defaultConfig(modelId = LOCAL_MODEL_ID): Config {
  return {
    model: {
      id: modelId,
      families: [
        { match: '^docbatch\\.rules', family: 'anthropic' },
        { match: '(^|\\.)anthropic\\.', family: 'anthropic' },
      ],
    },
    quotas: defaultQuotas(modelId),
    belowMinimum: 'on-demand',
    onDemandConcurrency: 4,
    chunk: { maxTokens: 6000 },
    ocr: {
      textLayer: 'prefer',
      imageTextMinCoverage: DEFAULT_IMAGE_TEXT_MIN_COVERAGE,
      textractFeatures: {},
      localEngine: 'paddle',
    },
    batch: { timeoutHours: 24, maxAttempts: 2, pollSeconds: 300, deadlineHours: 30, deferMaxAgeHours: 24 },
    prices: structuredClone(DEFAULT_PRICES),
    schedule: { expression: 'cron(0 2 * * ? *)', timezone: 'UTC' },
  };
}

/** The Textract features configured for a document type (its own row, else `*`, else none). */
export function textractFeaturesFor(config: Config, type: string): TextractFeature[] {
  return config.ocr.textractFeatures[type] ?? config.ocr.textractFeatures['*'] ?? [];
}

// ---------------------------------------------------------------------------------------------
// The configuration file (docbatch.config.json), validated against config/docbatch.config.schema.json

/** What docbatch.config.json may hold: every key optional (the schema is the reference). */
export interface ConfigFile {
  $schema?: string;
  model?: { id?: string; families?: { match: string; family: string }[] };
  /** Model id pattern → the quotas that differ from the defaults. */
  quotas?: Record<string, Partial<Quotas>>;
  belowMinimum?: Config['belowMinimum'];
  onDemandConcurrency?: number;
  chunk?: { maxTokens?: number };
  ocr?: {
    textLayer?: Config['ocr']['textLayer'];
    imageTextMinCoverage?: number;
    textractFeatures?: Record<string, TextractFeature[]>;
    localEngine?: Config['ocr']['localEngine'];
  };
  batch?: Partial<Config['batch']>;
  prices?: {
    date?: string;
    models?: Record<
      string,
      { name?: string; inputPerMillion: number; outputPerMillion: number; batchDiscount?: number }
    >;
    textract?: {
      detectTextPer1000Pages?: number;
      featurePer1000Pages?: Partial<Record<TextractFeature, number>>;
    };
  };
  schedule?: { expression?: string; timezone?: string };
}

export const CONFIG_SCHEMA_PATH = 'config/docbatch.config.schema.json';

interface SchemaNode {
  description?: string;
  type?: string;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  $ref?: string;
  minimum?: number;
  maximum?: number;
  [keyword: string]: unknown;
}

const SCHEMA = configSchema as unknown as SchemaNode & { $defs: Record<string, SchemaNode> };

// ajv-formats is CommonJS with `exports.default`: Node's ESM loader and TypeScript disagree on
// where the function sits, so take it from wherever it is (as src/core/validate.ts does).
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const formatsModule = addFormatsModule as unknown as { default: AddFormats | { default: AddFormats } };
const addFormats: AddFormats =
  typeof formatsModule.default === 'function' ? formatsModule.default : formatsModule.default.default;

let compiled: ReturnType<Ajv2020['compile']> | undefined;
function schemaValidator(): ReturnType<Ajv2020['compile']> {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    compiled = ajv.compile(configSchema);
  }
  return compiled;
}

function deref(node: SchemaNode | undefined): SchemaNode | undefined {
  if (node?.$ref?.startsWith('#/$defs/')) return SCHEMA.$defs[node.$ref.slice('#/$defs/'.length)];
  return node;
}

/** The schema that describes the value at `path` (JSON pointer segments), following maps and lists. */
function schemaAt(path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = SCHEMA;
  for (const segment of path) {
    node = deref(node);
    if (!node) return undefined;
    const next: SchemaNode | undefined =
      node.properties?.[segment] ??
      (node.items && /^\d+$/.test(segment) ? node.items : undefined) ??
      (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
    node = next;
  }
  return deref(node);
}

function pointerSegments(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `quotas["anthropic\\.claude"].maxJobs`: dotted where a key is a plain name, quoted where not. */
export function displayPath(segments: readonly string[]): string {
  let out = '';
  for (const s of segments) {
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out || '(top level)';
}

function valueAt(root: unknown, segments: readonly string[]): unknown {
  let v = root;
  for (const s of segments)
    v = isObject(v) || Array.isArray(v) ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/** The allowed word closest to a typo, when it is close enough to be what was meant. */
export function closest(word: string, allowed: readonly string[]): string | undefined {
  let best: { word: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const d = editDistance(word, candidate);
    if (!best || d < best.distance) best = { word: candidate, distance: d };
  }
  return best && best.distance <= Math.max(2, Math.floor(word.length / 3)) ? best.word : undefined;
}

const list = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');

/** Like `displayPath`, but map keys the user chose (patterns, type names) are always quoted. */
function schemaPath(segments: readonly string[]): string {
  let out = '';
  for (const [i, s] of segments.entries()) {
    const parent = schemaAt(segments.slice(0, i));
    const named = parent?.properties?.[s] !== undefined;
    if (/^\d+$/.test(s) && parent?.items) out += `[${s}]`;
    else if (named) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out || '(top level)';
}

/** One ajv error as a sentence: what is wrong, the value received, what is allowed, the fix. */
function describeError(e: ErrorObject, data: unknown, origin: string): string {
  const at = pointerSegments(e.instancePath);
  const where = schemaPath(at);
  const received = JSON.stringify(valueAt(data, at));
  const node = schemaAt(at);
  const help = node?.description?.replace(/\.$/, '');
  const about = help ? ` (${where}: ${help})` : '';
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(node?.properties ?? {});
      const guess = closest(key, allowed);
      const fix = guess ? `rename it to "${guess}"` : 'remove it or move it where it belongs';
      const shown = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)
        ? `${at.length ? `${where}.` : ''}${key}`
        : schemaPath([...at, key]);
      return `${origin}: unknown key "${shown}"; allowed ${at.length ? `in ${where}` : 'at the top level'}: ${allowed.join(', ')}. Fix: ${fix} (reference: ${CONFIG_SCHEMA_PATH}).`;
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      const value = valueAt(data, at);
      const strings = allowed.filter((a): a is string => typeof a === 'string');
      const guess = typeof value === 'string' ? closest(value, strings) : undefined;
      return `${origin}: ${where} must be one of ${list(allowed)} (received ${received}). Fix: ${guess ? `use "${guess}"` : 'use one of those values'}${about}.`;
    }
    case 'type': {
      const type = (e.params as { type: string }).type;
      return `${origin}: ${where} must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} (received ${received})${about}.`;
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return `${origin}: ${where} needs "${missing}"${about}. Fix: add "${missing}".`;
    }
    case 'pattern':
      return `${origin}: ${where} is not valid (received ${received}). Allowed: ${help ?? `text matching ${(e.params as { pattern: string }).pattern}`}.`;
    case 'propertyNames': {
      const name = (e.params as { propertyName: string }).propertyName;
      const isRegex = JSON.stringify(node?.['propertyNames'] ?? {}).includes('regex');
      return isRegex
        ? `${origin}: key ${JSON.stringify(name)} in ${where} is not a valid regular expression. Fix: write a regular expression matching model ids, with dots escaped (e.g. "anthropic\\\\.claude").`
        : `${origin}: key ${JSON.stringify(name)} in ${where} is not a document type name or "*". Fix: use a type name (letters, digits, '-', '_') such as "invoice", or "*" for every other type.`;
    }
    default:
      return `${origin}: ${where} ${e.message ?? 'is invalid'} (received ${received})${about}.`;
  }
}

function timeZoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return undefined;
  } catch {
    const zones = Intl.supportedValuesOf('timeZone');
    const suffix = zones.find((z) => z.toLowerCase().endsWith(`/${zone.toLowerCase()}`));
    return `is not an IANA time zone (received ${JSON.stringify(zone)}). Fix: use a name such as ${
      suffix ? `"${suffix}"` : '"Europe/Berlin"'
    } or "UTC"`;
  }
}

/**
 * Checks a parsed configuration file against the published schema and the checks a schema cannot
 * express (time zones). `origin` names the file in messages. Throws ConfigError listing every problem.
 */
export function validateConfigFile(value: unknown, origin: string): ConfigFile {
  const validate = schemaValidator();
  const problems: string[] = [];
  if (!validate(value)) {
    // ajv reports a failing propertyNames twice (the inner format/pattern and the wrapper): keep one.
    const errors = (validate.errors ?? []).filter(
      (e) => !(e.propertyName !== undefined && e.keyword !== 'propertyNames'),
    );
    for (const e of errors) {
      const message = describeError(e, value, origin);
      if (!problems.includes(message)) problems.push(message);
    }
  }
  const zone = isObject(value) && isObject(value['schedule']) ? value['schedule']['timezone'] : undefined;
  if (typeof zone === 'string') {
    const problem = timeZoneProblem(zone);
    if (problem) problems.push(`${origin}: schedule.timezone ${problem}.`);
  }
  if (problems.length === 1) throw new ConfigError(problems[0] ?? '');
  if (problems.length > 1)
    throw new ConfigError(
      `${origin} has ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  return value as ConfigFile;
}

// ---------------------------------------------------------------------------------------------
// Layers and provenance

export type ConfigSource = 'default' | 'file' | 'env' | 'flag';

/** Where one value came from: its layer and, within it, the file, variable, flag or built-in rule. */
export interface Origin {
  source: ConfigSource;
  detail: string;
}

export type ConfigLayer =
  /** docbatch.config.json (validated); `name` is the file as the user knows it. */
  | { source: 'file'; name: string; values: ConfigFile }
  /** Overrides of the effective configuration itself (DOCBATCH_CONFIG, as Lambda reads it). */
  | { source: 'env'; name: string; overrides: unknown }
  /** A file-shaped value from a variable or a flag (DOCBATCH_MODEL_ID, --model). */
  | { source: 'env' | 'flag'; name: string; values: ConfigFile };

export interface ResolvedConfig {
  config: Config;
  /** Leaf path (as `configEntries` prints it) → where its value came from. */
  origins: Record<string, Origin>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Leaves of a configuration as [path, value]: objects are walked; a list of objects gives one leaf
 * per row (`model.families[0]`), any other list is one leaf.
 */
export function configEntries(config: Config): [string, unknown][] {
  const out: [string, unknown][] = [];
  const walk = (value: unknown, path: string[]) => {
    if (isObject(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    } else if (Array.isArray(value) && value.length > 0 && value.every(isObject)) {
      value.forEach((row, i) => {
        out.push([displayPath([...path, String(i)]), row]);
      });
    } else {
      out.push([displayPath(path), value]);
    }
  };
  walk(config, []);
  return out;
}

/** Env variables the configuration reads, in the CLI and in Lambda alike. */
export const CONFIG_ENV = {
  /** The model id (overrides the file; a flag overrides it). */
  modelId: 'DOCBATCH_MODEL_ID',
  /** JSON overrides of the effective configuration (what a deployment passes to its Lambdas). */
  overrides: 'DOCBATCH_CONFIG',
} as const;

/** The environment as configuration layers (both variables optional). */
export function envLayers(env: Record<string, string | undefined>): ConfigLayer[] {
  const layers: ConfigLayer[] = [];
  const raw = env[CONFIG_ENV.overrides];
  if (raw) {
    let overrides: unknown;
    try {
      overrides = JSON.parse(raw);
    } catch (error) {
      throw new ConfigError(
        `${CONFIG_ENV.overrides} is not valid JSON: ${(error as Error).message}. Fix: set it to a JSON object such as {"chunk":{"maxTokens":4000}}, or unset it.`,
      );
    }
    layers.push({ source: 'env', name: CONFIG_ENV.overrides, overrides });
  }
  const modelId = env[CONFIG_ENV.modelId];
  if (modelId) layers.push({ source: 'env', name: CONFIG_ENV.modelId, values: { model: { id: modelId } } });
  return layers;
}

/**
 * The effective configuration from layers applied in order (later wins), every leaf remembering
 * its origin. The model id is settled first, because the quotas rows that apply depend on it.
 */
export function resolveConfig(layers: readonly ConfigLayer[]): ResolvedConfig {
  const builtIn: Origin = { source: 'default', detail: 'built-in' };
  let modelId = LOCAL_MODEL_ID;
  let modelOrigin = builtIn;
  for (const layer of layers) {
    const id =
      'values' in layer
        ? layer.values.model?.id
        : isObject(layer.overrides) && isObject(layer.overrides['model'])
          ? layer.overrides['model']['id']
          : undefined;
    if (typeof id === 'string') {
      modelId = id;
      modelOrigin = { source: layer.source, detail: layer.name };
    }
  }

  const config = defaultConfig(modelId);
  const origins: Record<string, Origin> = {};
  for (const [path] of configEntries(config)) origins[path] = builtIn;
  origins['model.id'] = modelOrigin;

  // Quotas: defaults, then the built-in row for this model, then every matching configured row.
  const quotas: Quotas = { ...DEFAULT_QUOTAS };
  const setQuotas = (values: Partial<Quotas>, origin: Origin) => {
    for (const [k, v] of Object.entries(values)) {
      if (typeof v !== 'number') continue;
      (quotas as unknown as Record<string, number>)[k] = v;
      origins[`quotas.${k}`] = origin;
    }
  };
  for (const row of MODEL_QUOTAS.filter((r) => r.match.test(modelId)).slice(0, 1))
    setQuotas(row.quotas, { source: 'default', detail: `built-in for model ids matching ${row.match}` });

  const families: { row: Config['model']['families'][number]; origin: Origin }[] = config.model.families.map(
    (row) => ({ row, origin: builtIn }),
  );
  const priceRows: { row: ModelPrice; origin: Origin }[] = config.prices.models.map((row) => ({
    row,
    origin: { source: 'default', detail: `example prices of ${config.prices.date}` },
  }));
  const set = (path: string, origin: Origin, apply: () => void) => {
    apply();
    origins[path] = origin;
  };

  for (const layer of layers) {
    const origin: Origin = { source: layer.source, detail: layer.name };
    if (!('values' in layer)) {
      applyOverrides(config, layer.overrides, origin, origins, quotas, families, priceRows);
      continue;
    }
    const v = layer.values;
    if (v.model?.families) {
      families.unshift(...v.model.families.map((row) => ({ row, origin })));
    }
    for (const [pattern, values] of Object.entries(v.quotas ?? {})) {
      if (new RegExp(pattern).test(modelId))
        setQuotas(values, {
          source: layer.source,
          detail: `${layer.name} quotas[${JSON.stringify(pattern)}]`,
        });
    }
    if (v.belowMinimum !== undefined) {
      const value = v.belowMinimum;
      set('belowMinimum', origin, () => {
        config.belowMinimum = value;
      });
    }
    if (v.onDemandConcurrency !== undefined) {
      const value = v.onDemandConcurrency;
      set('onDemandConcurrency', origin, () => {
        config.onDemandConcurrency = value;
      });
    }
    if (v.chunk?.maxTokens !== undefined) {
      const value = v.chunk.maxTokens;
      set('chunk.maxTokens', origin, () => {
        config.chunk.maxTokens = value;
      });
    }
    if (v.ocr?.textLayer !== undefined) {
      const value = v.ocr.textLayer;
      set('ocr.textLayer', origin, () => {
        config.ocr.textLayer = value;
      });
    }
    if (v.ocr?.imageTextMinCoverage !== undefined) {
      const value = v.ocr.imageTextMinCoverage;
      set('ocr.imageTextMinCoverage', origin, () => {
        config.ocr.imageTextMinCoverage = value;
      });
    }
    if (v.ocr?.localEngine !== undefined) {
      const value = v.ocr.localEngine;
      set('ocr.localEngine', origin, () => {
        config.ocr.localEngine = value;
      });
    }
    for (const [type, features] of Object.entries(v.ocr?.textractFeatures ?? {})) {
      set(displayPath(['ocr', 'textractFeatures', type]), origin, () => {
        config.ocr.textractFeatures[type] = [...features];
      });
    }
    for (const [k, value] of Object.entries(v.batch ?? {})) {
      if (typeof value !== 'number' || !(k in config.batch)) continue;
      set(`batch.${k}`, origin, () => {
        (config.batch as unknown as Record<string, number>)[k] = value;
      });
    }
    if (v.prices?.date !== undefined) {
      const value = v.prices.date;
      set('prices.date', origin, () => {
        config.prices.date = value;
      });
    }
    const modelPrices = Object.entries(v.prices?.models ?? {}).map(([match, p]) => ({
      row: {
        match,
        name: p.name ?? match,
        inputPerMillion: p.inputPerMillion,
        outputPerMillion: p.outputPerMillion,
        batchDiscount: p.batchDiscount ?? 0.5,
      },
      origin: { source: layer.source, detail: `${layer.name} prices.models[${JSON.stringify(match)}]` },
    }));
    priceRows.unshift(...modelPrices);
    const textract = v.prices?.textract;
    if (textract?.detectTextPer1000Pages !== undefined) {
      const value = textract.detectTextPer1000Pages;
      set('prices.textract.detectTextPer1000Pages', origin, () => {
        config.prices.textract.detectTextPer1000Pages = value;
      });
    }
    for (const [feature, value] of Object.entries(textract?.featurePer1000Pages ?? {})) {
      if (typeof value !== 'number') continue;
      set(`prices.textract.featurePer1000Pages.${feature}`, origin, () => {
        config.prices.textract.featurePer1000Pages[feature as TextractFeature] = value;
      });
    }
    if (v.schedule?.expression !== undefined) {
      const value = v.schedule.expression;
      set('schedule.expression', origin, () => {
        config.schedule.expression = value;
      });
    }
    if (v.schedule?.timezone !== undefined) {
      const value = v.schedule.timezone;
      set('schedule.timezone', origin, () => {
        config.schedule.timezone = value;
      });
    }
  }

  config.quotas = quotas;
  config.model.families = families.map((f) => f.row);
  config.prices.models = priceRows.map((p) => p.row);
  for (const key of Object.keys(origins)) {
    if (key.startsWith('model.families[') || key.startsWith('prices.models[')) delete origins[key];
  }
  families.forEach((f, i) => {
    origins[`model.families[${i}]`] = f.origin;
  });
  priceRows.forEach((p, i) => {
    origins[`prices.models[${i}]`] = p.origin;
  });

  checkFamilies(config, families, modelOrigin);
  return { config, origins };
}

/** A family name nobody implements, or a model no row matches, fails now rather than at night. */
function checkFamilies(
  config: Config,
  families: readonly { row: Config['model']['families'][number]; origin: Origin }[],
  modelOrigin: Origin,
): void {
  for (const { row, origin } of families) {
    if (origin.source === 'default') continue;
    try {
      familyByName(row.family);
    } catch (error) {
      throw new ConfigError(`${origin.detail}: model.families: ${(error as Error).message}`);
    }
  }
  try {
    familyForModel(config.model.id, config.model.families);
  } catch (error) {
    const o =
      modelOrigin.source === 'default' ? 'the default' : `${modelOrigin.source} ${modelOrigin.detail}`;
    throw new ConfigError(
      `${(error as Error).message}. model.id comes from ${o}. Fix: choose a model of a family docbatch builds requests for (e.g. anthropic.claude-haiku-4-5-20251001-v1:0), or map its id to the family whose API it speaks with a model.families row in docbatch.config.json`,
      { cause: error },
    );
  }
}

/**
 * DOCBATCH_CONFIG: overrides of the effective configuration (what a deployment hands its Lambdas),
 * deep-merged with unknown keys refused. Its values are recorded as coming from the environment.
 */
function applyOverrides(
  config: Config,
  overrides: unknown,
  origin: Origin,
  origins: Record<string, Origin>,
  quotas: Quotas,
  families: { row: Config['model']['families'][number]; origin: Origin }[],
  priceRows: { row: ModelPrice; origin: Origin }[],
): void {
  const current: Config = {
    ...config,
    quotas,
    model: { ...config.model, families: families.map((f) => f.row) },
    prices: { ...config.prices, models: priceRows.map((p) => p.row) },
  };
  const merged = mergeConfig(current, overrides, '', origin.detail);
  Object.assign(quotas, merged.quotas);
  Object.assign(config, { ...merged, quotas: config.quotas });
  const o = overrides as Record<string, unknown>;
  const touched = (path: string[]): boolean => valueAt(o, path) !== undefined;
  for (const [path] of configEntries(merged)) {
    const segments = path.replace(/\[(\d+)\]/g, '.$1').split('.');
    if (touched(segments)) origins[path] = origin;
  }
  if (isObject(o['model']) && Array.isArray(o['model']['families'])) {
    families.splice(0, families.length, ...merged.model.families.map((row) => ({ row, origin })));
  }
  if (isObject(o['prices']) && Array.isArray(o['prices']['models'])) {
    priceRows.splice(0, priceRows.length, ...merged.prices.models.map((row) => ({ row, origin })));
  }
}

/** Configuration in Lambda: the deployment's DOCBATCH_MODEL_ID and DOCBATCH_CONFIG overrides. */
export function configFromEnv(env: Record<string, string | undefined>): Config {
  return resolveConfig(envLayers(env)).config;
}

/** Maps whose keys are the user's (document types), not the configuration's. */
const OPEN_MAPS = new Set(['ocr.textractFeatures']);

/** Deep-merges overrides into a config, refusing keys the config does not have (typos fail fast). */
export function mergeConfig<T>(base: T, overrides: unknown, path = '', origin = 'configuration'): T {
  if (!isObject(overrides)) {
    throw new ConfigError(
      `${origin}${path ? ` "${path.slice(1)}"` : ''} must be an object (received ${JSON.stringify(overrides)})`,
    );
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  const open = OPEN_MAPS.has(path.slice(1));
  for (const [key, value] of Object.entries(overrides)) {
    const where = `${path}.${key}`;
    if (!(key in out) && !open) {
      const allowed = Object.keys(out);
      const guess = closest(key, allowed);
      throw new ConfigError(
        `unknown key "${where.slice(1)}" in ${origin}; allowed here: ${allowed.join(', ')}${guess ? `. Fix: rename it to "${guess}"` : ''}`,
      );
    }
    const current = out[key];
    if (open) {
      out[key] = value;
    } else if (isObject(current) && !Array.isArray(current)) {
      out[key] = mergeConfig(current, value, where, origin);
    } else {
      if (typeof value !== typeof current || Array.isArray(value) !== Array.isArray(current)) {
        throw new ConfigError(
          `${origin} "${where.slice(1)}" must be a ${Array.isArray(current) ? 'list' : typeof current} (received ${JSON.stringify(value)})`,
        );
      }
      out[key] = value;
    }
  }
  return out as T;
}
