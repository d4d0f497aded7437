import { resolve } from 'node:path';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { MupdfReader } from '../../adapters/documents/mupdf-reader.ts';
import { BUILTIN_SCHEMA_DIR, loadSchemaDirs } from '../../adapters/local/schema-files.ts';
import { formatUsd } from '../../core/pricing.ts';
import { SchemaRegistry } from '../../core/validate.ts';
import { ConfigError } from '../../errors.ts';
import { loadConfig } from '../config-file.ts';
import { type CostLine, type DocumentEstimate, type Estimate, estimateDocuments } from '../estimate.ts';
import { EXIT, type Io } from '../io.ts';
import { collectInputs } from '../pipeline.ts';

const n = (v: number) => v.toLocaleString('en-US');

function tokensCell(d: DocumentEstimate): string {
  const t = d.estimated ? '~' : '';
  return `${n(d.input.prompt)} + ${t}${n(d.input.content)} = ${t}${n(d.input.total)}`;
}

function readFrom(d: DocumentEstimate): string {
  if (d.route === 'text-layer') return 'text layer';
  const features = d.textractFeatures.length ? ` (${d.textractFeatures.join('+')})` : '';
  return d.textLayerPages > 0 && d.textLayerPages < d.pages
    ? `Textract${features}, ${d.textLayerPages}/${d.pages} with text`
    : `Textract${features}`;
}

function costRow(line: CostLine): (string | { colSpan: number; content: string })[] {
  if (line.max.onDemand === 0)
    return [`${line.name}\n${line.model}`, { colSpan: 3, content: '$0: nothing to pay' }];
  return [
    `${line.name}\n${line.model}`,
    `${formatUsd(line.typical.batch)}\n(≤ ${formatUsd(line.max.batch)})`,
    `${formatUsd(line.typical.onDemand)}\n(≤ ${formatUsd(line.max.onDemand)})`,
    `${formatUsd(line.expected)}${line.deferred ? '\ndeferred: below\nthe batch minimum' : line.belowMinimum ? '\non-demand: below\nthe batch minimum' : ''}`,
  ];
}

function printEstimate(e: Estimate, io: Io): void {
  const t = e.totals;
  io.out(
    `Estimate for ${n(t.documents)} document${t.documents === 1 ? '' : 's'} with ${e.modelId} (${e.family} requests); nothing was sent anywhere.\n`,
  );
  const docs = new Table({
    head: [
      'document',
      'pages',
      'text from',
      'chunks',
      'input tokens\nprompt + content = total',
      'output tokens\ntypical (at most)',
    ],
    style: { head: [], border: [] },
    colAligns: ['left', 'right', 'left', 'right', 'right', 'right'],
  });
  for (const d of e.documents) {
    if (d.route === 'rejected') {
      const why = (d.reasons ?? []).map((r) => `${r.code}: ${r.message}`).join('\n');
      docs.push([
        d.source,
        d.pages ? String(d.pages) : '—',
        { colSpan: 4, content: `rejected before any spend\n${why}` },
      ]);
      continue;
    }
    docs.push([
      d.source,
      String(d.pages),
      readFrom(d),
      String(d.chunks),
      tokensCell(d),
      `${d.estimated ? '~' : ''}${n(d.output.typical)} (${n(d.output.max)})`,
    ]);
  }
  io.out(`${docs.toString()}\n`);

  const approx = t.ocrPages > 0 ? '~' : '';
  io.out(
    `\nTotal: ${n(t.records)} record${t.records === 1 ? '' : 's'} from ${n(t.documents - t.rejected)} document(s)` +
      `${t.rejected ? ` (${t.rejected} rejected before any spend)` : ''}; ${n(t.pages)} pages: ${n(t.textLayerPages)} from the text layer, ${n(t.ocrPages)} through Textract\n`,
  );
  io.out(
    `  input   ${approx}${n(t.input.total)} tokens = ${n(t.input.prompt)} prompt overhead (system prompt, tool schema, wrapper) + ${approx}${n(t.input.content)} document content\n`,
  );
  io.out(
    `  output  ~${n(t.output.typical)} tokens typical, at most ${n(t.output.max)} (the max_tokens budgets)\n`,
  );
  const modes = [...new Set(e.jobs.map((j) => j.mode))].join(' + ') || 'nothing to run';
  io.out(
    `  jobs    ${e.jobs.length} (${modes}) under the quotas of ${e.modelId}: at least ${n(e.quotas.minRecordsPerJob)}, at most ${n(e.quotas.maxRecordsPerJob)} records per batch job\n`,
  );

  io.out(
    `\nCost in USD, prices of ${e.pricesDate} (examples: check them; override in docbatch.config.json "prices"):\n`,
  );
  const cost = new Table({
    head: ['', 'batch', 'on-demand', 'expected'],
    style: { head: [], border: [] },
    colAligns: ['left', 'right', 'right', 'right'],
  });
  if (e.cost) cost.push(costRow(e.cost));
  else cost.push([`${e.modelId}`, { colSpan: 3, content: 'no price in the table (see the warning below)' }]);
  const features = [...new Set(e.documents.flatMap((d) => d.textractFeatures))];
  cost.push([
    `Textract, ${n(t.ocrPages)} page${t.ocrPages === 1 ? '' : 's'}\n${features.length ? `analysis: ${features.join(', ')}` : 'text detection'}`,
    { colSpan: 3, content: formatUsd(t.textractUsd) },
  ]);
  if (e.cost) cost.push(['total (typical output)', '', '', formatUsd(e.cost.expected + t.textractUsd)]);
  io.out(`${cost.toString()}\n`);
  if (e.comparison.length > 0) {
    io.out(
      `\n${e.modelId} costs nothing: the same tokens on Bedrock models (typical output, at most in brackets):\n`,
    );
    const cmp = new Table({
      head: ['model', 'batch', 'on-demand', 'expected'],
      style: { head: [], border: [] },
      colAligns: ['left', 'right', 'right', 'right'],
    });
    for (const line of e.comparison) cmp.push(costRow(line));
    io.out(`${cmp.toString()}\n`);
  }
  if (e.warnings.length > 0) io.out(`\n${e.warnings.map((w) => `warning: ${w}`).join('\n')}\n`);
  io.out(
    '\nTokens are counted at ~4 characters per token, as docbatch sizes chunks and as the offline model reports them;\n' +
      'real tokenizers differ by model, and Claude adds its own tool-use system prompt (a few hundred tokens per request).\n',
  );
}

