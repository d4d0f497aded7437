/**
 * Errors the Textract stand-in throws, named as Step Functions reports the real ones: the AWS SDK
 * integration prefixes the SDK's error name with the service name, and the ASL's Retry/Catch
 * `ErrorEquals` match these exact strings.
 */
import { RetryableError, ValidationException } from '../../../errors.ts';

/** The request is malformed (missing or out-of-pattern fields). */
export class TextractInvalidParameterError extends ValidationException {
  constructor(message: string) {
    super(message);
    this.name = 'Textract.InvalidParameterException';
  }
}

/** The S3 object cannot be read (no such bucket or key, or no permission). */
export class TextractInvalidS3ObjectError extends ValidationException {
  constructor(message: string) {
    super(message);
    this.name = 'Textract.InvalidS3ObjectException';
  }
}

/** GetDocumentTextDetection was given a JobId Textract never issued (or one past its 7 days). */
export class TextractInvalidJobIdError extends ValidationException {
  constructor(message: string) {
    super(message);
    this.name = 'Textract.InvalidJobIdException';
  }
}

/** A ClientRequestToken reused with a different request. */
export class TextractIdempotentParameterMismatchError extends ValidationException {
  constructor(message: string) {
    super(message);
    this.name = 'Textract.IdempotentParameterMismatchException';
  }
}

/** Throttled: retry with backoff. */
export class TextractThroughputExceededError extends RetryableError {
  constructor(message: string) {
    super(message);
    this.name = 'Textract.ProvisionedThroughputExceededException';
  }
}
