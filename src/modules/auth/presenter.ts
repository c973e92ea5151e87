import type { Static } from 'typebox';
import type { ApiTokenRow } from '../../db/types.js';
import { iso } from '../users/presenter.js';
import type { ApiToken } from './schemas.js';

/** A token as the API shows it: never the hash. */
export function presentToken(row: ApiTokenRow): Static<typeof ApiToken> {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    user_id: row.user_id,
    scope: row.scope,
    expires_at: iso(row.expires_at),
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
  };
}
