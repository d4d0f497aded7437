import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import type { OnDemandModel } from '../../ports.ts';
import { surfaceTransient } from './errors.ts';

/**
 * Adaptive retry adds a client-side rate limiter on top of exponential backoff: when Bedrock
 * throttles, the InvokeOnDemand function slows its own calls instead of burning attempts.
 */
export function createBedrockRuntimeClient(): BedrockRuntimeClient {
  return new BedrockRuntimeClient({ retryMode: 'adaptive', maxAttempts: 8 });
}

/**
 * Bedrock Runtime InvokeModel with the model's native body: the very `modelInput` a batch record
 * carries, answered with the very `modelOutput` a batch job would write. The client is injected;
 * the Lambda handler builds it with `retryMode: 'adaptive'`, so throttling is first absorbed by
 * the SDK's client-side rate limiter and only what outlasts it reaches here, as `RetryableError`.
 */
export class BedrockOnDemandModel implements OnDemandModel {
  readonly #client: BedrockRuntimeClient;

  constructor(client: BedrockRuntimeClient) {
    this.#client = client;
  }

  async invoke(modelId: string, body: unknown): Promise<unknown> {
    let responseBody: Uint8Array;
    try {
      const out = await this.#client.send(
        new InvokeModelCommand({
          modelId,
          contentType: 'application/json',
          accept: 'application/json',
          body: JSON.stringify(body),
        }),
      );
      responseBody = out.body;
    } catch (error) {
      // Validation, access and model errors stay as the SDK named them: retrying cannot fix them.
      return surfaceTransient(`InvokeModel ${modelId}`, error);
    }
    return JSON.parse(Buffer.from(responseBody).toString('utf8'));
  }
}
