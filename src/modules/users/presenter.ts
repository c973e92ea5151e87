import type { Static } from 'typebox';
import type { UserRow } from '../../db/types.js';
import type { User } from './schemas.js';

export const iso = (value: Date | null) => (value === null ? null : value.toISOString());

/** A user as the API shows it: never the password hash. */
export function presentUser(row: UserRow): Static<typeof User> {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    customer_emails: row.customer_emails,
    disabled: row.disabled_at !== null,
    disabled_at: iso(row.disabled_at),
    last_login_at: iso(row.last_login_at),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    version: row.version,
  };
}
