import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JSONSchemaObject } from '../../../../../src/adapters/local/bedrock/rules-model.ts';

const SCHEMAS = join(import.meta.dirname, '../../../../../schemas');

/** A schema file as the assembler sends it in `input_schema`: without `$schema`/`$id`, hints kept. */
export function toolSchema(type: 'receipt' | 'invoice'): JSONSchemaObject {
  const {
    $schema: _s,
    $id: _i,
    ...schema
  } = JSON.parse(readFileSync(join(SCHEMAS, `${type}.schema.json`), 'utf8')) as Record<string, unknown>;
  return schema as JSONSchemaObject;
}

export const RECEIPT_TEXT = [
  'KEDAI RUNCIT MAJU SDN BHD',
  'NO. 12, JALAN MAWAR 3,',
  '81100 JOHOR BAHRU, JOHOR.',
  'DATE: 25/12/2018',
  'TOTAL : RM 22.65',
].join('\n');

/** An Anthropic native body shaped like the assembler's record `modelInput`. */
export function claudeBody(
  documentText: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 1024,
    temperature: 0,
    system: 'You extract records from documents. Call the tool exactly once.',
    messages: [
      {
        role: 'user',
        content: [
          {
            type: 'text',
            text: `Extract a receipt record from the document below.\n<document type="receipt" chunk="1/1" pages="1-1">\n${documentText}\n</document>`,
          },
        ],
      },
    ],
    tools: [
      { name: 'record_receipt', description: 'Record the receipt.', input_schema: toolSchema('receipt') },
    ],
    tool_choice: { type: 'tool', name: 'record_receipt' },
    ...extra,
  };
}
