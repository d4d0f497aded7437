/**
 * The stack's settings. The pipeline's own settings (model, quotas, batch timeout, schedule …) are
 * resolved by the one configuration module, `src/config.ts`, from the same layers the CLI uses:
 * built-in defaults < docbatch.config.json < CDK context (`-c key=value` or cdk.json). Settings
 * only a deployment has (bucket name, retention, alarm thresholds) come from context alone. Every
 * value is checked here, so a typo fails the synth with a message saying what was received, what
 * is allowed and how to fix it, not the first night's run.
 */
import { relative } from 'node:path';
import { findConfigFile, readConfigFile } from '../src/cli/config-file.ts';
import {
  type Config,
  type ConfigFile,
  type ConfigLayer,
  configFromEnv,
  LOCAL_MODEL_ID,
  type Quotas,
  resolveConfig,
  validateConfigFile,
} from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';

export interface DocbatchSettings {
  /** The effective pipeline configuration the functions run with. */
  config: Config;
  /** Where it came from, for messages: `built-in`, the file name, `CDK context`. */
  configSources: string[];
  /** Extra resource ARNs the model may be invoked through (e.g. an application inference profile's models). */
  modelArns: string[];
  /** Fixed bucket name; CloudFormation generates one when absent. */
  bucketName?: string;
  /** Days before `runs/` (batch inputs and outputs) and `ocr/` objects expire. */
  runsRetentionDays: number;
  ocrRetentionDays: number;
  /** Days an overwritten or deleted object version is kept (the bucket is versioned). */
  noncurrentRetentionDays: number;
  /** Alarm when one batch run rejects at least this many documents. */
  rejectedDocumentsAlarmThreshold: number;
  /** Alarm when this many ingest executions fail within an hour (each rejected upload is one). */
  ingestFailuresAlarmThreshold: number;
  /** Subscribe this address to the alarm topic. */
  alarmEmail?: string;
}

/** The model a deployment uses unless docbatch.config.json or `-c modelId=…` names another. */
export const DEFAULT_MODEL_ID = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';

export const INFRA_DEFAULTS = {
  runsRetentionDays: 30,
  ocrRetentionDays: 30,
  noncurrentRetentionDays: 30,
  rejectedDocumentsAlarmThreshold: 5,
  ingestFailuresAlarmThreshold: 10,
} as const;

/** `-c key=value` arrives as a string; cdk.json may hold real JSON. */
function jsonValue(key: string, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(
      `context "${key}" must be JSON (received ${raw}). Fix: quote it for the shell, e.g. -c ${key}='{"maxConcurrentJobs": 5}'.`,
    );
  }
}

function integer(key: string, raw: unknown, min: number, max: number): number {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `context "${key}" must be a whole number from ${min} to ${max} (received ${JSON.stringify(raw)}).`,
    );
  }
  return n;
}

function text(key: string, raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new ConfigError(`context "${key}" must be a non-empty string (received ${JSON.stringify(raw)}).`);
  }
  return raw.trim();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The context keys that are pipeline configuration, as a configuration-file-shaped layer:
 * `modelId`, `quotas` (for that model), `batchTimeoutHours`, `schedule`, `timezone`.
 */
function contextLayer(get: (key: string) => unknown, modelId: string): ConfigFile {
  const values: ConfigFile = {};
  const has = (key: string) => get(key) !== undefined;
  if (has('modelId')) values.model = { id: text('modelId', get('modelId')) };
  if (has('quotas')) {
    const q = jsonValue('quotas', get('quotas'));
    if (typeof q !== 'object' || q === null || Array.isArray(q)) {
      throw new ConfigError(
        `context "quotas" must be a JSON object such as {"maxConcurrentJobs": 5} (received ${JSON.stringify(q)}).`,
      );
    }
    if (Object.keys(q).length > 0) values.quotas = { [`^${escapeRegExp(modelId)}$`]: q as Partial<Quotas> };
  }
  if (has('batchTimeoutHours'))
    values.batch = { timeoutHours: integer('batchTimeoutHours', get('batchTimeoutHours'), 24, 168) };
  if (has('schedule') || has('timezone')) {
    values.schedule = {
      ...(has('schedule') ? { expression: text('schedule', get('schedule')) } : {}),
      ...(has('timezone') ? { timezone: text('timezone', get('timezone')) } : {}),
    };
  }
  return validateConfigFile(values, 'CDK context');
}

/**
 * Settings from a context lookup (`app.node.tryGetContext`) and an optional configuration file's
 * values (already validated). Context wins over the file; the file over the built-in defaults.
 */
