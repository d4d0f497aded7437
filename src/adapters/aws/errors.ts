import { DocbatchError, RetryableError } from '../../errors.ts';

/** The parts of an AWS SDK v3 service exception docbatch looks at. */
export interface SdkErrorShape {
  name: string;
  message: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: { throttling?: boolean };
}

function asSdkError(error: unknown): SdkErrorShape | undefined {
  return error instanceof Error ? (error as Error & SdkErrorShape) : undefined;
}

export function httpStatusOf(error: unknown): number | undefined {
  return asSdkError(error)?.$metadata?.httpStatusCode;
}

/** Error names AWS services use for throttling and transient faults (across S3, Bedrock, STS…). */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalServerError',
  'InternalServerException',
  'RequestTimeout',
  'RequestTimeoutException',
  'ModelNotReadyException',
  'TimeoutError',
  // S3: two conditional writes raced on one key; the loser may simply try again.
  'ConditionalRequestConflict',
]);

/** Socket-level failures: the request may never have reached the service. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * Whether an SDK error is worth retrying later. The SDK has already retried it by the time docbatch
 * sees it, so this decides whether the state machine's own, longer backoff should have a go
 * (`RetryableError`) or the failure is final.
 */
export function isTransient(error: unknown): boolean {
  const e = asSdkError(error);
  if (!e) return false;
  const status = e.$metadata?.httpStatusCode;
  const code = (e as { code?: unknown }).code;
  return (
    TRANSIENT_NAMES.has(e.name) ||
    (typeof code === 'string' && NETWORK_CODES.has(code)) ||
    e.$fault === 'server' ||
    e.$retryable !== undefined ||
    status === 429 ||
    (status !== undefined && status >= 500)
  );
}

/**
 * A transient AWS fault that outlasted the SDK's retries. Named `RetryableError` on purpose: that is
 * the name the ASL's Retry matches, and this class only adds the HTTP status the service answered
 * (InvokeOnDemand writes it as the record's `errorCode`, as a batch job would).
 */
export class AwsTransientError extends RetryableError {
  readonly $metadata: { httpStatusCode?: number };
  constructor(operation: string, cause: unknown) {
    const e = asSdkError(cause);
    super(`${operation} failed after retries: ${e?.name ?? 'Error'}: ${e?.message ?? String(cause)}`, {
      cause,
    });
    this.name = 'RetryableError';
    const status = e?.$metadata?.httpStatusCode;
    this.$metadata = status === undefined ? {} : { httpStatusCode: status };
  }
}

/** Rethrows transient SDK faults as `RetryableError` and everything else unchanged. */
export function surfaceTransient(operation: string, error: unknown): never {
  if (isTransient(error)) throw new AwsTransientError(operation, error);
  throw error;
}

/** An AWS call made by an operator command failed: one line saying which call and why. */
export class AwsRequestError extends DocbatchError {
  constructor(operation: string, cause: unknown) {
    const e = asSdkError(cause);
    const hint =
      e?.name === 'CredentialsProviderError'
        ? ' (no AWS credentials found: set AWS_PROFILE or run `aws configure`)'
        : e?.name === 'AccessDeniedException' || e?.name === 'AccessDenied'
          ? ' (the caller lacks permission for this call)'
          : '';
    super(`${operation} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(cause)}${hint}`, { cause });
    this.name = 'AwsRequestError';
  }
}
