import { Type, type TSchema } from 'typebox';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });

/** Path parameter for a resource id; a malformed id answers 404 like an unknown one, so no pattern here. */
export const IdParams = Type.Object({ id: Type.String({ description: 'The id, or the sequential number' }) });

/** `If-Match: "3"`, `W/"3"` or `3` → 3; anything else is ignored as absent. */
export function versionFromIfMatch(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  return match ? Number(match[1]) : undefined;
}
