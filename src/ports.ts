/**
 * The small interfaces tasks depend on. Adapters in `src/adapters/aws` implement them with SDK v3
 * clients passed in; adapters in `src/adapters/local` implement them on one machine.
 */

export interface PutOptions {
  /** Fail with `AlreadyExistsError` when the key exists (S3 `If-None-Match: *`, O_EXCL locally). */
  ifNoneMatch?: boolean;
  contentType?: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
}

export interface ObjectWriter {
  write(data: string | Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly bytes: number;
  close(): Promise<void>;
  abort(): Promise<void>;
}

export interface ObjectStore {
  /** The bucket name as it appears in `s3://` URIs. */
  readonly bucket: string;
  get(key: string): Promise<Uint8Array>;
  getText(key: string): Promise<string>;
  /** Streams the object's lines; never holds the whole object in memory. */
  lines(key: string): AsyncIterable<string>;
  /** Streams the object's bytes as they arrive, in pieces of no particular size. */
  chunks(key: string): AsyncIterable<Uint8Array>;
  /** Resolves `undefined` when the object does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<void>;
  /** A streaming write (S3 multipart upload; a temp file locally): the object appears whole on `close`. */
  openWriter(key: string): ObjectWriter;
  /** Keys under a prefix, in lexicographic order (S3 ListObjectsV2 order). */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(key: string): Promise<void>;
  /**
   * Deletes many keys, missing ones included: S3 DeleteObjects takes up to 1,000 a request, where
   * `delete` costs a request per key.
   */
  deleteMany(keys: readonly string[]): Promise<void>;
}

/** A model answering one request synchronously (Bedrock Runtime InvokeModel). */
export interface OnDemandModel {
  /** `body` is the model's native InvokeModel body, exactly as a batch record's `modelInput`. */
  invoke(modelId: string, body: unknown): Promise<unknown>;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

export interface Clock {
  now(): Date;
}

/** Reads documents without OCR (mupdf): used by Register and ExtractTextLayer, in AWS and offline. */
export interface DocumentReader {
  /**
   * Pages, encryption, per-page pixel size and text-layer presence. Throws `DocumentRejectedError`
   * (code `CORRUPT`) when the bytes cannot be opened as the sniffed media type.
   */
  inspect(
    bytes: Uint8Array,
    mediaType: import('./core/documents.ts').MediaType,
  ): Promise<import('./core/documents.ts').DocumentInfo>;
  /** Textract-shaped PAGE/LINE/WORD blocks from a PDF's own text layer, for the given 1-based pages (all when omitted). */
  textLayerBlocks(bytes: Uint8Array, pages?: number[]): Promise<import('./core/ocr/textract.ts').Block[]>;
}
