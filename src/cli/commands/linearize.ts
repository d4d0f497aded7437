import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { collectBlocks, linearizeResponse, type TextractInput } from '../../core/ocr/linearize.ts';
import { ConfigError } from '../../errors.ts';
import type { Io } from '../io.ts';

/** What a file must be for the linearizer: a finished Textract result (or a list of Get pages). */
export function checkTextractResult(value: unknown, file: string): TextractInput {
  const pages = Array.isArray(value) ? value : [value];
  if (pages.length === 0 || !pages.every((p) => typeof p === 'object' && p !== null)) {
    throw new ConfigError(
      `"${file}" is not a Textract response: expected a JSON object or a list of Get response pages`,
    );
  }
  for (const page of pages as Record<string, unknown>[]) {
    const status = page['JobStatus'];
    if (status === 'IN_PROGRESS' || status === 'FAILED') {
      const why = typeof page['StatusMessage'] === 'string' ? `: ${page['StatusMessage']}` : '';
      throw new ConfigError(
        `"${file}" is a Textract job that is ${status}${why}; only a SUCCEEDED or PARTIAL_SUCCESS result has text`,
      );
    }
  }
  if (collectBlocks(value as TextractInput).length === 0) {
    throw new ConfigError(
      `"${file}" has no Textract Blocks; pass a DetectDocumentText/AnalyzeDocument result or Get* pages`,
    );
  }
  return value as TextractInput;
}

/** `docbatch linearize`: a Textract response → the text the model reads. */
export function registerLinearize(program: Command, io: Io): void {
  program
    .command('linearize')
    .description(
      'Print the text docbatch would send to the model for a Textract response (reading order, tables, key-values).',
    )
    .argument('<response.json>', 'a Textract response: one object, or a JSON list of Get* pages')
    .addHelpText(
      'after',
      `
Examples:
  $ docbatch linearize analyze-document.json
  $ docbatch linearize .docbatch/bucket/ocr/<docId>/<jobId>/1

Exit codes:
  0  the text was printed
  1  the file is unreadable or not a successful Textract result (e.g. an IN_PROGRESS or FAILED job)`,
    )
    .action(async (file: string) => {
      let value: unknown;
      try {
        value = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        throw new ConfigError(`cannot read "${file}" as JSON: ${(error as Error).message}`);
      }
      io.out(`${linearizeResponse(checkTextractResult(value, file))}\n`);
    });
}