export function settingsFrom(
  get: (key: string) => unknown,
  file?: { name: string; values: ConfigFile },
): DocbatchSettings {
  const contextModel = get('modelId');
  const modelId =
    (typeof contextModel === 'string' && contextModel.trim()) || file?.values.model?.id || DEFAULT_MODEL_ID;
  const layers: ConfigLayer[] = [
    // The CLI's built-in model is the offline one; a deployment starts from a real one instead.
    { source: 'flag', name: 'infra default', values: { model: { id: DEFAULT_MODEL_ID } } },
    ...(file ? [{ source: 'file' as const, name: file.name, values: file.values }] : []),
    { source: 'flag', name: 'CDK context', values: contextLayer(get, modelId) },
  ];
  const { config } = resolveConfig(layers);
  if (config.model.id === LOCAL_MODEL_ID || config.model.id.startsWith('docbatch.')) {
    throw new ConfigError(
      `model "${config.model.id}" is docbatch's offline rules model, which Bedrock does not have. Fix: deploy with -c modelId=${DEFAULT_MODEL_ID} (or another Bedrock model your account has access to).`,
    );
  }
  const expression = config.schedule.expression;
  if (!/^(cron|rate)\(.+\)$/.test(expression)) {
    throw new ConfigError(
      `schedule "${expression}" is not an EventBridge Scheduler expression. Fix: use e.g. "cron(0 2 * * ? *)" (02:00 every day) or "rate(12 hours)".`,
    );
  }

  const has = (key: string) => get(key) !== undefined;
  const s: DocbatchSettings = {
    config,
    configSources: ['built-in', ...(file ? [file.name] : []), 'CDK context'],
    modelArns: [],
    ...INFRA_DEFAULTS,
  };
  if (has('modelArns')) {
    const arns = jsonValue('modelArns', get('modelArns'));
    if (!Array.isArray(arns) || !arns.every((a) => typeof a === 'string' && a.startsWith('arn:'))) {
      throw new ConfigError(
        `context "modelArns" must be a JSON list of ARNs (received ${JSON.stringify(get('modelArns'))}). Fix: -c modelArns='["arn:aws:bedrock:…"]'.`,
      );
    }
    s.modelArns = arns as string[];
  }
  if (has('bucketName')) {
    const name = text('bucketName', get('bucketName'));
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) {
      throw new ConfigError(
        `context "bucketName" must be a valid S3 bucket name: 3–63 lowercase letters, digits, '.' or '-' (received "${name}").`,
      );
    }
    s.bucketName = name;
  }
  for (const key of ['runsRetentionDays', 'ocrRetentionDays', 'noncurrentRetentionDays'] as const) {
    if (has(key)) s[key] = integer(key, get(key), 1, 3650);
  }
  for (const key of ['rejectedDocumentsAlarmThreshold', 'ingestFailuresAlarmThreshold'] as const) {
    if (has(key)) s[key] = integer(key, get(key), 1, 1_000_000);
  }
  if (has('alarmEmail')) s.alarmEmail = text('alarmEmail', get('alarmEmail'));
  return s;
}

/** Settings for the CDK app: docbatch.config.json (or `-c configFile=…`) in `cwd`, then context. */
export async function loadSettings(
  get: (key: string) => unknown,
  cwd = process.cwd(),
): Promise<DocbatchSettings> {
  const configFile = get('configFile');
  const { file } = await findConfigFile({
    cwd,
    ...(typeof configFile === 'string' && configFile ? { config: configFile } : {}),
  });
  if (!file) return settingsFrom(get);
  const name = relative(cwd, file) || file;
  return settingsFrom(get, { name, values: await readConfigFile(file, name) });
}

/**
 * The environment every function gets: `configFromEnv` in the handler rebuilds exactly
 * `settings.config` from it (a test holds the two equal). Only what tasks read is passed; the
 * price table and the schedule stay out of the 4 KB Lambda environment.
 */
export function functionEnvironment(config: Config): { DOCBATCH_MODEL_ID: string; DOCBATCH_CONFIG: string } {
  const overrides = {
    model: { families: config.model.families },
    quotas: config.quotas,
    belowMinimum: config.belowMinimum,
    onDemandConcurrency: config.onDemandConcurrency,
    chunk: config.chunk,
    ocr: config.ocr,
    batch: config.batch,
  };
  const env = { DOCBATCH_MODEL_ID: config.model.id, DOCBATCH_CONFIG: JSON.stringify(overrides) };
  // Resolving it here as the handler will makes a value the functions would refuse fail the synth.
  configFromEnv(env);
  return env;
}

/** Inference-profile ids start with a geography: `us.`, `eu.`, `apac.`, `global.` … */
const PROFILE_PREFIX = /^(us|eu|apac|us-gov|global|jp|au|ca)\.(.+)$/;

/**
 * The resources `bedrock:InvokeModel` (Bedrock batch role, InvokeOnDemand) and
 * `CreateModelInvocationJob` (batch state machine) must name for a model id: a foundation model in
 * this region; or an inference profile plus its foundation model in every region the profile
 * routes to; or an ARN as given.
 */
export function modelResourceArns(
  modelId: string,
  where: { partition: string; region: string; account: string },
): string[] {
  if (modelId.startsWith('arn:')) return [modelId];
  const profile = PROFILE_PREFIX.exec(modelId);
  if (profile) {
    return [
      `arn:${where.partition}:bedrock:${where.region}:${where.account}:inference-profile/${modelId}`,
      `arn:${where.partition}:bedrock:*::foundation-model/${profile[2]}`,
    ];
  }
  return [`arn:${where.partition}:bedrock:${where.region}::foundation-model/${modelId}`];
}
