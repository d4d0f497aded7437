import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import Table from 'cli-table3';
import { type Command, InvalidArgumentError } from 'commander';
import { FsStore } from '../../adapters/local/fs-store.ts';
import { BUILTIN_SCHEMA_DIR, loadSchemaDirs } from '../../adapters/local/schema-files.ts';
import {
  DEFAULT_EVAL_OPTIONS,
  type EvalOptions,
  type EvalReport,
  type ExpectedRecord,
  evaluate,
  expectedRecordOf,
  type Mapping,
  type Outcome,
  parseMapping,
} from '../../core/eval.ts';
import { keys } from '../../core/keys.ts';
import type { RejectedRecord, ResultRecord } from '../../core/outcomes.ts';
import { ConfigError } from '../../errors.ts';
import type { ObjectStore } from '../../ports.ts';
import { EXIT, type Io } from '../io.ts';

/** Ground truth from a directory (nested folders too): every `*.json` that holds one record. */
export async function readExpectedDir(
  dir: string,
): Promise<{ records: ExpectedRecord[]; skipped: string[] }> {
  const root = resolve(dir);
  const isDir = await stat(root).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new ConfigError(`--expected "${dir}" is not a directory`);
  const records: ExpectedRecord[] = [];
  const skipped: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && e.name.endsWith('.json')) {
        const file = relative(root, full).split(sep).join('/');
        let value: unknown;
        try {
          value = JSON.parse(await readFile(full, 'utf8'));
        } catch (error) {
          skipped.push(`${file}: not valid JSON (${(error as Error).message})`);
          continue;
        }
        const record = expectedRecordOf(value);
        if (!record) {
          skipped.push(`${file}: not a record (an object, or a list holding one object)`);
          continue;
        }
        const parts = file.split('/');
        records.push({
          stem: e.name.slice(0, -'.json'.length),
          file,
          ...(parts.length > 1 ? { folder: parts[parts.length - 2] ?? '' } : {}),
          record,
        });
      }
    }
  };
  await walk(root);
  return { records, skipped };
}

/** Every outcome in the bucket: `results/<type>/*.json` and `rejected/*.json`. */
export async function readOutcomes(store: ObjectStore): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for await (const o of store.list(keys.resultsPrefix)) {
    if (!o.key.endsWith('.json')) continue;
    const r = JSON.parse(await store.getText(o.key)) as ResultRecord;
    out.push({
      docId: r.docId,
      type: r.type,
      status: 'result',
      sources: r.sources?.length ? r.sources : [r.source.key],
      record: r.record,
    });
  }
  for await (const o of store.list('rejected/')) {
    if (!o.key.endsWith('.json')) continue;
    const r = JSON.parse(await store.getText(o.key)) as RejectedRecord;
    out.push({
      docId: r.docId,
      type: r.type,
      status: 'rejected',
      sources: r.sources?.length ? r.sources : [r.source.key],
      reasons: r.reasons,
    });
  }
  return out;
}

async function readMapping(file: string): Promise<Mapping> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the mapping file "${file}": ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`the mapping file "${file}" is not valid JSON: ${(error as Error).message}`);
  }
  return parseMapping(value, file);
}

const ratio = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(3));

