import { Ajv, type Options } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';

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
    withSharedSchemas(httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object),
  );
}
