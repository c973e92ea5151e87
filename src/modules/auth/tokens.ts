import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { Db, Tx } from '../../db/database.js';
import { decodeCursor, encodeCursor } from '../../db/keyset.js';
import { unlessOutOfStorage } from '../../db/storage.js';
import type { ApiTokenRow } from '../../db/types.js';
import { AppError, invalid, notFound } from '../../errors.js';
import { assertCan, can, systemActor, type Actor } from '../access/policy.js';
import type { AuditLog } from '../audit/service.js';
import type { TtlCache } from '../../ttl-cache.js';
import type { UsersService } from '../users/service.js';
import { TokensRepository, type TokenWithUser } from './repository.js';
import { randomSecret, sha256 } from './secrets.js';
import { actorOf } from './service.js';

export type { TokenWithUser };

export type TokenInput = {
  name: string;
  scope?: 'read' | 'read-write';
  expires_at?: string;
  user_id?: string;
};
export type TokenListQuery = {
  user_id?: string;
  limit: number;
  cursor?: string;
};

/** What every API token starts with, so a leaked one is easy to find (secret scanners, logs). */
export const TOKEN_PREFIX = 'stl_';
const ADMIN_TOKEN_NAME = 'ADMIN_API_TOKEN';
const MINUTE = 60_000;

/** API tokens: shown once at creation, stored as SHA-256, optional expiry, read or read-write, revocable. */
export class TokensService {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly config: Config;
  private readonly tokens = new TokensRepository();

  constructor(
    context: { config: Config; database: { db: Db }; clock: Clock },
    private readonly audit: AuditLog,
    private readonly users: Pick<UsersService, 'findById' | 'firstActiveAdmin'>,
    /** Cleared by the users service too (through `forget`) when a user changes. */
    readonly credentials: TtlCache<TokenWithUser>,
  ) {
    this.db = context.database.db;
    this.clock = context.clock;
    this.config = context.config;
  }

