import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineEvent, ExecutionOutcome } from '../../src/cli/local-engine.ts';
import {
  createLocalEnvironment,
  type LocalEnvironment,
  type LocalEnvironmentOptions,
} from '../../src/cli/local-env.ts';
import { type Config, defaultConfig, mergeConfig } from '../../src/config.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const SAMPLES = join(ROOT, 'samples/documents');
export const EXPECTED = join(ROOT, 'samples/expected');

export interface TestEnv {
  env: LocalEnvironment;
  workdir: string;
  dispose(): Promise<void>;
}

/** A local environment in a fresh temp work directory. */
export async function makeEnv(
  options: Partial<Omit<LocalEnvironmentOptions, 'config'>> & { config?: Partial<Config> } = {},
): Promise<TestEnv> {
  const workdir = await mkdtemp(join(tmpdir(), 'docbatch-it-'));
  const { config: overrides, ...rest } = options;
  const config = overrides ? mergeConfig(defaultConfig(), overrides) : defaultConfig();
  const env = await createLocalEnvironment({ workdir, ...rest, config });
  return {
    env,
    workdir,
    dispose: async () => {
      await env.close();
      await rm(workdir, { recursive: true, force: true });
    },
  };
}

/** Names of the states an execution entered, in order (Map iterations included). */
export function statesEntered(outcome: ExecutionOutcome): string[] {
  return outcome.events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name ?? '');
}

export function eventsNamed(outcome: ExecutionOutcome, type: string, state?: string): EngineEvent[] {
  return outcome.events.filter((e) => e.type === type && (state === undefined || e.state?.name === state));
}

export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(d, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  await walk(dir, '');
  return out.sort();
}

export async function readJsonFile<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** What a CLI command printed: pass `io` to `main`, read `out` and `err`, `reset()` between calls. */
export interface CapturedIo {
  io: { out: (s: string) => void; err: (s: string) => void };
  out: string;
  err: string;
  reset: () => void;
}

export function captureIo(): CapturedIo {
  const cap: CapturedIo = {
    io: {
      out: (s) => {
        cap.out += s;
      },
      err: (s) => {
        cap.err += s;
      },
    },
    out: '',
    err: '',
    reset: () => {
      cap.out = '';
      cap.err = '';
    },
  };
  return cap;
}
