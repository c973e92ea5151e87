import { Type, type Static, type TSchema } from 'typebox';

export const ErrorDetailSchema = Type.Object({
  field: Type.String({ description: 'The field (or query parameter, header) at fault, dotted for nested fields' }),
  problem: Type.String({ description: 'What is wrong with it, in words' }),
});

/** The error envelope, registered once as a shared schema (`app.addSchema`). */
export const ErrorBodySchema = Type.Object(
  {
    success: Type.Literal(false),
    message: Type.String(),
    error: Type.Object({
      code: Type.String({ description: 'VALIDATION_FAILED, NOT_FOUND, CONFLICT, VERSION_MISMATCH, …' }),
      details: Type.Array(ErrorDetailSchema),
    }),
    data: Type.Optional(Type.Unknown()),
    timestamp: Type.String({ format: 'date-time' }),
  },
  { $id: 'ErrorBody', additionalProperties: true },
);
export type ErrorBodyType = Static<typeof ErrorBodySchema>;

/** Routes answer errors with a reference to the shared schema, so OpenAPI lists it once. */
export const ErrorBody = Type.Unsafe<ErrorBodyType>({ $ref: 'ErrorBody#' });

export const PageSchema = Type.Object({
  limit: Type.Integer(),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` to get the next page; null on the last page' }),
  total: Type.Optional(Type.Integer({ description: 'Present with `count=true`' })),
});
export type Page = Static<typeof PageSchema>;

/** The success envelope of every `/api` answer (the OPS backend's shape). */
export function Envelope<T extends TSchema>(data: T) {
  return Type.Object({
    success: Type.Literal(true),
    message: Type.String(),
    data,
    timestamp: Type.String({ format: 'date-time' }),
  });
}

export function ListEnvelope<T extends TSchema>(item: T) {
  return Type.Object({
    success: Type.Literal(true),
    message: Type.String(),
    data: Type.Array(item),
    page: PageSchema,
    timestamp: Type.String({ format: 'date-time' }),
  });
}

export function ok<T>(data: T, message = 'ok') {
  return { success: true as const, message, data, timestamp: new Date().toISOString() };
}

export function okList<T>(data: T[], page: Page, message = 'ok') {
  return { success: true as const, message, data, page, timestamp: new Date().toISOString() };
}

/** A keyset page of a list route, each item presented, with "N <noun>(s)" as its message. */
export function okPage<T, O>(page: { items: T[]; nextCursor: string | null }, limit: number, present: (item: T) => O, noun: string) {
  return okList(
    page.items.map((item) => present(item)),
    { limit, next_cursor: page.nextCursor },
    `${page.items.length} ${noun}(s)`,
  );
}