  /** The actor behind a bearer token, or null when unknown, revoked, expired or its user is disabled. */
  async authenticate(token: string, ip: string): Promise<Actor | null> {
    if (token.length > 500) return null;
    const hash = sha256(token);
    let found = this.credentials.get(hash);
    if (!found) {
      found = await this.tokens.findByHash(this.db, hash);
      if (!found) return null;
      this.credentials.set(hash, found);
    }
    const now = this.clock.now();
    const { token: row, user } = found;
    if (row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now) || user.disabled_at !== null) return null;
    if (row.last_used_at === null || now.getTime() - row.last_used_at.getTime() >= MINUTE) {
      await this.tokens.touch(this.db, row.id, now).catch(unlessOutOfStorage);
      row.last_used_at = now;
    }
    return actorOf(user, 'token', row.scope, ip);
  }

  /** Revokes every token of a user, in the caller's transaction (the users module's, when it disables one). */
  revokeForUser(tx: Tx, userId: string, at: Date): Promise<number> {
    return this.tokens.revokeForUser(tx, userId, at);
  }

  /** Forgets every cached token check (the users module calls it after changing a user). */
  forget(): void {
    this.credentials.clear();
  }

  async create(actor: Actor, input: TokenInput): Promise<{ token: ApiTokenRow; secret: string }> {
    assertCan(actor, 'account:write');
    const ownerId = input.user_id ?? actor.id ?? notFound('user', 'of this request');
    if (ownerId !== actor.id) assertCan(actor, 'user:manage');
    const now = this.clock.now();
    const expiresAt = input.expires_at === undefined ? null : new Date(input.expires_at);
    if (expiresAt && expiresAt <= now) invalid([{ field: 'expires_at', problem: 'must be in the future' }]);
    const secret = `${TOKEN_PREFIX}${randomSecret()}`;
    const token = await this.db.transaction().execute(async (tx) => {
      const owner = (await this.users.findById(tx, ownerId)) ?? notFound('user', ownerId);
      if (owner.disabled_at !== null) throw new AppError('CONFLICT', `user ${owner.email} is disabled`);
      const created = await this.tokens.insert(tx, {
        id: randomUUID(),
        user_id: owner.id,
        name: input.name,
        token_hash: sha256(secret),
        prefix: secret.slice(0, TOKEN_PREFIX.length + 4),
        scope: input.scope ?? 'read-write',
        expires_at: expiresAt,
        created_by: actor.id,
        created_at: now,
      });
      await this.audit.record(tx, {
        actor,
        action: 'token.created',
        target: { type: 'token', id: created.id },
        details: {
          name: created.name,
          user_id: owner.id,
          scope: created.scope,
          expires_at: expiresAt?.toISOString() ?? null,
        },
      });
      return created;
    });
    return { token, secret };
  }

  async list(actor: Actor, query: TokenListQuery): Promise<{ items: ApiTokenRow[]; nextCursor: string | null }> {
    assertCan(actor, 'account:read');
    const ownerId = query.user_id ?? actor.id ?? notFound('user', 'of this request');
    if (ownerId !== actor.id) assertCan(actor, 'user:read');
    let after: { createdAt: Date; id: string } | undefined;
    if (query.cursor !== undefined) {
      const [createdAt, id] = decodeCursor(query.cursor, 2);
      if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt)) || typeof id !== 'string') {
        invalid([{ field: 'cursor', problem: 'is not a cursor this list gave out' }]);
      }
      after = { createdAt: new Date(createdAt), id };
    }
    const rows = await this.tokens.listForUser(this.db, ownerId, query.limit + 1, after);
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > query.limit ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    };
  }

  async revoke(actor: Actor, id: string): Promise<ApiTokenRow> {
    assertCan(actor, 'account:write');
    return this.db
      .transaction()
      .execute(async (tx) => {
        const existing = await this.tokens.findById(tx, id);
        // Another user's token is "not found" unless you manage users: no telling which ids exist.
        if (!existing || existing.revoked_at !== null || (existing.user_id !== actor.id && !can(actor, 'user:manage'))) {
          return notFound('token', id);
        }
        const revoked = (await this.tokens.revoke(tx, id, this.clock.now())) ?? notFound('token', id);
        await this.audit.record(tx, {
          actor,
          action: 'token.revoked',
          target: { type: 'token', id },
          details: { name: revoked.name, user_id: revoked.user_id },
        });
        return revoked;
      })
      .finally(() => this.credentials.clear());
  }

  /** `ADMIN_API_TOKEN`: an admin token with exactly this value exists (replacing one made from an older value). */
  async ensureAdminToken(log: FastifyBaseLogger): Promise<void> {
    const value = this.config.auth.adminApiToken;
    if (value === null) return;
    const hash = sha256(value);
    await this.db
      .transaction()
      .execute(async (tx) => {
        const now = this.clock.now();
        let current: ApiTokenRow | undefined;
        for (const token of await this.tokens.findActiveByName(tx, ADMIN_TOKEN_NAME)) {
          const owner = await this.users.findById(tx, token.user_id);
          if (token.token_hash === hash && owner?.role === 'admin' && owner.disabled_at === null && token.expires_at === null)
            current = token;
          else await this.tokens.revoke(tx, token.id, now);
        }
        if (current) return;
        const admin = await this.users.firstActiveAdmin(tx);
        if (!admin) {
          log.warn('ADMIN_API_TOKEN is set but there is no active admin to own it');
          return;
        }
        // The same value may still sit on a revoked token: replace it (token hashes are unique).
        const stale = await this.tokens.findByHash(tx, hash);
        if (stale) await this.tokens.delete(tx, stale.token.id);
        const created = await this.tokens.insert(tx, {
          id: randomUUID(),
          user_id: admin.id,
          name: ADMIN_TOKEN_NAME,
          token_hash: hash,
          prefix: value.slice(0, 4),
          scope: 'read-write',
          created_by: null,
          created_at: now,
        });
        await this.audit.record(tx, {
          actor: systemActor,
          action: 'token.created',
          target: { type: 'token', id: created.id },
          details: { name: ADMIN_TOKEN_NAME, user_id: admin.id },
        });
      })
      .finally(() => this.credentials.clear());
  }
}