function positiveInt(flag: string) {
  return (value: string): number => {
    const v = Number(value);
    if (!Number.isInteger(v) || v < 1)
      throw new ConfigError(
        `${flag} must be a whole number of tokens above 0 (received "${value}"). Fix: e.g. ${flag} 300`,
      );
    return v;
  };
}

/** `docbatch estimate`: what documents would cost, before anything is spent. */
export function registerEstimate(program: Command, io: Io): void {
  program
    .command('estimate')
    .description(
      'Estimate pages, tokens, batch jobs and cost for documents, without OCR, model calls or uploads.',
    )
    .argument('<paths...>', 'files or directories (a file’s type is its parent folder’s name)')
    .option('--model <id>', 'model id to price (overrides the configuration)')
    .option('--type <type>', 'document type for every input (overrides the folder name)')
    .option('--schemas <dir>', 'directory of <type>.schema.json files that add or override types')
    .option('--config <file>', 'configuration file (default: ./docbatch.config.json when present)')
    .option(
      '--ocr-tokens-per-page <n>',
      'tokens of text per page that needs OCR (default: the text-layer average of the same type, else 400)',
      positiveInt('--ocr-tokens-per-page'),
    )
    .option('--json', 'print the estimate as one JSON object')
    .addHelpText(
      'after',
      `
Reads each document locally (mupdf): pages with a usable text layer are linearized and chunked
exactly as the pipeline would, so their tokens are exact; pages that need Textract are estimated
per page (marked ~). Input tokens are split into prompt overhead (system prompt, the type's schema
as a tool, the wrapper) and document content; output tokens show a typical figure and the
max_tokens upper bound. Costs: batch and on-demand prices from a dated table (docbatch.config.json
"prices" overrides it), Textract per page, and the batch jobs the model's quotas imply, with a
warning when a job falls below the batch minimum and would run on-demand.

Examples:
  $ docbatch estimate samples/documents
  $ docbatch estimate ~/scans --type receipt --model anthropic.claude-haiku-4-5-20251001-v1:0
  $ docbatch estimate invoices/ --ocr-tokens-per-page 250 --json | jq .totals

Exit codes:
  0  the estimate was printed (documents that would be rejected are listed, not an error)
  1  it could not be made (arguments, configuration, unreadable path)`,
    )
    .action(
      async (
        paths: string[],
        opts: {
          model?: string;
          type?: string;
          schemas?: string;
          config?: string;
          ocrTokensPerPage?: number;
          json?: boolean;
        },
      ) => {
        const inputs = await collectInputs(paths, opts.type);
        const { config } = await loadConfig({
          ...(opts.config !== undefined ? { config: opts.config } : {}),
          ...(opts.model !== undefined ? { model: opts.model } : {}),
        });
        const schemas = new SchemaRegistry(
          await loadSchemaDirs([BUILTIN_SCHEMA_DIR, ...(opts.schemas ? [resolve(opts.schemas)] : [])]),
        );
        const estimate = await estimateDocuments(inputs, {
          config,
          schemas,
          reader: new MupdfReader(),
          ...(opts.ocrTokensPerPage !== undefined ? { ocrTokensPerPage: opts.ocrTokensPerPage } : {}),
        });
        if (opts.json) {
          // Record sizes only serve job planning; they would drown the JSON.
          const documents = estimate.documents.map(({ recordBytes: _bytes, ...d }) => d);
          io.out(`${JSON.stringify({ ...estimate, documents }, null, 2)}\n`);
        } else {
          printEstimate(estimate, io);
        }
        process.exitCode = EXIT.ok;
      },
    );
}
