import { systemPrompt, toolName, toolSchema, userMessage } from './prompt.ts';
import type { ExtractionRequest, ModelFamily, ParsedOutput } from './types.ts';

interface NovaContent {
  text?: string;
  toolUse?: { toolUseId?: string; name?: string; input?: unknown };
}

interface NovaResponse {
  output?: { message?: { content?: NovaContent[] } };
  stopReason?: string;
  usage?: { inputTokens?: number; outputTokens?: number };
}

/**
 * Amazon Nova, native InvokeModel body (`messages-v1`): one forced tool through `toolConfig`;
 * sampling must sit inside `inferenceConfig` or Nova refuses the body.
 */
export const nova: ModelFamily = {
  name: 'nova',
  buildRequest(request: ExtractionRequest) {
    const name = toolName(request.type);
    return {
      schemaVersion: 'messages-v1',
      system: [{ text: systemPrompt(request.type) }],
      messages: [{ role: 'user', content: [{ text: userMessage(request) }] }],
      inferenceConfig: { maxTokens: request.maxTokens, temperature: 0 },
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name,
              description:
                request.schema.description ?? `Record the ${request.type} fields read from the document.`,
              inputSchema: { json: toolSchema(request.schema) },
            },
          },
        ],
        toolChoice: { tool: { name } },
      },
    };
  },
  parseResponse(modelOutput: unknown): ParsedOutput {
    const out = (modelOutput ?? {}) as NovaResponse;
    const content = Array.isArray(out.output?.message?.content) ? (out.output?.message?.content ?? []) : [];
    const tool = content.find((c) => c?.toolUse !== undefined)?.toolUse;
    const text = content
      .filter((c) => typeof c?.text === 'string')
      .map((c) => c.text)
      .join('\n');
    return {
      ...(tool ? { toolInput: tool.input } : {}),
      ...(text ? { text } : {}),
      truncated: out.stopReason === 'max_tokens',
      usage: { inputTokens: out.usage?.inputTokens ?? 0, outputTokens: out.usage?.outputTokens ?? 0 },
    };
  },
};
