import { describe, expect, it } from 'vitest';
import { AwsRequestError, isTransient, surfaceTransient } from '../../../../src/adapters/aws/errors.ts';
import { DocbatchError, RetryableError } from '../../../../src/errors.ts';

const sdkError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} message`), { name, ...extra });

describe('Function: isTransient', () => {
  it.each([
    ['ThrottlingException', {}],
    ['SlowDown', { $metadata: { httpStatusCode: 503 } }],
    ['InternalError', { $fault: 'server' }],
    ['Whatever', { $metadata: { httpStatusCode: 500 } }],
    ['Whatever', { $metadata: { httpStatusCode: 429 } }],
    ['Error', { code: 'ECONNRESET' }],
  ])('is true for %s %j', (name, extra) => {
    expect(isTransient(sdkError(name, extra))).toBe(true);
  });

  it.each([
    ['AccessDenied', { $metadata: { httpStatusCode: 403 } }],
    ['ValidationException', { $fault: 'client', $metadata: { httpStatusCode: 400 } }],
    ['NoSuchKey', { $metadata: { httpStatusCode: 404 } }],
  ])('is false for %s', (name, extra) => {
    expect(isTransient(sdkError(name, extra))).toBe(false);
  });

  it('is false for values that are not errors', () => {
    expect(isTransient('SlowDown')).toBe(false);
  });
});

describe('Function: surfaceTransient', () => {
  it('rethrows a permanent error unchanged (its name is what ErrorEquals matches)', () => {
    const e = sdkError('AccessDenied', { $metadata: { httpStatusCode: 403 } });
    expect(() => surfaceTransient('GetObject k', e)).toThrow(e);
  });

  it('wraps a transient one in RetryableError named RetryableError', () => {
    let thrown: unknown;
    try {
      surfaceTransient('GetObject k', sdkError('SlowDown', { $metadata: { httpStatusCode: 503 } }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RetryableError);
    expect(thrown).toMatchObject({ name: 'RetryableError', $metadata: { httpStatusCode: 503 } });
  });
});

describe('Function: AwsRequestError', () => {
  it('names the call, the error and a hint for missing credentials', () => {
    const e = new AwsRequestError('StartExecution', sdkError('CredentialsProviderError'));
    expect(e).toBeInstanceOf(DocbatchError);
    expect(e.name).toBe('AwsRequestError');
    expect(e.message).toMatch(/^StartExecution failed: CredentialsProviderError: .*AWS_PROFILE/);
  });
});
