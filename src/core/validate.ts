import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import type { Reason } from '../errors.ts';
import { SchemaError } from '../errors.ts';
import type { JsonSchema } from './families/types.ts';

// ajv-formats is CommonJS with `exports.default`: Node's ESM loader and TypeScript disagree on
// where the function sits, so take it from wherever it is.
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const formatsModule = addFormatsModule as unknown as { default: AddFormats | { default: AddFormats } };
const addFormats: AddFormats =
  typeof formatsModule.default === 'function' ? formatsModule.default : formatsModule.default.default;

function reasonFromAjv(e: ErrorObject): Reason {
  const path = e.instancePath || '/';
  let detail = e.message ?? 'is invalid';
  if (e.keyword === 'required')
    detail = `missing required property "${(e.params as { missingProperty: string }).missingProperty}"`;
  if (e.keyword === 'additionalProperties') {
    detail = `has a property the schema does not define: "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  }
  return { code: `schema.${e.keyword}`, message: `${path} ${detail}`, path };
}

/** The document types known to a run: JSON Schemas compiled once each. */
export class SchemaRegistry {
  readonly #schemas = new Map<string, JsonSchema>();
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #ajv = new Ajv2020({ allErrors: true, strict: false });

  constructor(schemas: Record<string, JsonSchema>) {
    addFormats(this.#ajv);
    for (const [type, schema] of Object.entries(schemas)) {
      if (schema.type !== 'object' || !schema.properties) {
        throw new SchemaError(
          `schema "${type}" must be an object schema with "properties" (received type ${JSON.stringify(schema.type)})`,
        );
      }
      try {
        // Compile without $id so two schemas may share one (a user override of a built-in type).
        const { $id: _id, ...compilable } = schema;
        this.#validators.set(type, this.#ajv.compile(compilable));
      } catch (error) {
        throw new SchemaError(`schema "${type}" does not compile: ${(error as Error).message}`, {
          cause: error,
        });
      }
      this.#schemas.set(type, schema);
    }
  }

  types(): string[] {
    return [...this.#schemas.keys()].sort();
  }

  has(type: string): boolean {
    return this.#schemas.has(type);
  }

  schema(type: string): JsonSchema {
    const schema = this.#schemas.get(type);
    if (!schema)
      throw new SchemaError(`unknown document type "${type}"; known types: ${this.types().join(', ')}`);
    return schema;
  }

  /** Empty when the record is valid; otherwise one reason per failing keyword, with its JSON pointer. */
  validate(type: string, record: unknown): Reason[] {
    const validator = this.#validators.get(type);
    if (!validator)
      throw new SchemaError(`unknown document type "${type}"; known types: ${this.types().join(', ')}`);
    return validator(record) ? [] : (validator.errors ?? []).map(reasonFromAjv);
  }
}
