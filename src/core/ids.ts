import { createHash } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A document's id is a prefix of its content hash: the same bytes uploaded twice, under any name,
 * are one document. 24 hex chars (96 bits) fit Textract's ClientRequestToken and JobTag patterns.
 */
export function docIdFromSha256(sha256: string): string {
  return sha256.slice(0, 24);
}

/**
 * Bedrock batch recordIds: every AWS example uses 11 alphanumerics and the charset is undocumented,
 * so stay inside `[A-Za-z0-9]{11}`. Derived from the record's identity so a re-run of Assemble
 * produces the same ids.
 */
export function recordId(...parts: (string | number)[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  let n = digest.readBigUInt64BE(0);
  let id = '';
  for (let i = 0; i < 11; i++) {
    id += BASE62[Number(n % 62n)];
    n /= 62n;
  }
  return id;
}

export const RECORD_ID_PATTERN = /^[A-Za-z0-9]{11}$/;

const RUN_ID = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,40}$/;

/**
 * The run id of a batch execution, derived from its name. Step Functions names allow characters
 * that S3 keys and Bedrock job names should not carry, and may be 80 long; every task maps the
 * name the same way, so they all agree on the run's keys. Names that already fit are kept.
 */
export function runIdFromExecutionName(name: string): string {
  if (RUN_ID.test(name)) return name;
  const cleaned = name.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${cleaned.slice(0, 32) || 'run'}-${hash}`;
}
