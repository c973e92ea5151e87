import { sql, type Insertable } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import type { ApiTokenRow, ApiTokensTable, SessionsTable, UserRow } from '../../db/types.js';

export type SessionWithUser = {
  session: {
    id: string;
    csrf_hash: string;
    last_seen_at: Date;
    expires_at: Date;
  };
  user: UserRow;
};
export type TokenWithUser = { token: ApiTokenRow; user: UserRow };

const userColumns = [
  'users.id',
  'users.email',
  'users.name',
  'users.role',
  'users.password_hash',
  'users.customer_emails',
  'users.disabled_at',
  'users.last_login_at',
  'users.created_at',
  'users.updated_at',
  'users.version',
] as const;

export class SessionsRepository {
  async insert(db: Executor, row: Insertable<SessionsTable>): Promise<void> {
    await db.insertInto('sessions').values(row).execute();
  }

  async find(db: Executor, id: string): Promise<SessionWithUser | undefined> {
    const row = await db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['sessions.id as session_id', 'sessions.csrf_hash', 'sessions.last_seen_at', 'sessions.expires_at', ...userColumns])
      .where('sessions.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const { session_id, csrf_hash, last_seen_at, expires_at, ...user } = row;
    return {
      session: { id: session_id, csrf_hash, last_seen_at, expires_at },
      user,
    };
  }

  async touch(db: Executor, id: string, at: Date): Promise<void> {
    await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
  }

  async delete(db: Executor, id: string): Promise<void> {
    await db.deleteFrom('sessions').where('id', '=', id).execute();
  }

  async deleteForUser(db: Executor, userId: string): Promise<void> {
    await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }

  /** Sessions past their absolute expiry or idle too long, for one user (housekeeping at login). */
  /** This user's sessions that are over (idle or absolute), and anybody's past their absolute expiry (indexed). */
  async deleteExpired(db: Executor, userId: string, now: Date, idleSince: Date): Promise<void> {
    await db
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleSince)]))
      .execute();
    await db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
  }
}

export class TokensRepository {
  insert(db: Executor, row: Insertable<ApiTokensTable>): Promise<ApiTokenRow> {
    return db.insertInto('api_tokens').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async findByHash(db: Executor, hash: string): Promise<TokenWithUser | undefined> {
    const row = await db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .select([
        'api_tokens.id as token_id',
        'api_tokens.user_id',
        'api_tokens.name as token_name',
        'api_tokens.token_hash',
        'api_tokens.prefix',
        'api_tokens.scope',
        'api_tokens.expires_at',
        'api_tokens.last_used_at',
        'api_tokens.revoked_at',
        'api_tokens.created_by',
        'api_tokens.created_at as token_created_at',
        ...userColumns,
      ])
      .where('api_tokens.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    const {
      token_id,
      user_id,
      token_name,
      token_hash,
      prefix,
      scope,
      expires_at,
      last_used_at,
      revoked_at,
      created_by,
      token_created_at,
      ...user
    } = row;
    return {
      token: {
        id: token_id,
        user_id,
        name: token_name,
        token_hash,
        prefix,
        scope,
        expires_at,
        last_used_at,
        revoked_at,
        created_by,
        created_at: token_created_at,
      },
      user,
    };
  }

  findById(db: Executor, id: string): Promise<ApiTokenRow | undefined> {
    return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findActiveByName(db: Executor, name: string): Promise<ApiTokenRow[]> {
    return db.selectFrom('api_tokens').selectAll().where('name', '=', name).where('revoked_at', 'is', null).execute();
  }

  async touch(db: Executor, id: string, at: Date): Promise<void> {
    await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  revoke(db: Executor, id: string, at: Date): Promise<ApiTokenRow | undefined> {
    return db
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  async delete(db: Executor, id: string): Promise<void> {
    await db.deleteFrom('api_tokens').where('id', '=', id).execute();
  }

  async revokeForUser(db: Executor, userId: string, at: Date): Promise<number> {
    const result = await db
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** A user's tokens not revoked, newest first; keyset on (created_at, id) of the api_tokens_user index. */
  listForUser(db: Executor, userId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<ApiTokenRow[]> {
    let query = db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null);
    if (after) query = query.where(sql<boolean>`(created_at, id) < (cast(${after.createdAt.toISOString()} as timestamptz), ${after.id})`);
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }
}

export class LoginThrottleRepository {
  async blockedUntil(db: Executor, keys: string[]): Promise<Date | null> {
    const row = await db
      .selectFrom('login_throttle')
      .select((eb) => eb.fn.max('blocked_until').as('until'))
      .where('key', 'in', keys)
      .executeTakeFirst();
    return row?.until ? new Date(row.until as Date) : null;
  }

  /** Counts one more failure (starting over when the last one is older than `windowStart`); returns the count. */
  async addFailure(tx: Tx, key: string, now: Date, windowStart: Date): Promise<number> {
    const row = await tx
      .insertInto('login_throttle')
      .values({ key, failures: 1, last_failure_at: now, blocked_until: null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql`case when login_throttle.last_failure_at > cast(${windowStart.toISOString()} as timestamptz) then login_throttle.failures + 1 else 1 end`,
          last_failure_at: now,
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    return row.failures;
  }

  async block(tx: Tx, key: string, until: Date | null): Promise<void> {
    await tx.updateTable('login_throttle').set({ blocked_until: until }).where('key', '=', key).execute();
  }

  /** Entries whose last failure is older than `before` and that block nothing any more. */
  async purgeStale(db: Executor, before: Date, now: Date): Promise<void> {
    await db
      .deleteFrom('login_throttle')
      .where('last_failure_at', '<', before)
      .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<=', now)]))
      .execute();
  }

  async clear(db: Executor, key: string): Promise<void> {
    await db.deleteFrom('login_throttle').where('key', '=', key).execute();
  }
}
