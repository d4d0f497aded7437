import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findConfigFile, loadConfig } from '../../../src/cli/config-file.ts';
import { EXIT, main } from '../../../src/cli/main.ts';
import { SAMPLES } from '../../integration/helpers.ts';

let dir: string;
let out: string;
let err: string;
const io = {
  out: (t: string) => {
    out += t;
  },
  err: (t: string) => {
    err += t;
  },
};
const cli = (...args: string[]) => main(['node', 'docbatch', ...args], io);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docbatch-config-'));
  out = '';
  err = '';
  process.exitCode = undefined;
});

afterEach(async () => {
  process.exitCode = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

describe('Function: findConfigFile', () => {
  it('uses docbatch.config.json in the working directory, and nothing when there is none', async () => {
    expect((await findConfigFile({ cwd: dir })).file).toBeUndefined();
    const path = await writeConfig('docbatch.config.json', {});
    expect((await findConfigFile({ cwd: dir })).file).toBe(path);
  });

  it('refuses two configuration files at once, and a --config path that does not exist', async () => {
    await writeConfig('docbatch.config.json', {});
    await writeConfig('docbatch.config.ts', 'export default {};');
    await expect(findConfigFile({ cwd: dir })).rejects.toThrow(
      /both docbatch\.config\.json and docbatch\.config\.ts.*Fix/,
    );
    await expect(findConfigFile({ cwd: dir, config: 'nope.json' })).rejects.toThrow(
      /cannot read the configuration file "nope\.json": no such file\. Fix/,
    );
  });

  it('loads a TypeScript configuration module through the same validation', async () => {
    await writeConfig('docbatch.config.ts', 'export default { chunk: { maxTokens: 1500 } as const };');
    const loaded = await loadConfig({ cwd: dir, env: {} });
    expect(loaded.config.chunk.maxTokens).toBe(1500);
    expect(loaded.origins['chunk.maxTokens']).toEqual({ source: 'file', detail: 'docbatch.config.ts' });
  });

  it('gives the line and column of a JSON syntax error', async () => {
    await writeConfig('docbatch.config.json', '{\n  "chunk": { "maxTokens": 100, }\n}');
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(/not valid JSON: .*line 2, column/);
  });

  it('orders the layers: flag > env > file > default', async () => {
    await writeConfig('docbatch.config.json', { model: { id: 'anthropic.claude-sonnet-4-5-20250929-v1:0' } });
    const env = { DOCBATCH_MODEL_ID: 'anthropic.claude-haiku-4-5-20251001-v1:0' };
    const fromEnv = await loadConfig({ cwd: dir, env });
    expect(fromEnv.origins['model.id']).toEqual({ source: 'env', detail: 'DOCBATCH_MODEL_ID' });
    const fromFlag = await loadConfig({ cwd: dir, env, model: 'docbatch.rules-v1' });
    expect(fromFlag.config.model.id).toBe('docbatch.rules-v1');
    expect(fromFlag.origins['model.id']).toEqual({ source: 'flag', detail: '--model' });
  });
});

describe('CLI: docbatch config', () => {
  it('prints every value with where it came from', async () => {
    const path = await writeConfig('nightly.json', {
      belowMinimum: 'defer',
      quotas: { 'anthropic\\.claude': { maxConcurrentJobs: 5 } },
    });
    const code = await cli('config', '--config', path, '--model', 'anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/^model\.id\s+anthropic\.claude-haiku-4-5-20251001-v1:0\s+flag --model$/m);
    expect(out).toMatch(/^belowMinimum\s+defer\s+file .*nightly\.json$/m);
    expect(out).toMatch(
      /^quotas\.maxConcurrentJobs\s+5\s+file .*nightly\.json quotas\["anthropic\\\\\.claude"\]$/m,
    );
    expect(out).toMatch(/^chunk\.maxTokens\s+6000\s+default$/m);
  });

  it('prints the configuration and origins as JSON', async () => {
    const path = await writeConfig('c.json', { chunk: { maxTokens: 3000 } });
    expect(await cli('config', '--config', path, '--json')).toBe(EXIT.ok);
    const parsed = JSON.parse(out) as {
      file: string;
      config: { chunk: { maxTokens: number } };
      origins: Record<string, { source: string }>;
    };
    expect(parsed.file).toBe(path);
    expect(parsed.config.chunk.maxTokens).toBe(3000);
    expect(parsed.origins['chunk.maxTokens']?.source).toBe('file');
  });

  it('returns 1 with the offending key, the allowed ones and the fix for a typo', async () => {
    const path = await writeConfig('typo.json', { ocr: { textlayer: 'never' } });
    expect(await cli('config', '--config', path)).toBe(EXIT.cannotStart);
    expect(err).toContain(
      'unknown key "ocr.textlayer"; allowed in ocr: textLayer, imageTextMinCoverage, textractFeatures, localEngine',
    );
    expect(err).toContain('Fix: rename it to "textLayer"');
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('stops `docbatch run` before any work when the configuration is invalid', async () => {
    const path = await writeConfig('bad.json', { belowMinimum: 'later' });
    const code = await cli('run', SAMPLES, '--config', path, '--workdir', join(dir, 'w'), '--quiet');
    expect(code).toBe(EXIT.cannotStart);
    expect(err).toContain('belowMinimum must be one of "on-demand", "defer" (received "later")');
  });

  it('shows examples and exit codes in --help', async () => {
    await cli('config', '--help');
    expect(out).toMatch(/Examples:\n\s+\$ docbatch config/);
    expect(out).toMatch(/Exit codes:/);
  });
});
