import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectInputs } from '../../src/cli/pipeline.ts';
import { docIdFromSha256 } from '../../src/core/ids.ts';
import { EXPECTED, listFiles, makeEnv, ROOT, readJsonFile, SAMPLES, type TestEnv } from './helpers.ts';

const BIN = join(ROOT, 'bin/docbatch.js');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stderr: string;
}

/** One real `docbatch run` process, SIGKILLed after `killAfterMs` when given. */
function runCli(workdir: string, killAfterMs?: number): Promise<Exit> {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, 'run', SAMPLES, '--workdir', workdir, '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.resume();
  child.stdout.on('data', (chunk: Buffer) => {
    if (killAfterMs === undefined) stderr += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - started, stderr });
    }),
  );
}

/** Deterministic "random" kill points spread over a run, so failures reproduce. */
function killPoints(count: number, spanMs: number): number[] {
  return Array.from({ length: count }, (_, i) => {
    const jitter = createHash('sha256').update(`kill-${i}`).digest().readUInt16BE(0) / 65535;
    return Math.round(150 + ((i + jitter) / count) * spanMs);
  });
}

let workdir: string;
let t: TestEnv;

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'docbatch-crash-'));
});

afterAll(async () => {
  await t?.dispose();
  await rm(workdir, { recursive: true, force: true });
});

describe('Crash: SIGKILL at random points, then run again', () => {
  it('ends with every document accounted for exactly once', async () => {
    const clean = await runCli(join(workdir, 'timing'));
    expect(clean.code).toBe(2);
    const kills = killPoints(8, clean.ms);
    const exits: Exit[] = [];
    for (const ms of kills) exits.push(await runCli(join(workdir, 'w'), ms));
    const killed = exits.filter((e) => e.signal === 'SIGKILL').length;
    console.log(
      `crash: a clean run takes ${clean.ms} ms; killed ${killed} of ${kills.length} runs at ${kills.join(', ')} ms`,
    );
    expect(killed).toBeGreaterThanOrEqual(4);

    const final = await runCli(join(workdir, 'w'));
    expect(final.code, final.stderr).toBe(2);

    const bucket = join(workdir, 'w/bucket');
    const inputs = await collectInputs([SAMPLES]);
    const docIds = await Promise.all(
      inputs.map(async (i) =>
        docIdFromSha256(
          createHash('sha256')
            .update(await readFile(i.path))
            .digest('hex'),
        ),
      ),
    );
    const results = (await listFiles(join(bucket, 'results'))).map((f) =>
      f.replace(/^.*\//, '').replace(/\.json$/, ''),
    );
    const rejected = (await listFiles(join(bucket, 'rejected'))).map((f) => f.replace(/\.json$/, ''));
    expect([...results, ...rejected].sort()).toEqual([...docIds].sort());
    expect(results.filter((id) => rejected.includes(id))).toEqual([]);

    const expectedRejected = await readJsonFile<string[]>(join(EXPECTED, 'rejected.json'));
    expect(rejected).toHaveLength(expectedRejected.length);
    t = await makeEnv();
    for (const file of await listFiles(join(bucket, 'results'))) {
      const result = await readJsonFile<{ type: string; record: Record<string, unknown> }>(
        join(bucket, 'results', file),
      );
      expect(t.env.ctx.schemas.validate(result.type, result.record)).toEqual([]);
    }
    // Nothing is left half-done: no staged text, no claim, every planned run reported.
    expect(await listFiles(join(bucket, 'staged'))).toEqual([]);
    expect(await listFiles(join(bucket, 'claims'))).toEqual([]);
    const planned = (await listFiles(join(bucket, 'runs')))
      .filter((f) => /^[^/]+\/plan\.json$/.test(f))
      .map((f) => f.split('/')[0]);
    const reported = (await listFiles(join(bucket, 'reports')))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    expect(planned.filter((id) => !reported.includes(id ?? ''))).toEqual([]);
  });
});
