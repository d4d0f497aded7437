/**
 * Bedrock Runtime InvokeModel on one machine: the rules model answers Anthropic Claude
 * native bodies synchronously, exactly as a batch record would be answered.
 */

import { RetryableError, ValidationException } from '../../../errors.ts';
import type { OnDemandModel } from '../../../ports.ts';
import { answerModelInput } from './family-responses.ts';

/** Bedrock Runtime's throttling error (HTTP 429); the name is what retry policies match. */
export class ThrottlingException extends RetryableError {
  constructor(message = 'Too many requests, please wait before trying again.') {
    super(message);
    this.name = 'ThrottlingException';
  }
}

export interface LocalOnDemandOptions {
  /** The first N invocations throw `ThrottlingException`, to exercise retries. */
  throttleFirst?: number;
}

export class LocalOnDemandModel implements OnDemandModel {
  readonly #throttleFirst: number;
  #calls = 0;

  constructor(options: LocalOnDemandOptions = {}) {
    this.#throttleFirst = options.throttleFirst ?? 0;
  }

  async invoke(modelId: string, body: unknown): Promise<unknown> {
    this.#calls++;
    if (this.#calls <= this.#throttleFirst) throw new ThrottlingException();
    const answer = answerModelInput(modelId, body);
    // On demand, a malformed body is a 400 for the call, not a per-record error line.
    if ('error' in answer) throw new ValidationException(answer.error.errorMessage);
    return answer.modelOutput;
  }
}
