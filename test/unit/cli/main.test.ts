import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'docbatch-cli-'));
  out = '';
  err = '';
  process.exitCode = undefined;
});

afterEach(async () => {
  process.exitCode = undefined;
  await rm(dir, { recursive: true, force: true });
});

const run = (...args: string[]) => main(['node', 'docbatch', ...args], io);

describe('CLI: docbatch run', () => {
  it('returns 1 with one clear line when a path does not exist', async () => {
    const code = await run('run', join(dir, 'nope'), '--workdir', dir);
    expect(code).toBe(EXIT.cannotStart);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/cannot read ".*nope": no such file or directory/);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('returns 1 for an unknown option and points to --help', async () => {
    expect(await run('run', SAMPLES, '--colour')).toBe(EXIT.cannotStart);
    expect(err).toMatch(/unknown option '--colour'/);
  });

  it('returns 1 when a --schemas directory holds a schema that is not JSON', async () => {
    const schemas = join(dir, 'schemas');
    await rm(schemas, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(schemas));
    await writeFile(join(schemas, 'memo.schema.json'), '{ not json');
    expect(await run('run', SAMPLES, '--schemas', schemas, '--workdir', dir)).toBe(EXIT.cannotStart);
    expect(err).toMatch(/memo\.schema\.json" is not valid JSON/);
  });

  it('returns 2 and prints the table and summary when a document is rejected', async () => {
    const code = await run('run', join(SAMPLES, 'receipt'), '--workdir', join(dir, 'w'), '--quiet');
    expect(code).toBe(EXIT.rejected);
    expect(out).toMatch(/corner-cafe-receipt\.png\s*│ result/);
    expect(out).toMatch(/not-a-receipt\.pdf\s*│ rejected/);
    expect(out).toMatch(/UNSUPPORTED_MEDIA_TYPE/);
    expect(out).toMatch(/2 documents, 1 results, 1 rejected/);
  });

  it('returns 0 when every document has a valid record, using a user schema from --schemas', async () => {
    const schemas = join(dir, 'my-schemas');
    await import('node:fs/promises').then((fs) => fs.mkdir(schemas));
    // A user's own type, with no code change: only a schema file.
    await writeFile(
      join(schemas, 'payment.schema.json'),
      JSON.stringify({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        required: ['total'],
        properties: {
          total: { type: 'number', description: 'Total paid', 'x-docbatch': { labels: ['total'] } },
          date: { type: 'string', format: 'date', description: 'Date paid' },
        },
      }),
    );
    const code = await run(
      'run',
      join(SAMPLES, 'receipt/corner-cafe-receipt.png'),
      '--type',
      'payment',
      '--schemas',
      schemas,
      '--workdir',
      join(dir, 'w'),
      '--quiet',
    );
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/results\/payment\//);
  });

  it('documents the exit codes in --help', async () => {
    await run('run', '--help');
    expect(out).toMatch(/Exit codes:/);
    expect(out).toMatch(/3\s+the run did not complete/);
  });
});
