import { relative } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_SCHEMA_PATH, configEntries, type Origin } from '../../config.ts';
import { CONFIG_FILE_NAMES, type LoadedConfig, loadConfig } from '../config-file.ts';
import { EXIT, type Io } from '../io.ts';

function show(path: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (path.startsWith('model.families[') && value && typeof value === 'object') {
    const row = value as { match: string; family: string };
    return `/${row.match}/ → ${row.family}`;
  }
  if (path.startsWith('prices.models[') && value && typeof value === 'object') {
    const p = value as {
      match: string;
      name: string;
      inputPerMillion: number;
      outputPerMillion: number;
      batchDiscount: number;
    };
    return `${p.name} /${p.match}/: $${p.inputPerMillion} in, $${p.outputPerMillion} out per 1M tokens, batch −${Math.round(p.batchDiscount * 100)}%`;
  }
  return JSON.stringify(value);
}

function showOrigin(o: Origin | undefined): string {
  if (!o) return 'default';
  if (o.source === 'default') return o.detail === 'built-in' ? 'default' : `default (${o.detail})`;
  return `${o.source} ${o.detail}`;
}

function printConfig(loaded: LoadedConfig, io: Io): void {
  const cwd = process.cwd();
  io.out(
    loaded.file
      ? `configuration file: ${relative(cwd, loaded.file) || loaded.file}\n`
      : `configuration file: none (looked for ${loaded.searched.map((f) => relative(cwd, f) || f).join(', ')}); defaults apply\n`,
  );
  io.out('precedence: flag > env (DOCBATCH_MODEL_ID, DOCBATCH_CONFIG) > file > default\n\n');
  const rows = configEntries(loaded.config).map(([path, value]) => [
    path,
    show(path, value),
    showOrigin(loaded.origins[path]),
  ]);
  const keyWidth = Math.max(...rows.map((r) => r[0]?.length ?? 0));
  // A few long rows (price rows) may overflow rather than push every origin far right.
  const valueWidth = Math.max(...rows.map((r) => r[1]?.length ?? 0).filter((w) => w <= 44));
  for (const [path = '', value = '', origin = ''] of rows)
    io.out(`${path.padEnd(keyWidth)}  ${value.padEnd(valueWidth)}  ${origin}\n`.replace(/ +\n$/, '\n'));
}

/** `docbatch config`: the effective configuration and where each value came from. */
export function registerConfig(program: Command, io: Io): void {
  program
    .command('config')
    .description(
      'Print the effective configuration and where each value came from (default, file, env, flag).',
    )
    .option('--config <file>', `configuration file (default: ./${CONFIG_FILE_NAMES[0]} when present)`)
    .option('--model <id>', 'model id, to see the quotas and prices it gets')
    .option('--json', 'print {file, config, origins} as JSON')
    .addHelpText(
      'after',
      `
The file is ${CONFIG_FILE_NAMES.join(' or ')} in the working directory (or --config FILE), checked
against the JSON Schema ${CONFIG_SCHEMA_PATH}: an unknown key or a wrong value stops every command
with the key, the value received, what is allowed and the fix. Point "$schema" at that file for
completion in editors. Example docbatch.config.json:

  {
    "$schema": "./${CONFIG_SCHEMA_PATH}",
    "model": { "id": "anthropic.claude-haiku-4-5-20251001-v1:0" },
    "quotas": { "anthropic\\\\.claude": { "maxConcurrentJobs": 5 } },
    "belowMinimum": "defer",
    "chunk": { "maxTokens": 4000 },
    "ocr": { "textLayer": "prefer", "textractFeatures": { "invoice": ["TABLES"] } },
    "prices": { "models": { "anthropic\\\\.claude-haiku-4-5": { "inputPerMillion": 1, "outputPerMillion": 5 } } },
    "schedule": { "expression": "cron(0 2 * * ? *)", "timezone": "Europe/Berlin" }
  }

Examples:
  $ docbatch config
  $ docbatch config --config ./nightly.config.json --model amazon.nova-lite-v1:0
  $ docbatch config --json | jq '.origins["quotas.minRecordsPerJob"]'

Exit codes:
  0  the configuration is valid and was printed
  1  it is not (the message names the key, the value, what is allowed and the fix)`,
    )
    .action(async (opts: { config?: string; model?: string; json?: boolean }) => {
      const loaded = await loadConfig({
        ...(opts.config !== undefined ? { config: opts.config } : {}),
        ...(opts.model !== undefined ? { model: opts.model } : {}),
      });
      if (opts.json) {
        io.out(
          `${JSON.stringify({ file: loaded.file ?? null, searched: loaded.searched, config: loaded.config, origins: loaded.origins }, null, 2)}\n`,
        );
      } else {
        printConfig(loaded, io);
      }
      process.exitCode = EXIT.ok;
    });
}
