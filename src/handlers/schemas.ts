// Imported as JSON modules so esbuild bundles them: a Lambda has no repository to read them from.
import invoice from '../../schemas/invoice.schema.json' with { type: 'json' };
import receipt from '../../schemas/receipt.schema.json' with { type: 'json' };
import type { JsonSchema } from '../core/families/types.ts';
import { SchemaError } from '../errors.ts';
import type { ObjectStore } from '../ports.ts';

/** The document types shipped with docbatch (a test keeps this list equal to `schemas/`). */
export const BUILTIN_SCHEMAS: Record<string, JsonSchema> = {
  invoice: invoice as JsonSchema,
  receipt: receipt as JsonSchema,
};

/** Where users put their own document types in the bucket: `schemas/<type>.schema.json`. */
export const BUCKET_SCHEMA_PREFIX = 'schemas/';
const SUFFIX = '.schema.json';

/**
 * User schemas stored in the bucket; a type defined there overrides the built-in one, as
 * `--schemas DIR` does offline. Read once per cold start.
 */
export async function loadStoreSchemas(
  store: ObjectStore,
  prefix = BUCKET_SCHEMA_PREFIX,
): Promise<Record<string, JsonSchema>> {
  const schemas: Record<string, JsonSchema> = {};
  for await (const obj of store.list(prefix)) {
    const name = obj.key.slice(prefix.length);
    if (!name.endsWith(SUFFIX) || name.includes('/')) continue;
    const type = name.slice(0, -SUFFIX.length);
    if (!/^[a-z0-9][a-z0-9_-]*$/i.test(type)) {
      throw new SchemaError(
        `schema object "${obj.key}": the type name "${type}" must be letters, digits, '-' or '_'`,
      );
    }
    try {
      schemas[type] = JSON.parse(await store.getText(obj.key)) as JsonSchema;
    } catch (error) {
      throw new SchemaError(
        `schema object "s3://${store.bucket}/${obj.key}" is not valid JSON: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return schemas;
}
