import { Ajv, type Options } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';

type JsonSchema = Record<string, unknown>;

/** Strings in URLs and headers; a cursor carries a sort key (a subject of up to 500 characters), base64-encoded. */
const TEXT_MAX_LENGTH = 4096;
/** 500 characters are at most 2,000 UTF-8 bytes: under the 2,704 a btree index entry may hold. */
const BODY_TEXT_MAX_LENGTH = 500;
const INT4 = { minimum: -2_147_483_648, maximum: 2_147_483_647 };

const has = (schema: JsonSchema, ...keys: string[]) => keys.some((key) => schema[key] !== undefined);

/**
 * Every string, integer and number a route takes gets bounds the database can hold when its schema sets none: a
 * string at most 4,096 characters in a URL or header and 500 in a body (longer fields say so), an integer one
 * PostgreSQL `integer` holds (int8 fields say so), a number no bigger than a safe integer. The body itself (an
 * import's text) is bounded by the body limit. Copies; the route's schema (and OpenAPI) is left as declared.
 */
export function withStorableBounds(schema: unknown, maxLength: number, isRoot = true): unknown {
  if (Array.isArray(schema)) return schema.map((item) => withStorableBounds(item, maxLength, false));
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: JsonSchema = {};
  for (const [key, value] of Object.entries(schema as JsonSchema)) {
    const nested = key === 'properties' || key === 'patternProperties' || key === '$defs' || key === 'definitions';
    copy[key] = nested
      ? Object.fromEntries(Object.entries(value as JsonSchema).map(([name, item]) => [name, withStorableBounds(item, maxLength, false)]))
      : key === 'enum' || key === 'const' || key === 'default' || key === 'examples' || key === 'required'
        ? value
        : withStorableBounds(value, maxLength, false);
  }
  const types = [copy.type].flat();
  if (types.includes('string') && !isRoot && !has(copy, 'maxLength', 'enum', 'const')) copy.maxLength = maxLength;
  if (types.includes('integer')) {
    if (!has(copy, 'minimum', 'exclusiveMinimum')) copy.minimum = INT4.minimum;
    if (!has(copy, 'maximum', 'exclusiveMaximum')) copy.maximum = INT4.maximum;
  } else if (types.includes('number')) {
    if (!has(copy, 'minimum', 'exclusiveMinimum')) copy.minimum = -Number.MAX_SAFE_INTEGER;
    if (!has(copy, 'maximum', 'exclusiveMaximum')) copy.maximum = Number.MAX_SAFE_INTEGER;
  }
  return copy;
}

/**
 * Two validators: query strings, params and headers arrive as text and are coerced to the schema's
 * types; bodies are JSON and are not. (Coercing bodies would turn `null` into `""` inside a nullable
 * field's `anyOf`, and would let `"5"` pass for a number.)
 */
export function registerValidators(app: FastifyInstance): void {
  const base: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false, addUsedSchema: false };
  const bodyAjv = new Ajv({ ...base, coerceTypes: false });
  const textAjv = new Ajv({ ...base, coerceTypes: 'array' });
  for (const ajv of [bodyAjv, textAjv]) ajvFormats.default(ajv as never);

  const withSharedSchemas = (ajv: Ajv) => {
    for (const [id, schema] of Object.entries(app.getSchemas())) {
      if (!ajv.getSchema(id)) ajv.addSchema(schema as object, id);
    }
    return ajv;
  };

  app.setValidatorCompiler(({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) =>
    withSharedSchemas(httpPart === 'body' ? bodyAjv : textAjv).compile(
      withStorableBounds(schema, httpPart === 'body' ? BODY_TEXT_MAX_LENGTH : TEXT_MAX_LENGTH) as object,
    ),
  );
}
