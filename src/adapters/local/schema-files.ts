import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonSchema } from '../../core/families/types.ts';
import { SchemaError } from '../../errors.ts';

const SUFFIX = '.schema.json';

/** Schemas shipped with docbatch: `<repo>/schemas/<type>.schema.json`. */
export const BUILTIN_SCHEMA_DIR = new URL('../../../schemas/', import.meta.url).pathname;

/** `<dir>/<type>.schema.json` → { type: schema }. Later directories override earlier ones. */
export async function loadSchemaDirs(dirs: readonly string[]): Promise<Record<string, JsonSchema>> {
  const schemas: Record<string, JsonSchema> = {};
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      throw new SchemaError(`cannot read schema directory "${dir}": ${(error as Error).message}`, {
        cause: error,
      });
    }
    for (const name of names.filter((n) => n.endsWith(SUFFIX)).sort()) {
      const type = name.slice(0, -SUFFIX.length);
      if (!/^[a-z0-9][a-z0-9_-]*$/i.test(type)) {
        throw new SchemaError(
          `schema file "${name}": the type name "${type}" must be letters, digits, '-' or '_'`,
        );
      }
      try {
        schemas[type] = JSON.parse(await readFile(join(dir, name), 'utf8')) as JsonSchema;
      } catch (error) {
        throw new SchemaError(
          `schema file "${join(dir, name)}" is not valid JSON: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }
  return schemas;
}
