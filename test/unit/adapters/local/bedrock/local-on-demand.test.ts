import { describe, expect, it } from 'vitest';
import { LocalOnDemandModel } from '../../../../../src/adapters/local/bedrock/local-on-demand.ts';
import { claudeBody, RECEIPT_TEXT } from './helpers.ts';

const MODEL = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';

describe('Function: LocalOnDemandModel.invoke', () => {
  it('returns the Claude response for a well-formed body', async () => {
    // Prepare
    const model = new LocalOnDemandModel();

    // Act
    const response = await model.invoke(MODEL, claudeBody(RECEIPT_TEXT));

    // Assess
    expect(response).toMatchObject({ stop_reason: 'tool_use', content: [{ input: { total: 22.65 } }] });
  });

  it('throws an error named ValidationException for a malformed body', async () => {
    // Prepare
    const model = new LocalOnDemandModel();

    // Act
    const call = model.invoke(MODEL, claudeBody(RECEIPT_TEXT, { modelId: MODEL }));

    // Assess
    await expect(call).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('modelId'),
    });
  });

  it('throws ThrottlingException for the first configured calls, then answers', async () => {
    // Prepare
    const model = new LocalOnDemandModel({ throttleFirst: 1 });

    // Act
    const first = model.invoke(MODEL, claudeBody(RECEIPT_TEXT));
    await expect(first).rejects.toMatchObject({ name: 'ThrottlingException' });
    const second = await model.invoke(MODEL, claudeBody(RECEIPT_TEXT));

    // Assess
    expect(second).toHaveProperty('type', 'message');
  });
});
