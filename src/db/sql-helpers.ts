import { sql, type RawBuilder } from 'kysely';

/** `lower(<column>) in (…)`: a customer's own tickets; no emails means nothing matches. */
export function customerEmailIn(column: 'customer_email' | 'tickets.customer_email', emails: readonly string[]): RawBuilder<boolean> {
  if (emails.length === 0) return sql<boolean>`false`;
  return sql<boolean>`lower(${sql.ref(column)}) in (${sql.join(emails.map((email) => email.toLowerCase()))})`;
}

/** `%…%` for a case-insensitive contains match, with the user's own % and _ taken literally. */
export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
