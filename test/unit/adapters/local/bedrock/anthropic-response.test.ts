import { describe, expect, it } from 'vitest';
import {
  answerRecord,
  type ClaudeResponse,
  documentText,
} from '../../../../../src/adapters/local/bedrock/anthropic-response.ts';
import { claudeBody, RECEIPT_TEXT } from './helpers.ts';

const MODEL = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';

function output(answer: ReturnType<typeof answerRecord>): ClaudeResponse {
  if (!('modelOutput' in answer)) throw new Error(`expected a model output, got ${JSON.stringify(answer)}`);
  return answer.modelOutput;
}

describe('Function: answerRecord', () => {
  it('returns a Claude tool_use message filled by the rules model', () => {
    // Prepare
    const body = claudeBody(RECEIPT_TEXT);

    // Act
    const response = output(answerRecord(MODEL, body));

    // Assess
    expect(response).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      stop_reason: 'tool_use',
      stop_sequence: null,
      content: [
        {
          type: 'tool_use',
          name: 'record_receipt',
          input: {
            merchant_name: 'KEDAI RUNCIT MAJU SDN BHD',
            merchant_address: 'NO. 12, JALAN MAWAR 3, 81100 JOHOR BAHRU, JOHOR.',
            date: '2018-12-25',
            total: 22.65,
            currency: 'MYR',
          },
        },
      ],
    });
    expect(response.id).toMatch(/^msg_/);
    expect(response.content[0]).toHaveProperty('id', expect.stringMatching(/^toolu_/));
  });

  it('returns token counts estimated as a quarter of the characters, rounded up', () => {
    // Prepare
    const body = claudeBody(RECEIPT_TEXT);

    // Act
    const response = output(answerRecord(MODEL, body));

    // Assess
    const block = response.content[0];
    const input = block?.type === 'tool_use' ? block.input : undefined;
    expect(response.usage.output_tokens).toBe(Math.ceil(JSON.stringify(input).length / 4));
    expect(response.usage.input_tokens).toBeGreaterThan(Math.ceil(RECEIPT_TEXT.length / 4));
  });

  it('returns the same ids for the same request', () => {
    // Act
    const a = output(answerRecord(MODEL, claudeBody(RECEIPT_TEXT)));
    const b = output(answerRecord(MODEL, claudeBody(RECEIPT_TEXT)));

    // Assess
    expect(a.id).toBe(b.id);
  });

  it('returns a 400 record error naming anthropic_version when it is missing', () => {
    // Prepare
    const { anthropic_version: _v, ...body } = claudeBody(RECEIPT_TEXT);

    // Act
    const answer = answerRecord(MODEL, body);

    // Assess
    expect(answer).toEqual({
      error: { errorCode: 400, errorMessage: expect.stringContaining('anthropic_version') },
    });
  });

  it('returns a 400 record error when modelId sits inside the body', () => {
    // Act
    const answer = answerRecord(MODEL, claudeBody(RECEIPT_TEXT, { modelId: MODEL }));

    // Assess
    expect(answer).toEqual({
      error: {
        errorCode: 400,
        errorMessage: expect.stringMatching(
          /^Malformed input request: #: extraneous key \[modelId\] is not permitted/,
        ),
      },
    });
  });

  it('returns a 400 record error for a body that is not an object', () => {
    // Act
    const answer = answerRecord(MODEL, 'hello');

    // Assess
    expect(answer).toHaveProperty('error.errorCode', 400);
  });

  it('returns stop_reason max_tokens with an empty tool input when the budget is too small', () => {
    // Act
    const response = output(answerRecord(MODEL, claudeBody(RECEIPT_TEXT, { max_tokens: 5 })));

    // Assess
    expect(response.stop_reason).toBe('max_tokens');
    expect(response.usage.output_tokens).toBe(5);
    expect(response.content[0]).toMatchObject({ type: 'tool_use', input: {} });
  });

  it('returns a text answer when the body forces no tool', () => {
    // Act
    const response = output(
      answerRecord(MODEL, claudeBody(RECEIPT_TEXT, { tools: undefined, tool_choice: undefined })),
    );

    // Assess
    expect(response.stop_reason).toBe('end_turn');
    expect(response.content).toEqual([{ type: 'text', text: '{}' }]);
  });
});

describe('Function: documentText', () => {
  it('returns the text between the first document line and the last closing tag', () => {
    // Prepare
    const user =
      'Extract.\n<document type="receipt" chunk="1/1" pages="1-1">\nA\n</document> inside\nB\n</document>\nPrevious attempt errors:\n- /total: required';

    // Act
    const text = documentText(user);

    // Assess
    expect(text).toBe('A\n</document> inside\nB\n');
  });

  it('returns the user text without the previous attempt errors when there are no tags', () => {
    // Act
    const text = documentText('TOTAL 9.00\nPrevious attempt errors:\n- /date: required');

    // Assess
    expect(text).toBe('TOTAL 9.00\n');
  });
});
