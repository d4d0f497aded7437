import { systemPrompt, toolName, toolSchema, userMessage } from './prompt.ts';
import type { ExtractionRequest, ModelFamily, ParsedOutput } from './types.ts';

interface ChatResponse {
  choices?: { message?: { content?: unknown }; finish_reason?: string }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** gpt-oss may think aloud before answering; the answer is what follows the reasoning. */
export function stripReasoning(text: string): string {
  return text.replace(/<reasoning>[\s\S]*?(<\/reasoning>|$)/gi, '').trim();
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'object' && part !== null && 'text' in part ? String(part.text) : ''))
      .join('');
  }
  return '';
}

/**
 * OpenAI gpt-oss on Bedrock: a Chat Completions body whose `response_format` carries the type's
 * JSON Schema. The answer comes back as text, so Collect parses (and repairs) it.
 */
export const openai: ModelFamily = {
  name: 'openai',
  buildRequest(request: ExtractionRequest) {
    return {
      messages: [
        { role: 'system', content: systemPrompt(request.type) },
        { role: 'user', content: userMessage(request) },
      ],
      max_completion_tokens: request.maxTokens,
      temperature: 0,
      response_format: {
        type: 'json_schema',
        json_schema: { name: toolName(request.type), schema: toolSchema(request.schema), strict: false },
      },
    };
  },
  parseResponse(modelOutput: unknown): ParsedOutput {
    const out = (modelOutput ?? {}) as ChatResponse;
    const choice = Array.isArray(out.choices) ? out.choices[0] : undefined;
    const text = stripReasoning(contentText(choice?.message?.content));
    return {
      ...(text ? { text } : {}),
      // Reasoning can exhaust a small budget before any answer: that is truncation, not an answer.
      truncated: choice?.finish_reason === 'length',
      usage: { inputTokens: out.usage?.prompt_tokens ?? 0, outputTokens: out.usage?.completion_tokens ?? 0 },
    };
  },
};
