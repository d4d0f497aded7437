/**
 * Answers an Anthropic Claude native InvokeModel body the way Bedrock does, with the rules
 * model standing in for Claude: the forced tool's `input_schema` is filled from the document
 * text in the user message. Used by the batch emulator (one answer per record) and by the
 * local on-demand model.
 */

import { createHash } from 'node:crypto';
import { extractBySchema, type JSONSchemaObject } from './rules-model.ts';

export interface RecordError {
  errorCode: number;
  errorMessage: string;
}

export interface ClaudeTextBlock {
  type: 'text';
  text: string;
}

export interface ClaudeToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** A Claude Messages API response as Bedrock returns it in `modelOutput` / the InvokeModel body. */
export interface ClaudeResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: (ClaudeTextBlock | ClaudeToolUseBlock)[];
  stop_reason: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';
  stop_sequence: string | null;
  usage: { input_tokens: number; output_tokens: number };
}

export type RecordAnswer = { modelOutput: ClaudeResponse } | { error: RecordError };

// Top-level keys Bedrock accepts in an Anthropic body; anything else is refused per record.
const KNOWN_KEYS = new Set([
  'anthropic_version',
  'anthropic_beta',
  'max_tokens',
  'system',
  'messages',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'tools',
  'tool_choice',
  'metadata',
  'thinking',
  'output_config',
]);

function malformed(detail: string): { error: RecordError } {
  // Bedrock's wording for body schema violations of Anthropic models.
  return {
    error: {
      errorCode: 400,
      errorMessage: `Malformed input request: ${detail}, please reformat your input and try again.`,
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Plain text of a `system` or message `content` value (a string or a list of blocks). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block) =>
      isObject(block) && block['type'] === 'text' && typeof block['text'] === 'string' ? block['text'] : '',
    )
    .filter((t) => t.length > 0)
    .join('\n');
}

/**
 * The document inside the user turn: from the first `<document …>` line to the last
 * `</document>`. Without tags, the user text minus any `Previous attempt errors:` section.
 */
export function documentText(userText: string): string {
  const open = /<document\b[^>\n]*>[ \t]*\n?/.exec(userText);
  const close = userText.lastIndexOf('</document>');
  if (open && close > open.index) return userText.slice(open.index + open[0].length, close);
  const cut = userText.search(/^[ \t]*Previous attempt errors:/m);
  return cut >= 0 ? userText.slice(0, cut) : userText;
}

export function shortId(seed: string): string {
  // Deterministic ids keep emulator output reproducible run to run.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < 24; i++) out += alphabet[(bytes[i] ?? 0) % alphabet.length];
  return out;
}

export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

interface ToolSpec {
  name: string;
  schema: JSONSchemaObject;
}

function forcedTool(body: Record<string, unknown>): ToolSpec | RecordError | undefined {
  const tools = Array.isArray(body['tools']) ? body['tools'].filter(isObject) : [];
  const choice = isObject(body['tool_choice']) ? body['tool_choice'] : undefined;
  let tool: Record<string, unknown> | undefined;
  if (choice && choice['type'] === 'tool') {
    tool = tools.find((t) => t['name'] === choice['name']);
    if (!tool) {
      return {
        errorCode: 400,
        errorMessage: `tool_choice names tool ${JSON.stringify(choice['name'])}, which is not in tools`,
      };
    }
  } else if (tools.length === 1 || (choice && choice['type'] === 'any' && tools.length > 0)) {
    tool = tools[0];
  }
  if (!tool) return undefined;
  const schema = tool['input_schema'];
  if (typeof tool['name'] !== 'string' || !isObject(schema)) {
    return {
      errorCode: 400,
      errorMessage: 'Malformed input request: tools[].name and tools[].input_schema are required',
    };
  }
  return { name: tool['name'], schema: schema as JSONSchemaObject };
}

/**
 * Answer one batch record (or one InvokeModel call) for `modelId`. Malformed bodies give the
 * per-record error Bedrock writes to the output line instead of a `modelOutput`.
 */
export function answerRecord(modelId: string, modelInput: unknown): RecordAnswer {
  if (!isObject(modelInput))
    return malformed(
      `#: expected type: JSONObject, found: ${Array.isArray(modelInput) ? 'JSONArray' : typeof modelInput}`,
    );
  if ('modelId' in modelInput) return malformed('#: extraneous key [modelId] is not permitted');
  for (const key of ['anthropic_version', 'max_tokens', 'messages']) {
    if (!(key in modelInput)) return malformed(`#: required key [${key}] not found`);
  }
  const extra = Object.keys(modelInput).find((k) => !KNOWN_KEYS.has(k));
  if (extra !== undefined) return malformed(`#: extraneous key [${extra}] is not permitted`);
  const maxTokens = modelInput['max_tokens'];
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    return malformed(`#/max_tokens: expected a positive integer, found: ${JSON.stringify(maxTokens)}`);
  }
  const messages = modelInput['messages'];
  if (!Array.isArray(messages) || messages.length === 0 || !messages.every(isObject)) {
    return malformed('#/messages: expected a non-empty array of message objects');
  }
  const userText = messages
    .filter((m) => m['role'] === 'user')
    .map((m) => textOf(m['content']))
    .join('\n');
  const tool = forcedTool(modelInput);
  if (tool && 'errorCode' in tool) return { error: tool };
  const outputConfig = isObject(modelInput['output_config']) ? modelInput['output_config'] : undefined;
  const format = outputConfig && isObject(outputConfig['format']) ? outputConfig['format'] : undefined;
  const formatSchema =
    format && isObject(format['schema']) ? (format['schema'] as JSONSchemaObject) : undefined;

  const text = documentText(userText);
  const schema = tool?.schema ?? formatSchema;
  const record = schema ? extractBySchema(text, schema) : {};
  const seed = `${modelId}\n${JSON.stringify(modelInput)}`;
  const inputChars =
    textOf(modelInput['system']).length +
    messages.reduce((n, m) => n + textOf(m['content']).length, 0) +
    (modelInput['tools'] === undefined ? 0 : JSON.stringify(modelInput['tools']).length);
  const json = JSON.stringify(record);
  let outputTokens = estimateTokens(json.length);
  let stop: ClaudeResponse['stop_reason'] = tool ? 'tool_use' : 'end_turn';
  let input = record;
  let answerText = json;
  if (outputTokens > maxTokens) {
    // The model runs out of budget mid-answer: the tool input never completes.
    stop = 'max_tokens';
    outputTokens = maxTokens;
    input = {};
    answerText = json.slice(0, maxTokens * 4);
  }
  const content: ClaudeResponse['content'] = tool
    ? [{ type: 'tool_use', id: `toolu_bdrk_01${shortId(`tool:${seed}`)}`, name: tool.name, input }]
    : [{ type: 'text', text: answerText }];
  return {
    modelOutput: {
      id: `msg_bdrk_01${shortId(seed)}`,
      type: 'message',
      role: 'assistant',
      model: modelId,
      content,
      stop_reason: stop,
      stop_sequence: null,
      usage: { input_tokens: estimateTokens(inputChars), output_tokens: outputTokens },
    },
  };
}
