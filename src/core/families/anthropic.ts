import { systemPrompt, toolName, toolSchema, userMessage } from './prompt.ts';
import type { ExtractionRequest, ModelFamily, ParsedOutput } from './types.ts';

interface ClaudeContent {
  type?: string;
  text?: string;
  name?: string;
  input?: unknown;
}

interface ClaudeResponse {
  content?: ClaudeContent[];
  stop_reason?: string;
  usage?: { input_tokens?: number; output_tokens?: number };
}

/** Anthropic Claude, native Messages body with one forced tool whose input_schema is the type's schema. */
export const anthropic: ModelFamily = {
  name: 'anthropic',
  buildRequest(request: ExtractionRequest) {
    const name = toolName(request.type);
    return {
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: request.maxTokens,
      temperature: 0,
      system: systemPrompt(request.type),
      messages: [{ role: 'user', content: [{ type: 'text', text: userMessage(request) }] }],
      tools: [
        {
          name,
          description:
            request.schema.description ?? `Record the ${request.type} fields read from the document.`,
          input_schema: toolSchema(request.schema),
        },
      ],
      tool_choice: { type: 'tool', name },
    };
  },
  parseResponse(modelOutput: unknown): ParsedOutput {
    const out = (modelOutput ?? {}) as ClaudeResponse;
    const content = Array.isArray(out.content) ? out.content : [];
    const tool = content.find((c) => c?.type === 'tool_use');
    const text = content
      .filter((c) => c?.type === 'text' && typeof c.text === 'string')
      .map((c) => c.text)
      .join('\n');
    return {
      ...(tool ? { toolInput: tool.input } : {}),
      ...(text ? { text } : {}),
      truncated: out.stop_reason === 'max_tokens',
      usage: { inputTokens: out.usage?.input_tokens ?? 0, outputTokens: out.usage?.output_tokens ?? 0 },
    };
  },
};
