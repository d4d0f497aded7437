import {
  BedrockRuntimeClient,
  BedrockRuntimeServiceException,
  InvokeModelCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BedrockOnDemandModel,
  createBedrockRuntimeClient,
} from '../../../../src/adapters/aws/bedrock-runtime.ts';
import { RetryableError } from '../../../../src/errors.ts';

const runtime = mockClient(BedrockRuntimeClient);
const MODEL = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const request = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [] };

beforeEach(() => {
  runtime.reset();
});

describe('Function: BedrockOnDemandModel.invoke', () => {
  it('sends the native body as JSON and returns the parsed model output', async () => {
    const answer = { type: 'message', content: [], usage: { input_tokens: 3, output_tokens: 1 } };
    runtime.on(InvokeModelCommand).resolves({
      body: new TextEncoder().encode(JSON.stringify(answer)) as never,
      contentType: 'application/json',
    });
    const model = new BedrockOnDemandModel(new BedrockRuntimeClient({ region: 'us-east-1' }));
    expect(await model.invoke(MODEL, request)).toEqual(answer);
    const input = runtime.commandCalls(InvokeModelCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      modelId: MODEL,
      contentType: 'application/json',
      accept: 'application/json',
    });
    expect(JSON.parse(String(input?.body))).toEqual(request);
  });

  it('surfaces a ThrottlingException that outlasted the SDK retries as RetryableError with status 429', async () => {
    const throttled = new ThrottlingException({
      message: 'Too many requests',
      $metadata: { httpStatusCode: 429 },
    });
    runtime.on(InvokeModelCommand).rejects(throttled);
    const model = new BedrockOnDemandModel(new BedrockRuntimeClient({ region: 'us-east-1' }));
    const error = await model.invoke(MODEL, request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).name).toBe('RetryableError');
    expect((error as Error).cause).toBe(throttled);
    // InvokeOnDemand writes this as the record's errorCode, as a batch job would.
    expect((error as { $metadata: { httpStatusCode?: number } }).$metadata.httpStatusCode).toBe(429);
  });

  it('treats 5xx service faults as retryable too', async () => {
    runtime.on(InvokeModelCommand).rejects(
      new BedrockRuntimeServiceException({
        name: 'ServiceUnavailableException',
        $fault: 'server',
        message: 'unavailable',
        $metadata: { httpStatusCode: 503 },
      }),
    );
    const model = new BedrockOnDemandModel(new BedrockRuntimeClient({ region: 'us-east-1' }));
    await expect(model.invoke(MODEL, request)).rejects.toBeInstanceOf(RetryableError);
  });

  it('leaves a ValidationException as it is: a bad body is not fixed by retrying', async () => {
    runtime
      .on(InvokeModelCommand)
      .rejects(
        new ValidationException({ message: 'Malformed input request', $metadata: { httpStatusCode: 400 } }),
      );
    const model = new BedrockOnDemandModel(new BedrockRuntimeClient({ region: 'us-east-1' }));
    await expect(model.invoke(MODEL, request)).rejects.toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
  });
});

describe('Function: createBedrockRuntimeClient', () => {
  it('configures adaptive retry, so throttling slows the caller down before attempts run out', async () => {
    const client = createBedrockRuntimeClient();
    const retryMode = client.config.retryMode;
    expect(typeof retryMode === 'function' ? await retryMode() : retryMode).toBe('adaptive');
    expect(await client.config.maxAttempts()).toBe(8);
  });
});
