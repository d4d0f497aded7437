import { describe, expect, it } from 'vitest';
import { answerModelInput } from '../../../src/adapters/local/bedrock/family-responses.ts';
import { DEFAULT_FAMILY_TABLE, familyForModel } from '../../../src/core/families/index.ts';
import { nova } from '../../../src/core/families/nova.ts';
import { openai, stripReasoning } from '../../../src/core/families/openai.ts';
import type { ExtractionRequest } from '../../../src/core/families/types.ts';

const request: ExtractionRequest = {
  type: 'receipt',
  schema: {
    $id: 'x',
    type: 'object',
    properties: { total: { type: 'number', description: 'Total paid', 'x-docbatch': { labels: ['total'] } } },
  },
  text: 'CORNER CAFE\nTOTAL 9.50',
  chunk: { index: 0, count: 1, pageStart: 1, pageEnd: 1 },
  maxTokens: 300,
};

describe('Function: familyForModel with the default table', () => {
  it.each([
    ['anthropic.claude-3-5-haiku-20241022-v1:0', 'anthropic'],
    ['us.anthropic.claude-haiku-4-5-20251001-v1:0', 'anthropic'],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5', 'anthropic'],
    ['amazon.nova-lite-v1:0', 'nova'],
    ['us.amazon.nova-pro-v1:0', 'nova'],
    ['openai.gpt-oss-20b-1:0', 'openai'],
    ['docbatch.rules-v1', 'anthropic'],
  ])('maps %s to %s', (id, family) => {
    expect(familyForModel(id, DEFAULT_FAMILY_TABLE).name).toBe(family);
  });
});

describe('Function: nova family', () => {
  it('builds a messages-v1 body with a forced tool and sampling inside inferenceConfig', () => {
    const body = nova.buildRequest(request) as Record<string, unknown> & {
      toolConfig: { toolChoice: unknown };
    };
    expect(body['schemaVersion']).toBe('messages-v1');
    expect(body['inferenceConfig']).toEqual({ maxTokens: 300, temperature: 0 });
    expect(body).not.toHaveProperty('temperature');
    expect(body.toolConfig.toolChoice).toEqual({ tool: { name: 'record_receipt' } });
  });

  it('round-trips through the offline model: toolUse input and usage', () => {
    const answer = answerModelInput('amazon.nova-lite-v1:0', nova.buildRequest(request));
    if ('error' in answer) throw new Error(answer.error.errorMessage);
    const parsed = nova.parseResponse(answer.modelOutput);
    expect(parsed.toolInput).toEqual({ total: 9.5 });
    expect(parsed.truncated).toBe(false);
    expect(parsed.usage.inputTokens).toBeGreaterThan(0);
  });

  it('refuses sampling outside inferenceConfig per record, as Nova does', () => {
    const answer = answerModelInput('amazon.nova-lite-v1:0', {
      ...nova.buildRequest(request),
      temperature: 0,
    });
    expect(answer).toEqual({ error: expect.objectContaining({ errorCode: 400 }) });
  });
});

describe('Function: openai (gpt-oss) family', () => {
  it('builds a Chat Completions body with the schema as response_format', () => {
    const body = openai.buildRequest(request) as Record<string, unknown> & {
      response_format: { json_schema: { schema: object } };
    };
    expect(body['max_completion_tokens']).toBe(300);
    expect(body.response_format.json_schema.schema).toEqual({
      type: 'object',
      properties: request.schema.properties,
    });
  });

  it('strips reasoning and reads the JSON answer as text', () => {
    const answer = answerModelInput('openai.gpt-oss-20b-1:0', openai.buildRequest(request));
    if ('error' in answer) throw new Error(answer.error.errorMessage);
    const parsed = openai.parseResponse(answer.modelOutput);
    expect(parsed.text).toBe('{"total":9.5}');
    expect(stripReasoning('<reasoning>think {"a":1}</reasoning>{"b":2}')).toBe('{"b":2}');
  });

  it('reports a reasoning-exhausted budget as truncated', () => {
    const parsed = openai.parseResponse({
      choices: [{ message: { content: '<reasoning>long…' }, finish_reason: 'length' }],
    });
    expect(parsed).toEqual({ truncated: true, usage: { inputTokens: 0, outputTokens: 0 } });
  });
});