function printEval(r: EvalReport, expectedDir: string, skipped: string[], showMisses: boolean, io: Io): void {
  const d = r.documents;
  io.out(
    `${d.expected} expected records in ${expectedDir}: ${d.results} with a result, ${d.rejected} rejected, ${d.missing} without outcome` +
      `${d.ambiguous ? `, ${d.ambiguous} ambiguous` : ''}${d.unexpected ? ` (${d.unexpected} other outcomes in the work directory not judged)` : ''}\n`,
  );
  const table = new Table({
    head: ['field', 'kind', 'expected', 'predicted', 'correct', 'precision', 'recall', 'F1', 'mean F1'],
    style: { head: [], border: [] },
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
  for (const f of r.fields) {
    const labels = f.labels.filter((l) => l !== f.field);
    table.push([
      `${f.field}${labels.length ? ` ← ${labels.join(', ')}` : ''}`,
      f.kind,
      f.expected,
      f.predicted,
      f.correct,
      ratio(f.precision),
      ratio(f.recall),
      ratio(f.f1),
      f.meanScore === undefined ? '' : ratio(f.meanScore),
    ]);
  }
  const o = r.overall;
  table.push([
    'all fields',
    '',
    o.expected,
    o.predicted,
    o.correct,
    ratio(o.precision),
    ratio(o.recall),
    ratio(o.f1),
    '',
  ]);
  io.out(`${table.toString()}\n`);
  io.out(
    `accuracy ${ratio(o.accuracy)} (${o.correct} of ${o.expected} expected fields correct; a rejected or missing document misses all its fields)\n`,
  );
  io.out(
    `normalizers: text and ids ignore case, spacing and punctuation; dates compared as ISO 8601; amounts within ${r.options.tolerance}; names and addresses by token F1 ≥ ${r.options.threshold}\n`,
  );
  if (r.notCompared.length) io.out(`not compared (no mapping): ${r.notCompared.join(', ')}\n`);
  for (const s of skipped) io.out(`skipped ${s}\n`);
  if (showMisses) {
    const misses = r.perDocument.filter((doc) => doc.verdict !== 'result' || doc.fields.some((f) => !f.hit));
    io.out(misses.length ? '\nmisses:\n' : '\nno misses\n');
    for (const doc of misses) {
      io.out(`  ${doc.file}  ${doc.verdict}${doc.note ? `: ${doc.note}` : ''}\n`);
      if (doc.verdict !== 'result') continue;
      for (const f of doc.fields.filter((x) => !x.hit)) {
        const score = f.kind === 'tokens' || f.kind === 'items' ? ` (F1 ${f.score.toFixed(2)})` : '';
        io.out(
          `    ${f.field}: expected ${JSON.stringify(f.expected)}, got ${f.predicted === undefined ? 'nothing' : JSON.stringify(f.predicted)}${score}\n`,
        );
      }
    }
  }
}

function nonNegative(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
    return n;
  };
}

/** `docbatch eval`: the work directory's records against ground truth, field by field. */
export function registerEval(program: Command, io: Io): void {
  program
    .command('eval')
    .description(
      'Compare extracted records with expected records field by field: precision, recall, F1, accuracy.',
    )
    .requiredOption('--expected <dir>', 'directory of expected records, <stem>.json (nested folders allowed)')
    .option(
      '--workdir <dir>',
      'work directory of `docbatch run`; the local bucket is <dir>/bucket',
      '.docbatch',
    )
    .option('--mapping <file>', 'JSON file: expected label → record field (and comparison kind)')
    .option(
      '--schemas <dir>',
      'directory of <type>.schema.json files (field kinds are inferred from schemas)',
    )
    .option(
      '--tolerance <amount>',
      `largest difference between amounts still counted equal (default ${DEFAULT_EVAL_OPTIONS.tolerance})`,
      nonNegative('--tolerance'),
    )
    .option(
      '--threshold <f1>',
      `token F1 from which a name or address counts as correct (default ${DEFAULT_EVAL_OPTIONS.threshold})`,
      nonNegative('--threshold'),
    )
    .option('--misses', 'list every document and field that was not correct, with both values')
    .option('--json', 'print the evaluation as JSON (every document and field judgement included)')
    .addHelpText(
      'after',
      `
Matching: the expected file <stem>.json describes the document whose file name without its extension is
<stem> (expected/001.json ↔ incoming/receipt/001.jpg), under any key the same bytes were uploaded under.
When several documents share a stem, one in a folder named like the expected file's folder wins
(expected/invoice/a.json ↔ the invoice a.pdf). Every result and rejection in the work directory is read.

An expected file holds a record object, or a list with one object (invoice2data's ground truth). Files
holding anything else (a list of names) are skipped and listed.

Comparison per field: text and ids ignore case, spacing and punctuation; dates are compared as ISO
8601 (printed forms such as 25/12/2018 are read day first); amounts are equal within --tolerance;
names and addresses are compared by token F1 (a hit from --threshold on; the mean F1 is reported too);
line items match item by item. The kind comes from the mapping, else from the type's schema.
Per field: precision = correct / predicted, recall = correct / expected, F1. Accuracy = correct /
expected fields over all documents; a rejected or missing document misses every field it should have.
A label absent from an expected file is not judged; a label whose value is null says "none", so a
predicted value for it is a false positive.

Mapping file: {"company": "merchant_name", "total": {"field": "total", "kind": "amount"},
"lines": {"field": "line_items", "kind": "items", "items": {"name": "description"}}}; kinds: text, id,
tokens, date, amount, items; optional per field "threshold", "tolerance". Keys starting with $ are notes.
With a mapping, labels it does not list are not compared (and listed).

Examples:
  $ docbatch run samples/documents --workdir /tmp/s && docbatch eval --expected samples/expected --workdir /tmp/s
  $ docbatch run ../shared/corpora/sroie/img --type receipt --workdir /tmp/sroie
  $ docbatch eval --expected ../shared/corpora/sroie/key --mapping eval/sroie.mapping.json --workdir /tmp/sroie --misses
  $ docbatch eval --expected samples/expected --json | jq .overall

Exit codes:
  0  the evaluation was printed (whatever the scores: eval is a report, not a gate)
  1  bad arguments: no such directory, no expected records, an invalid mapping file`,
    )
    .action(
      async (opts: {
        expected: string;
        workdir: string;
        mapping?: string;
        schemas?: string;
        tolerance?: number;
        threshold?: number;
        misses?: boolean;
        json?: boolean;
      }) => {
        const mapping = opts.mapping ? await readMapping(opts.mapping) : undefined;
        const { records, skipped } = await readExpectedDir(opts.expected);
        if (records.length === 0)
          throw new ConfigError(
            `no expected records in "${opts.expected}" (looked for *.json files holding an object or a list with one object)`,
          );
        const root = join(resolve(opts.workdir), 'bucket');
        const isDir = await stat(root).then(
          (s) => s.isDirectory(),
          () => false,
        );
        if (!isDir)
          throw new ConfigError(
            `no work directory at "${opts.workdir}" (looked for ${root}). Fix: run \`docbatch run <files> --workdir DIR\` first and pass the same --workdir.`,
          );
        const schemas = await loadSchemaDirs([
          BUILTIN_SCHEMA_DIR,
          ...(opts.schemas ? [resolve(opts.schemas)] : []),
        ]);
        const options: Partial<EvalOptions> = {
          ...(opts.tolerance !== undefined ? { tolerance: opts.tolerance } : {}),
          ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
        };
        const report = evaluate(records, await readOutcomes(new FsStore(root)), {
          ...(mapping ? { mapping } : {}),
          schemaFor: (type) => schemas[type],
          options,
        });
        if (opts.json)
          io.out(`${JSON.stringify({ expectedDir: opts.expected, skipped, ...report }, null, 2)}\n`);
        else printEval(report, opts.expected, skipped, opts.misses === true, io);
        process.exitCode = EXIT.ok;
      },
    );
}
