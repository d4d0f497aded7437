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
  quotas: Quotas;
  /** What to do with a run that has fewer records than the model's minimum. */
  belowMinimum: 'on-demand' | 'defer';
  /** Bounded concurrency for on-demand calls. */
  onDemandConcurrency: number;
  chunk: { maxTokens: number };
  ocr: { textLayer: 'prefer' | 'never' | 'only' };
  batch: { timeoutHours: number; maxAttempts: number; pollSeconds: number; deadlineHours: number };
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
    ocr: { textLayer: 'prefer' },
    batch: { timeoutHours: 24, maxAttempts: 2, pollSeconds: 300, deadlineHours: 30 },
  };
}

/** Configuration in Lambda comes from one environment variable holding JSON overrides. */
export function configFromEnv(env: Record<string, string | undefined>): Config {
  const raw = env['DOCBATCH_CONFIG'];
  const base = defaultConfig(env['DOCBATCH_MODEL_ID'] ?? LOCAL_MODEL_ID);
  if (!raw) return base;
  let overrides: unknown;
  try {
    overrides = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(`DOCBATCH_CONFIG is not valid JSON: ${(error as Error).message}`);
  }
  return mergeConfig(base, overrides);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges overrides into a config, refusing keys the config does not have (typos fail fast). */
export function mergeConfig<T>(base: T, overrides: unknown, path = ''): T {
  if (!isObject(overrides)) {
    throw new ConfigError(
      `configuration${path || ''} must be an object (received ${JSON.stringify(overrides)})`,
    );
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    const where = `${path}.${key}`;
    if (!(key in out)) {
      throw new ConfigError(
        `unknown configuration key "${where.slice(1)}"; allowed here: ${Object.keys(out).join(', ')}`,
      );
    }
    const current = out[key];
    if (isObject(current) && !Array.isArray(current)) {
      out[key] = mergeConfig(current, value, where);
    } else {
      if (typeof value !== typeof current) {
        throw new ConfigError(
          `configuration "${where.slice(1)}" must be a ${Array.isArray(current) ? 'list' : typeof current} (received ${JSON.stringify(value)})`,
        );
      }
      out[key] = value;
    }
  }
  return out as T;
}
