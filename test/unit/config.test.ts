import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  type ConfigLayer,
  configEntries,
  configFromEnv,
  defaultConfig,
  envLayers,
  LOCAL_MODEL_ID,
  mergeConfig,
  resolveConfig,
  textractFeaturesFor,
  validateConfigFile,
} from '../../src/config.ts';
import { DEFAULT_PRICES, priceFor, textractCost, tokenCost } from '../../src/core/pricing.ts';
import { ConfigError } from '../../src/errors.ts';

const SCHEMA_PATH = new URL('../../config/docbatch.config.schema.json', import.meta.url);
const HAIKU = 'anthropic.claude-haiku-4-5-20251001-v1:0';

function problem(value: unknown): string {
  try {
    validateConfigFile(value, 'docbatch.config.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

const file = (values: unknown): ConfigLayer => ({
  source: 'file',
  name: 'docbatch.config.json',
  values: validateConfigFile(values, 'docbatch.config.json'),
});

describe('Function: validateConfigFile', () => {
  it('names an unknown key, the keys allowed there and the fix', () => {
    const message = problem({ chunk: { maxToken: 4000 } });
    expect(message).toContain('docbatch.config.json');
    expect(message).toContain('unknown key "chunk.maxToken"');
    expect(message).toContain('allowed in chunk: maxTokens');
    expect(message).toContain('Fix: rename it to "maxTokens"');
  });

  it('lists every allowed key at the top level for a misspelt section', () => {
    const message = problem({ qoutas: {} });
    expect(message).toContain('unknown key "qoutas"');
    expect(message).toMatch(/allowed at the top level: .*model, quotas, belowMinimum/);
    expect(message).toContain('rename it to "quotas"');
  });

  it('checks keys inside a model-pattern quota row', () => {
    const message = problem({ quotas: { 'anthropic\\.claude': { maxConcurentJobs: 3 } } });
    expect(message).toContain('maxConcurentJobs');
    expect(message).toContain('maxConcurrentJobs');
    // The pattern is shown as it is written in the JSON file.
    expect(message).toContain('allowed in quotas["anthropic\\\\.claude"]: minRecordsPerJob');
  });

  it('says what a value received is, what is allowed and which one was meant', () => {
    const message = problem({ belowMinimum: 'ondemand' });
    expect(message).toContain('belowMinimum must be one of "on-demand", "defer" (received "ondemand")');
    expect(message).toContain('Fix: use "on-demand"');
  });

  it('refuses a quota pattern that is not a regular expression, a bad feature and a bad time zone', () => {
    expect(problem({ quotas: { '(': { maxConcurrentJobs: 3 } } })).toContain(
      'not a valid regular expression',
    );
    expect(problem({ ocr: { textractFeatures: { invoice: ['TABLE'] } } })).toContain('use "TABLES"');
    expect(problem({ schedule: { timezone: 'Berlin' } })).toContain('"Europe/Berlin"');
  });

  it('reports every problem of a file at once', () => {
    const message = problem({ chunk: { maxTokens: '6000' }, batch: { timeoutHours: 12 } });
    expect(message).toMatch(/has 2 problems/);
    expect(message).toContain('chunk.maxTokens must be an integer (received "6000")');
    expect(message).toContain('batch.timeoutHours must be >= 24 (received 12)');
  });

  it('accepts a complete file', () => {
    expect(() =>
      validateConfigFile(
        {
          $schema: './config/docbatch.config.schema.json',
          model: { id: HAIKU, families: [{ match: '^my\\.', family: 'anthropic' }] },
          quotas: { 'anthropic\\.': { minRecordsPerJob: 100, maxConcurrentJobs: 5 } },
          belowMinimum: 'defer',
          onDemandConcurrency: 8,
          chunk: { maxTokens: 4000 },
          ocr: {
            textLayer: 'never',
            imageTextMinCoverage: 0.1,
            textractFeatures: { invoice: ['TABLES', 'FORMS'], '*': [] },
          },
          batch: { timeoutHours: 48, maxAttempts: 3, deadlineHours: 36 },
          prices: {
            date: '2026-11-01',
            models: { 'anthropic\\.claude-haiku': { inputPerMillion: 0.9, outputPerMillion: 4.5 } },
            textract: { detectTextPer1000Pages: 1.2, featurePer1000Pages: { TABLES: 12 } },
          },
          schedule: { expression: 'cron(30 1 * * ? *)', timezone: 'Europe/Berlin' },
        },
        'f',
      ),
    ).not.toThrow();
  });
});

describe('Published schema: config/docbatch.config.schema.json', () => {
  it('describes every key', async () => {
    const schema = JSON.parse(await readFile(SCHEMA_PATH, 'utf8'));
    const missing: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      const props = node['properties'] as Record<string, Record<string, unknown>> | undefined;
      for (const [key, child] of Object.entries(props ?? {})) {
        if (typeof child['description'] !== 'string') missing.push(`${path}.${key}`);
        walk(child, `${path}.${key}`);
      }
      for (const k of ['additionalProperties', 'items'] as const) {
        const child = node[k];
        if (child && typeof child === 'object') walk(child as Record<string, unknown>, `${path}.${k}`);
      }
    };
    walk(schema, '');
    for (const [name, def] of Object.entries(schema.$defs as Record<string, Record<string, unknown>>))
      walk(def, `$defs.${name}`);
    expect(missing).toEqual([]);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('only offers batch and quota keys the effective configuration has', async () => {
    const schema = JSON.parse(await readFile(SCHEMA_PATH, 'utf8'));
    const config = defaultConfig();
    expect(Object.keys(schema.properties.batch.properties).filter((k) => !(k in config.batch))).toEqual([]);
    expect(Object.keys(schema.$defs.quotas.properties).sort()).toEqual(Object.keys(config.quotas).sort());
  });
});

describe('Function: resolveConfig', () => {
  it('returns the defaults, each from "default", when nothing is configured', () => {
    const { config, origins } = resolveConfig([]);
    expect(config).toEqual(defaultConfig());
    for (const [path] of configEntries(config)) expect(origins[path]?.source, path).toBe('default');
    expect(origins['quotas.minRecordsPerJob']?.detail).toMatch(/built-in for model ids matching/);
  });

  it('lets a flag override the file, and says where each value came from', () => {
    const { config, origins } = resolveConfig([
      file({ model: { id: HAIKU }, chunk: { maxTokens: 4000 }, belowMinimum: 'defer' }),
      { source: 'env', name: 'DOCBATCH_CONFIG', overrides: { chunk: { maxTokens: 3000 } } },
      {
        source: 'flag',
        name: '--model',
        values: { model: { id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' } },
      },
    ]);
    expect(config.model.id).toBe('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(origins['model.id']).toEqual({ source: 'flag', detail: '--model' });
    expect(config.chunk.maxTokens).toBe(3000);
    expect(origins['chunk.maxTokens']).toEqual({ source: 'env', detail: 'DOCBATCH_CONFIG' });
    expect(config.belowMinimum).toBe('defer');
    expect(origins['belowMinimum']).toEqual({ source: 'file', detail: 'docbatch.config.json' });
    expect(origins['onDemandConcurrency']?.source).toBe('default');
  });

  it('applies the quota rows that match the final model id, whichever layer chose it', () => {
    const layers = [
      file({
        quotas: { '^docbatch\\.': { maxConcurrentJobs: 2 }, 'anthropic\\.claude': { maxConcurrentJobs: 7 } },
      }),
    ];
    const local = resolveConfig(layers);
    expect(local.config.quotas.maxConcurrentJobs).toBe(2);
    expect(local.config.quotas.minRecordsPerJob).toBe(1);
    const haiku = resolveConfig([
      ...layers,
      { source: 'flag', name: '--model', values: { model: { id: HAIKU } } },
    ]);
    expect(haiku.config.quotas).toMatchObject({ maxConcurrentJobs: 7, minRecordsPerJob: 100 });
    expect(haiku.origins['quotas.maxConcurrentJobs']?.detail).toBe(
      'docbatch.config.json quotas["anthropic\\\\.claude"]',
    );
  });

  it('puts configured families and prices in front of the built-in rows', () => {
    const { config, origins } = resolveConfig([
      file({
        model: { id: 'acme.claude-compatible-v1', families: [{ match: '^acme\\.', family: 'anthropic' }] },
        prices: { models: { '^acme\\.': { inputPerMillion: 2, outputPerMillion: 8 } } },
      }),
    ]);
    expect(config.model.families[0]).toEqual({ match: '^acme\\.', family: 'anthropic' });
    expect(origins['model.families[0]']?.source).toBe('file');
    expect(origins['model.families[1]']?.source).toBe('default');
    expect(priceFor(config.prices, 'acme.claude-compatible-v1')).toMatchObject({
      inputPerMillion: 2,
      batchDiscount: 0.5,
    });
  });

  it('fails fast on a model no family can talk to, naming where the id came from', () => {
    expect(() =>
      resolveConfig([{ source: 'flag', name: '--model', values: { model: { id: 'mistral.large' } } }]),
    ).toThrow(/no model family matches model id "mistral\.large".*flag --model/);
    expect(() => resolveConfig([file({ model: { families: [{ match: 'x', family: 'nova2' }] } })])).toThrow(
      /unknown model family "nova2"/,
    );
  });

  it('reads features per type with "*" as the fallback', () => {
    const { config } = resolveConfig([
      file({ ocr: { textractFeatures: { invoice: ['TABLES'], '*': ['LAYOUT'] } } }),
    ]);
    expect(textractFeaturesFor(config, 'invoice')).toEqual(['TABLES']);
    expect(textractFeaturesFor(config, 'receipt')).toEqual(['LAYOUT']);
  });

  it('reads ocr.imageTextMinCoverage (0.05 by default) from any layer and refuses a share outside 0–1', () => {
    expect(defaultConfig().ocr.imageTextMinCoverage).toBe(0.05);
    const { config, origins } = resolveConfig([file({ ocr: { imageTextMinCoverage: 0.1 } })]);
    expect(config.ocr.imageTextMinCoverage).toBe(0.1);
    expect(config.ocr.textLayer).toBe('prefer');
    expect(origins['ocr.imageTextMinCoverage']?.source).toBe('file');
    expect(problem({ ocr: { imageTextMinCoverage: 1.5 } })).toContain(
      'ocr.imageTextMinCoverage must be <= 1 (received 1.5)',
    );
    expect(problem({ ocr: { imageTextMinCoverage: -0.1 } })).toContain('must be >= 0');
    const env = configFromEnv({ DOCBATCH_CONFIG: JSON.stringify({ ocr: { imageTextMinCoverage: 1 } }) });
    expect(env.ocr.imageTextMinCoverage).toBe(1);
  });
});

describe('Function: resolveConfig (ocr.localEngine)', () => {
  it('reads ocr.localEngine ("paddle" by default) from any layer and refuses an unknown engine', () => {
    expect(defaultConfig().ocr.localEngine).toBe('paddle');
    const { config, origins } = resolveConfig([file({ ocr: { localEngine: 'tesseract' } })]);
    expect(config.ocr.localEngine).toBe('tesseract');
    expect(config.ocr.textLayer).toBe('prefer');
    expect(origins['ocr.localEngine']?.source).toBe('file');
    expect(problem({ ocr: { localEngine: 'easyocr' } })).toContain(
      'ocr.localEngine must be one of "paddle", "tesseract" (received "easyocr")',
    );
    const env = configFromEnv({ DOCBATCH_CONFIG: JSON.stringify({ ocr: { localEngine: 'tesseract' } }) });
    expect(env.ocr.localEngine).toBe('tesseract');
  });
});

describe('Function: configFromEnv', () => {
  it('reads DOCBATCH_MODEL_ID and DOCBATCH_CONFIG overrides of the effective configuration', () => {
    const config = configFromEnv({
      DOCBATCH_MODEL_ID: HAIKU,
      DOCBATCH_CONFIG: JSON.stringify({ quotas: { maxConcurrentJobs: 3 }, chunk: { maxTokens: 2000 } }),
    });
    expect(config.model.id).toBe(HAIKU);
    expect(config.quotas).toMatchObject({ maxConcurrentJobs: 3, minRecordsPerJob: 100 });
    expect(config.chunk.maxTokens).toBe(2000);
    expect(configFromEnv({}).model.id).toBe(LOCAL_MODEL_ID);
  });

  it('refuses invalid JSON and unknown keys with the fix', () => {
    expect(() => envLayers({ DOCBATCH_CONFIG: '{nope' })).toThrow(/DOCBATCH_CONFIG is not valid JSON.*Fix/);
    expect(() => configFromEnv({ DOCBATCH_CONFIG: '{"chunk":{"maxToken":1}}' })).toThrow(
      /unknown key "chunk\.maxToken" in DOCBATCH_CONFIG; allowed here: maxTokens\. Fix: rename it to "maxTokens"/,
    );
  });

  it('keeps mergeConfig working for partial configurations (tests build theirs with it)', () => {
    const merged = mergeConfig(defaultConfig(), { quotas: { minRecordsPerJob: 5 } });
    expect(merged.quotas.minRecordsPerJob).toBe(5);
    expect(() => mergeConfig(defaultConfig(), { chunk: { maxTokens: '1' } })).toThrow(/must be a number/);
  });
});

describe('Pricing', () => {
  it('prices tokens on demand and at the batch discount', () => {
    const haiku = priceFor(DEFAULT_PRICES, `us.${HAIKU}`);
    if (!haiku) throw new Error('no Haiku row in the default price table');
    expect(haiku.name).toBe('Claude Haiku 4.5');
    const cost = tokenCost(haiku, { input: 1_000_000, output: 200_000 });
    expect(cost.onDemand).toBeCloseTo(2, 10);
    expect(cost.batch).toBeCloseTo(1, 10);
    expect(priceFor(DEFAULT_PRICES, LOCAL_MODEL_ID)?.inputPerMillion).toBe(0);
  });

  it('prices Textract per page: text detection, or each analysis feature', () => {
    expect(textractCost(DEFAULT_PRICES.textract, 1000)).toBeCloseTo(1.5, 10);
    expect(textractCost(DEFAULT_PRICES.textract, 1000, ['TABLES', 'FORMS'])).toBeCloseTo(65, 10);
  });
});
