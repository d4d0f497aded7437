import { access, readFile } from 'node:fs/promises';
import { basename, extname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type ConfigFile,
  type ConfigLayer,
  envLayers,
  type ResolvedConfig,
  resolveConfig,
  validateConfigFile,
} from '../config.ts';
import { ConfigError } from '../errors.ts';

/** Looked for in the working directory, in this order; two of them at once is an error. */
export const CONFIG_FILE_NAMES = ['docbatch.config.json', 'docbatch.config.ts'] as const;

export interface ConfigOptions {
  /** `--config FILE`: this file and no other (it must exist). */
  config?: string;
  /** `--model ID`. */
  model?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

export interface LoadedConfig extends ResolvedConfig {
  /** The configuration file used (absolute), if any. */
  file?: string;
  /** Where docbatch looked when no file was given and none was found. */
  searched: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** A JSON parse error with line and column, which JSON.parse only gives as an offset. */
function jsonProblem(text: string, error: Error): string {
  const offset = /position (\d+)/.exec(error.message)?.[1];
  if (offset === undefined) return error.message;
  const before = text.slice(0, Number(offset));
  const line = before.split('\n').length;
  const column = Number(offset) - before.lastIndexOf('\n');
  return `${error.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${column}`;
}

/**
 * Reads a configuration file: JSON, or a TypeScript module whose default export is the same object
 * (Node strips the types, so a `.ts` file may import the schema's types or compute values).
 */
export async function readConfigFile(path: string, display = path): Promise<ConfigFile> {
  let value: unknown;
  if (extname(path) === '.ts' || extname(path) === '.js' || extname(path) === '.mjs') {
    try {
      value = ((await import(pathToFileURL(path).href)) as { default?: unknown }).default;
    } catch (error) {
      throw new ConfigError(
        `cannot load the configuration module "${display}": ${(error as Error).message}. Fix: make it \`export default { … }\` with the keys of docbatch.config.json.`,
        { cause: error },
      );
    }
    if (value === undefined)
      throw new ConfigError(
        `the configuration module "${display}" has no default export. Fix: add \`export default { … }\`.`,
      );
  } else {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `cannot read the configuration file "${display}": ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}. Fix: check the path, or leave --config out to use ./docbatch.config.json when there is one.`,
        { cause: error },
      );
    }
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(
        `the configuration file "${display}" is not valid JSON: ${jsonProblem(text, error as Error)}.`,
        { cause: error },
      );
    }
  }
  return validateConfigFile(value, display);
}

/** The configuration file to use: `--config`, else the one in the working directory, else none. */
export async function findConfigFile(
  options: Pick<ConfigOptions, 'config' | 'cwd'>,
): Promise<{ file?: string; searched: string[] }> {
  const cwd = options.cwd ?? process.cwd();
  if (options.config) {
    const file = resolve(cwd, options.config);
    if (!(await exists(file)))
      throw new ConfigError(
        `cannot read the configuration file "${options.config}": no such file. Fix: check the path, or leave --config out to use ./docbatch.config.json when there is one.`,
      );
    return { file, searched: [file] };
  }
  const searched = CONFIG_FILE_NAMES.map((n) => resolve(cwd, n));
  const found: string[] = [];
  for (const path of searched) if (await exists(path)) found.push(path);
  if (found.length > 1)
    throw new ConfigError(
      `both ${found.map((f) => basename(f)).join(' and ')} are in ${cwd}: docbatch would not know which one to use. Fix: keep one, or choose with --config FILE.`,
    );
  return found[0] ? { file: found[0], searched } : { searched };
}

/**
 * The effective configuration for a command: defaults < configuration file < environment
 * (DOCBATCH_CONFIG, DOCBATCH_MODEL_ID) < flags, with the origin of every value.
 */
export async function loadConfig(options: ConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const { file, searched } = await findConfigFile(options);
  const layers: ConfigLayer[] = [];
  if (file) {
    const display = relative(cwd, file) || file;
    const shown = display.startsWith('..') ? file : display;
    layers.push({ source: 'file', name: shown, values: await readConfigFile(file, shown) });
  }
  layers.push(...envLayers(options.env ?? process.env));
  if (options.model !== undefined) {
    if (!options.model.trim())
      throw new ConfigError(
        '--model is empty. Fix: give a Bedrock model id such as anthropic.claude-haiku-4-5-20251001-v1:0, or leave it out.',
      );
    layers.push({ source: 'flag', name: '--model', values: { model: { id: options.model } } });
  }
  return { ...resolveConfig(layers), ...(file ? { file } : {}), searched };
}
