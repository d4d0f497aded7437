import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MODEL_ID,
  functionEnvironment,
  loadSettings,
  modelResourceArns,
  settingsFrom,
} from '../../infra/config.ts';
import { configFromEnv } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';

const context = (values: Record<string, unknown>) => (key: string) => values[key];

describe('Function: settingsFrom', () => {
  it('deploys a real Bedrock model, nightly at 02:00 UTC, with 24 h jobs by default', () => {
    const s = settingsFrom(context({}));
    expect(s.config.model.id).toBe(DEFAULT_MODEL_ID);
    expect(s.config.schedule).toEqual({ expression: 'cron(0 2 * * ? *)', timezone: 'UTC' });
    expect(s.config.batch.timeoutHours).toBe(24);
    expect(s.bucketName).toBeUndefined();
  });

  it('takes the model, schedule, time zone, quotas and timeout from context (strings, as -c gives them)', () => {
    const s = settingsFrom(
      context({
        modelId: 'eu.anthropic.claude-haiku-4-5-20251001-v1:0',
        schedule: 'cron(0 23 * * ? *)',
        timezone: 'Europe/Paris',
        quotas: '{"maxConcurrentJobs": 2}',
        batchTimeoutHours: '72',
      }),
    );
    expect(s.config.model.id).toBe('eu.anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(s.config.schedule).toEqual({ expression: 'cron(0 23 * * ? *)', timezone: 'Europe/Paris' });
    expect(s.config.quotas.maxConcurrentJobs).toBe(2);
    expect(s.config.batch.timeoutHours).toBe(72);
  });

  it('lets context override the configuration file, and the file the defaults', () => {
    const file = {
      name: 'docbatch.config.json',
      values: { model: { id: 'anthropic.claude-3-5-haiku-20241022-v1:0' }, chunk: { maxTokens: 3000 } },
    };
    expect(settingsFrom(context({}), file).config.model.id).toBe('anthropic.claude-3-5-haiku-20241022-v1:0');
    expect(settingsFrom(context({}), file).config.chunk.maxTokens).toBe(3000);
    expect(settingsFrom(context({ modelId: DEFAULT_MODEL_ID }), file).config.model.id).toBe(DEFAULT_MODEL_ID);
  });

  it.each([
    [{ modelId: 'docbatch.rules-v1' }, /offline rules model.*-c modelId=/],
    [{ modelId: 'mistral.large' }, /no model family matches model id "mistral\.large"/],
    [{ schedule: 'every night' }, /schedule.*every night/],
    [{ timezone: 'Mars/Olympus' }, /timezone is not an IANA time zone.*"Mars\/Olympus"/],
    [{ quotas: '{maxJobs: 1}' }, /context "quotas" must be JSON.*-c quotas=/],
    [{ quotas: '{"maxJobs": 1}' }, /maxJobs/],
    [
      { batchTimeoutHours: '12' },
      /batchTimeoutHours" must be a whole number from 24 to 168 \(received "12"\)/,
    ],
    [{ bucketName: 'My_Bucket' }, /valid S3 bucket name.*"My_Bucket"/],
    [{ modelArns: '["not-an-arn"]' }, /modelArns" must be a JSON list of ARNs/],
    [
      { rejectedDocumentsAlarmThreshold: 0 },
      /rejectedDocumentsAlarmThreshold" must be a whole number from 1/,
    ],
  ])('refuses %j with a message saying what is wrong and how to fix it', (values, message) => {
    expect(() => settingsFrom(context(values))).toThrow(ConfigError);
    expect(() => settingsFrom(context(values))).toThrow(message);
  });
});

describe('Function: loadSettings', () => {
  it('reads docbatch.config.json from the working directory when there is one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docbatch-infra-'));
    try {
      await writeFile(
        join(dir, 'docbatch.config.json'),
        JSON.stringify({
          model: { id: 'anthropic.claude-3-5-haiku-20241022-v1:0' },
          schedule: { timezone: 'Asia/Tokyo' },
        }),
      );
      const s = await loadSettings(context({}), dir);
      expect(s.config.model.id).toBe('anthropic.claude-3-5-haiku-20241022-v1:0');
      expect(s.config.schedule.timezone).toBe('Asia/Tokyo');
      expect(s.configSources).toEqual(['built-in', 'docbatch.config.json', 'CDK context']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uses only the defaults and context when there is no file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docbatch-infra-'));
    try {
      expect((await loadSettings(context({ timezone: 'Europe/Berlin' }), dir)).configSources).toEqual([
        'built-in',
        'CDK context',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Function: functionEnvironment', () => {
  it('gives the functions a configuration configFromEnv resolves to the same settings', () => {
    const { config } = settingsFrom(context({ quotas: { maxRecordsPerJob: 1234 }, batchTimeoutHours: 36 }));
    const env = functionEnvironment(config);
    expect(env.DOCBATCH_MODEL_ID).toBe(config.model.id);
    const resolved = configFromEnv(env);
    for (const key of [
      'model',
      'quotas',
      'belowMinimum',
      'onDemandConcurrency',
      'chunk',
      'ocr',
      'batch',
    ] as const)
      expect(resolved[key], key).toEqual(config[key]);
  });

  it('stays far below the 4 KB Lambda environment limit', () => {
    const env = functionEnvironment(settingsFrom(context({})).config);
    expect(Buffer.byteLength(JSON.stringify(env))).toBeLessThan(2048);
  });
});

describe('Function: modelResourceArns', () => {
  const where = { partition: 'aws', region: 'eu-west-1', account: '123456789012' };

  it('grants a foundation model in this region', () => {
    expect(modelResourceArns('anthropic.claude-3-5-haiku-20241022-v1:0', where)).toEqual([
      'arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
    ]);
  });

  it.each(['us', 'eu', 'apac', 'global'])(
    'grants a %s. inference profile and its model in any region',
    (geo) => {
      expect(modelResourceArns(`${geo}.anthropic.claude-haiku-4-5-20251001-v1:0`, where)).toEqual([
        `arn:aws:bedrock:eu-west-1:123456789012:inference-profile/${geo}.anthropic.claude-haiku-4-5-20251001-v1:0`,
        'arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0',
      ]);
    },
  );

  it('passes an ARN through', () => {
    const arn = 'arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc';
    expect(modelResourceArns(arn, where)).toEqual([arn]);
  });
});
