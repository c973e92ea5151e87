import { sql, type OperationNodeSource, type RawBuilder } from 'kysely';

/** `lower(<column>) in (…)`: a customer's own tickets; no emails means nothing matches. */
export function customerEmailIn(column: 'customer_email' | 'tickets.customer_email', emails: readonly string[]): RawBuilder<boolean> {
  if (emails.length === 0) return sql<boolean>`false`;
  return sql<boolean>`lower(${sql.ref(column)}) in (${sql.join(emails.map((email) => email.toLowerCase()))})`;
}

/** `%…%` for a case-insensitive contains match, with the user's own % and _ taken literally. */
export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * One statement, one round trip (issue 19): `with part_0 as (<part>), part_1 as (…) <main>`. PostgreSQL runs every
 * data-modifying part with the main statement, once, whether or not anything reads it, in no set order (rows whose
 * order matters, such as history entries, go in one part); all of them see the snapshot the statement started with
 * (none sees another's rows), and their triggers fire at its end.
 */
export function withParts<T>(parts: readonly OperationNodeSource[], main: OperationNodeSource): RawBuilder<T> {
  if (parts.length === 0) return sql<T>`${main}`;
  return sql<T>`with ${sql.join(parts.map((part, index) => sql`${sql.raw(`part_${index}`)} as (${part})`))} ${main}`;
}

/**
 * As `withParts`, but all or nothing on `write` (a data-modifying statement with RETURNING): when it changes no row
 * (an optimistic write whose row moved on meanwhile), the whole statement fails with SQLSTATE 40001 and none of the
 * parts stays (`expect_row`, migration 0027). Returns `write`'s rows.
 */
export function withPartsIfWritten<T>(parts: readonly OperationNodeSource[], write: OperationNodeSource): RawBuilder<T> {
  const written = sql.raw(`part_${parts.length}`);
  return sql<T>`with ${sql.join([...parts, write].map((part, index) => sql`${sql.raw(`part_${index}`)} as (${part})`))}
    select w.* from (select expect_row(exists (select 1 from ${written})) as ok) g left join ${written} w on true`;
}
