import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import {
  allStates,
  loadDefinition,
  type MachineName,
  placeholdersIn,
  readDefinitionText,
} from '../../src/cli/local-engine.ts';
import { type TaskName, tasks } from '../../src/tasks/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const MACHINES: MachineName[] = ['ingest', 'batch'];

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...(await sourceFiles(rel)));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

function importsOf(source: string): string[] {
  return [
    ...source.matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(['"]([^'"]+)['"]\)/g,
    ),
  ].map((m) => m[1] ?? m[2] ?? '');
}

/** Where an import lands, as a path from the repo root (packages stay as they are). */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return relative(ROOT, join(ROOT, file, '..', spec));
}

describe('Architecture: import direction', () => {
  it('keeps src/core pure: only core, errors and pure libraries; no SDK, fs or env', async () => {
    const allowedPackages = new Set(['jsonrepair', 'ajv/dist/2020.js', 'ajv-formats', 'node:crypto']);
    const offences: string[] = [];
    for (const file of await sourceFiles('src/core')) {
      const text = await readFile(join(ROOT, file), 'utf8');
      if (/process\.env/.test(text)) offences.push(`${file}: reads process.env`);
      for (const spec of importsOf(text)) {
        const t = target(file, spec);
        const ok = spec.startsWith('.')
          ? t.startsWith('src/core/') || t === 'src/errors.ts' || t === 'src/config.ts'
          : allowedPackages.has(spec);
        if (!ok) offences.push(`${file} imports ${spec}`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('keeps tasks on ports: no adapter, SDK or CLI imports', async () => {
    const offences: string[] = [];
    for (const file of await sourceFiles('src/tasks')) {
      for (const spec of importsOf(await readFile(join(ROOT, file), 'utf8'))) {
        const t = target(file, spec);
        if (
          t.startsWith('src/adapters/') ||
          t.startsWith('src/cli/') ||
          spec.startsWith('@aws-sdk/') ||
          spec.startsWith('node:fs')
        ) {
          offences.push(`${file} imports ${spec}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });

  it('keeps the SDK inside adapters', async () => {
    const offences: string[] = [];
    for (const dir of ['src/core', 'src/tasks', 'src/cli']) {
      for (const file of await sourceFiles(dir)) {
        if (importsOf(await readFile(join(ROOT, file), 'utf8')).some((s) => s.startsWith('@aws-sdk/')))
          offences.push(file);
      }
    }
    expect(offences).toEqual([]);
  });
});

describe.each(MACHINES)('State machine: %s', (name) => {
  it('is valid Amazon States Language (asl-validator, ARNs checked)', async () => {
    const definition = await loadDefinition(name);
    const { isValid, errorsText } = aslValidator(definition as never);
    expect(isValid, errorsText('\n')).toBe(true);
  });

  it('stays in the subset both engines run: JSONPath, inline Map, no Distributed Map, no JSONata', async () => {
    const text = await readDefinitionText(name);
    expect(text).not.toMatch(
      /"QueryLanguage"\s*:\s*"JSONata"|"ItemReader"|"ResultWriter"|"DISTRIBUTED"|"HeartbeatSeconds"/,
    );
  });

  it('has Retry and Catch on every Task state', async () => {
    const states = allStates(await loadDefinition(name)).filter((s) => s.type === 'Task');
    expect(states.length).toBeGreaterThan(0);
    const missing = states.filter((s) => !s.hasRetry || !s.hasCatch).map((s) => s.name);
    expect(missing).toEqual([]);
  });

  it('names a registered task for every function placeholder', async () => {
    const placeholders = placeholdersIn(await readDefinitionText(name));
    const functions = placeholders
      .filter((p) => p.endsWith('FunctionArn'))
      .map((p) => p.slice(0, -'FunctionArn'.length));
    expect(functions.length).toBeGreaterThan(0);
    expect(functions.filter((f) => !(f in tasks))).toEqual([]);
    expect(placeholders.filter((p) => !p.endsWith('FunctionArn'))).toEqual(
      name === 'batch' ? ['BedrockBatchRoleArn'] : [],
    );
  });
});

describe('Task registry', () => {
  it('has no task that no state machine uses', async () => {
    const used = new Set<string>();
    for (const name of MACHINES) for (const p of placeholdersIn(await readDefinitionText(name))) used.add(p);
    const unused = (Object.keys(tasks) as TaskName[]).filter((t) => !used.has(`${t}FunctionArn`));
    expect(unused).toEqual([]);
  });
});

describe('Configuration and state machine agree', () => {
  it('measures the stuck-job deadline in polls of the batch machine’s own Wait', async () => {
    const { defaultConfig } = await import('../../src/config.ts');
    const wait = JSON.parse(await readDefinitionText('batch')).States.RunJobs.ItemProcessor.States.WaitForJob;
    expect(wait.Seconds).toBe(defaultConfig().batch.pollSeconds);
  });
});
