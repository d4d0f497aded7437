/**
 * The error hierarchy. Every class sets `name` explicitly: Step Functions matches `ErrorEquals`
 * against it (the local engine uses `error.name` too), so a name is a contract and never changes.
 *
 * Retryable errors (throttling, transient faults) and terminal errors (bad document, bad schema)
 * are different classes so that the ASL can retry one and quarantine the other.
 */

export type ErrorOptions = { cause?: unknown };

/** Base class: anything docbatch throws on purpose. */
export class DocbatchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DocbatchError';
  }
}

/** A transient fault worth retrying with backoff (throttling, 5xx, a lock held by another run). */
export class RetryableError extends DocbatchError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** Machine-readable reason attached to a rejected document. */
export interface Reason {
  code: string;
  message: string;
  path?: string;
}

/** A document that can never produce a record as it is: retrying cannot help, quarantine it. */
export class DocumentRejectedError extends DocbatchError {
  readonly reasons: Reason[];
  constructor(reasons: Reason[], options?: ErrorOptions) {
    super(reasons.map((r) => `${r.code}: ${r.message}`).join('; '), options);
    this.name = 'DocumentRejected';
    this.reasons = reasons;
  }
}

/** Bad configuration or arguments: the run cannot start. */
export class ConfigError extends DocbatchError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** A schema that cannot be loaded or compiled. */
export class SchemaError extends DocbatchError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SchemaError';
  }
}

/** An object key that would escape the bucket (`..`, absolute, empty segments). */
export class InvalidKeyError extends DocbatchError {
  constructor(key: string) {
    super(
      `invalid object key ${JSON.stringify(key)}: keys are relative, '/'-separated, without '.' or '..' segments`,
    );
    this.name = 'InvalidKey';
  }
}

/** The object does not exist (S3 NoSuchKey / NotFound). */
export class NotFoundError extends DocbatchError {
  constructor(key: string) {
    super(`no object at key ${JSON.stringify(key)}`);
    this.name = 'NotFound';
  }
}

/** A conditional write found the object already there (S3 412 PreconditionFailed / O_EXCL EEXIST). */
export class AlreadyExistsError extends DocbatchError {
  constructor(key: string) {
    super(`object already exists at key ${JSON.stringify(key)}`);
    this.name = 'AlreadyExists';
  }
}

/** A service stand-in was asked for something AWS would refuse (validation errors in the request). */
export class ValidationException extends DocbatchError {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationException';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
