import { ConfigError } from '../../errors.ts';
import { anthropic } from './anthropic.ts';
import { nova } from './nova.ts';
import { openai } from './openai.ts';
import type { ModelFamily } from './types.ts';

export type { ExtractionRequest, JsonSchema, ModelFamily, ParsedOutput, Usage } from './types.ts';

const FAMILIES: Record<string, ModelFamily> = { anthropic, nova, openai };

/**
 * The default model id → family table: foundation model ids, cross-region inference profiles
 * (`us.`, `eu.`, `apac.`, `global.` prefixes) and ARNs all contain the provider segment.
 */
export const DEFAULT_FAMILY_TABLE: readonly { match: string; family: string }[] = [
  { match: '^docbatch\\.rules', family: 'anthropic' },
  { match: '(^|[./])anthropic\\.', family: 'anthropic' },
  { match: '(^|[./])amazon\\.nova-', family: 'nova' },
  { match: '(^|[./])openai\\.gpt-oss-', family: 'openai' },
];

export function familyByName(name: string): ModelFamily {
  const family = FAMILIES[name];
  if (!family) {
    throw new ConfigError(
      `unknown model family "${name}"; known families: ${Object.keys(FAMILIES).join(', ')}`,
    );
  }
  return family;
}

/**
 * Model id (foundation model, inference profile such as `us.anthropic…`, or the offline rules
 * model) → family, by the first matching pattern of a configurable table.
 */
export function familyForModel(
  modelId: string,
  table: readonly { match: string; family: string }[],
): ModelFamily {
  for (const row of table) {
    if (new RegExp(row.match).test(modelId)) return familyByName(row.family);
  }
  throw new ConfigError(
    `no model family matches model id "${modelId}"; add a row to model.families in the configuration (patterns: ${table.map((r) => r.match).join(', ')})`,
  );
}
