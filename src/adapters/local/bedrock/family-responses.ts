/**
 * The rules model answering Amazon Nova and OpenAI gpt-oss bodies in those models' own response
 * shapes, so the whole offline pipeline can run under any configured model family.
 */

import {
  answerRecord,
  documentText,
  estimateTokens,
  type RecordError,
  shortId,
} from './anthropic-response.ts';
import { extractBySchema, type JSONSchemaObject } from './rules-model.ts';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badRequest(errorMessage: string): { error: RecordError } {
  return { error: { errorCode: 400, errorMessage } };
}

export type FamilyAnswer =
  | { modelOutput: unknown; usage: { input: number; output: number } }
  | { error: RecordError };

/** Nova `messages-v1`: content blocks are `{text}`, the forced tool comes through `toolConfig`. */
export function answerNova(body: Record<string, unknown>): FamilyAnswer {
  if ('modelId' in body)
    return badRequest('Malformed input request: extraneous key [modelId] is not permitted');
  for (const key of ['temperature', 'max_tokens', 'maxTokens', 'top_p']) {
    if (key in body)
      return badRequest(
        `Malformed input request: extraneous key [${key}] is not permitted; sampling goes in inferenceConfig`,
      );
  }
  const messages = Array.isArray(body['messages']) ? body['messages'].filter(isObject) : [];
  if (messages.length === 0) return badRequest('Malformed input request: messages is required');
  const userText = messages
    .filter((m) => m['role'] === 'user')
    .flatMap((m) => (Array.isArray(m['content']) ? m['content'] : []))
    .map((c) => (isObject(c) && typeof c['text'] === 'string' ? c['text'] : ''))
    .join('\n');
  const inference = isObject(body['inferenceConfig']) ? body['inferenceConfig'] : {};
  const maxTokens = typeof inference['maxTokens'] === 'number' ? inference['maxTokens'] : 5000;
  const toolConfig = isObject(body['toolConfig']) ? body['toolConfig'] : undefined;
  const tools = toolConfig && Array.isArray(toolConfig['tools']) ? toolConfig['tools'].filter(isObject) : [];
  const spec = tools.map((t) => t['toolSpec']).find(isObject);
  const schema = spec && isObject(spec['inputSchema']) ? spec['inputSchema']['json'] : undefined;
  const record = isObject(schema) ? extractBySchema(documentText(userText), schema as JSONSchemaObject) : {};
  const json = JSON.stringify(record);
  const inputTokens = estimateTokens(JSON.stringify(body).length);
  const outputTokens = estimateTokens(json.length);
  const truncated = outputTokens > maxTokens;
  const content =
    spec && !truncated
      ? [{ toolUse: { toolUseId: `tooluse_${shortId(json)}`, name: String(spec['name']), input: record } }]
      : [{ text: truncated ? json.slice(0, maxTokens * 4) : json }];
  return {
    usage: { input: inputTokens, output: Math.min(outputTokens, maxTokens) },
    modelOutput: {
      output: { message: { role: 'assistant', content } },
      stopReason: truncated ? 'max_tokens' : spec ? 'tool_use' : 'end_turn',
      usage: {
        inputTokens,
        outputTokens: Math.min(outputTokens, maxTokens),
        totalTokens: inputTokens + outputTokens,
      },
    },
  };
}

/** gpt-oss Chat Completions: the schema arrives as `response_format`, the answer as text after its reasoning. */
export function answerOpenAi(modelId: string, body: Record<string, unknown>): FamilyAnswer {
  if ('modelId' in body)
    return badRequest('Malformed input request: extraneous key [modelId] is not permitted');
  const messages = Array.isArray(body['messages']) ? body['messages'].filter(isObject) : [];
  if (messages.length === 0) return badRequest('Malformed input request: messages is required');
  const userText = messages
    .filter((m) => m['role'] === 'user')
    .map((m) => (typeof m['content'] === 'string' ? m['content'] : ''))
    .join('\n');
  const format = isObject(body['response_format']) ? body['response_format'] : undefined;
  const jsonSchema = format && isObject(format['json_schema']) ? format['json_schema']['schema'] : undefined;
  const record = isObject(jsonSchema)
    ? extractBySchema(documentText(userText), jsonSchema as JSONSchemaObject)
    : {};
  const reasoning = '<reasoning>Reading the labelled fields of the document.</reasoning>';
  const answer = `${reasoning}${JSON.stringify(record)}`;
  const maxTokens = typeof body['max_completion_tokens'] === 'number' ? body['max_completion_tokens'] : 4096;
  const outputTokens = estimateTokens(answer.length);
  const truncated = outputTokens > maxTokens;
  const promptTokens = estimateTokens(JSON.stringify(body).length);
  return {
    usage: { input: promptTokens, output: Math.min(outputTokens, maxTokens) },
    modelOutput: {
      id: `chatcmpl-${shortId(answer)}`,
      object: 'chat.completion',
      model: modelId,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: truncated ? answer.slice(0, maxTokens * 4) : answer },
          finish_reason: truncated ? 'length' : 'stop',
        },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: Math.min(outputTokens, maxTokens),
      },
    },
  };
}

/**
 * One record's answer, in the shape of the family its body belongs to: Nova bodies declare
 * `schemaVersion: messages-v1`, Chat Completions bodies carry `response_format` or
 * `max_completion_tokens`, anything else is read as Anthropic (which validates it strictly).
 */
export function answerModelInput(modelId: string, modelInput: unknown): FamilyAnswer {
  if (isObject(modelInput) && modelInput['schemaVersion'] === 'messages-v1') return answerNova(modelInput);
  if (isObject(modelInput) && ('response_format' in modelInput || 'max_completion_tokens' in modelInput)) {
    return answerOpenAi(modelId, modelInput);
  }
  const answer = answerRecord(modelId, modelInput);
  if ('error' in answer) return answer;
  const { usage } = answer.modelOutput;
  return {
    modelOutput: answer.modelOutput,
    usage: { input: usage.input_tokens, output: usage.output_tokens },
  };
}
