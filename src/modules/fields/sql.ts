import { sql, type RawBuilder } from 'kysely';
import { fieldKeyRegExp } from './values.js';

// SQL expressions over `tickets.fields`, pure (no table access): the fields repository and the search module's SQL
// both build on them, so they live outside the repository, which is private to this module.

/**
 * A field's value in a ticket row. The key is inlined, not a parameter: an expression index is only used by a
 * query spelling the same expression. Keys are checked against the key pattern first, so nothing else gets in.
 */
export function fieldValueSql(key: string): RawBuilder<unknown> {
  if (!fieldKeyRegExp.test(key)) throw new Error(`not a field key: ${key}`);
  return sql`(fields -> ${sql.lit(key)})`;
}

/** The field as text (dates and date-times sort as text: they are stored as UTC ISO strings). */
export function fieldTextSql(key: string): RawBuilder<string | null> {
  if (!fieldKeyRegExp.test(key)) throw new Error(`not a field key: ${key}`);
  return sql<string | null>`(fields ->> ${sql.lit(key)})`;
}

/** The field as a number (null when it holds anything else), as migration 0015's `ticket_field_number`. */
export function fieldNumberSql(key: string): RawBuilder<number | null> {
  return sql<number | null>`ticket_field_number(${fieldValueSql(key)})`;
}
