import { randomUUID } from 'node:crypto';
import { sql, type Updateable } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { Db, Executor, Tx } from '../../db/database.js';
import { decodeCursor, encodeCursor } from '../../db/keyset.js';
import type { UserRole, UserRow, UsersTable } from '../../db/types.js';
import { AppError, fail, invalid, notFound } from '../../errors.js';
import { assertCan, systemActor, type Actor } from '../access/policy.js';
import type { AuditLog } from '../audit/service.js';
import { hashPassword } from '../auth/secrets.js';
import { UsersRepository } from './repository.js';
import type { UserCreate, UserPatch } from './schemas.js';

export type UserListQuery = {
  role?: UserRole;
  q?: string;
  limit: number;
  cursor?: string;
};

/**
 * What a change to a user does to their sign-ins, which the auth module keeps (sessions, API tokens, the cache of
 * checked tokens). The auth services use this one, so src/services.ts hands them in in this shape: no import cycle.
 */
export type UserCredentials = {
  /** Ends every session of the user, in the caller's transaction. */
  endSessions(tx: Tx, userId: string): Promise<void>;
  /** Revokes every API token of the user, in the caller's transaction; answers how many. */
  revokeTokens(tx: Tx, userId: string, at: Date): Promise<number>;
  /** Forgets every cached token check: a cached token must not outlive its user's new role or state. */
  forget(): void;
};

const lower = (emails: string[]) => [...new Set(emails.map((email) => email.trim().toLowerCase()))];

/** Users and roles (admin only). Disabling a user ends their sessions and revokes their tokens in the same step. */
export class UsersService {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly config: Config;
  private readonly users = new UsersRepository();

  constructor(
    context: { config: Config; database: { db: Db }; clock: Clock },
    private readonly audit: AuditLog,
    /** Ended or forgotten after every change to a user that affects them. */
    private readonly credentials: UserCredentials,
  ) {
    this.db = context.database.db;
    this.clock = context.clock;
    this.config = context.config;
  }

  // The user rows for the auth module's services (sign-in, tokens, the first admin): the users table stays private to
  // this module (issue 21). Their callers have checked their own permission.

  findById(db: Executor, id: string): Promise<UserRow | undefined> {
    return this.users.findById(db, id);
  }

  findByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
    return this.users.findByEmail(db, email);
  }

  firstActiveAdmin(db: Executor): Promise<UserRow | undefined> {
    return this.users.firstActiveAdmin(db);
  }

  recordLogin(tx: Tx, id: string, at: Date): Promise<UserRow> {
    return this.users.update(tx, id, { last_login_at: at });
  }

  /**
   * The first admin, with this email and password hash, unless a user exists already (then null). Several instances
   * may start at once on one PostgreSQL server: one creates the admin.
   */
  async createFirstAdmin(email: string, passwordHash: string): Promise<UserRow | null> {
    return this.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(4011)`.execute(tx);
      if ((await this.users.count(tx)) > 0) return null;
      const now = this.clock.now();
      const admin = await this.users.insert(tx, {
        id: randomUUID(),
        email,
        name: 'Administrator',
        role: 'admin',
        password_hash: passwordHash,
        created_at: now,
        updated_at: now,
      });
      await this.audit.record(tx, {
        actor: systemActor,
        action: 'user.created',
        target: { type: 'user', id: admin.id },
        details: { email: admin.email, role: 'admin', bootstrap: true },
      });
      return admin;
    });
  }

  async list(actor: Actor, query: UserListQuery): Promise<{ items: UserRow[]; nextCursor: string | null }> {
    assertCan(actor, 'user:read');
    const afterEmail = query.cursor === undefined ? undefined : String(decodeCursor(query.cursor, 1)[0]);
    const rows = await this.users.list(this.db, { role: query.role, q: query.q, afterEmail }, query.limit + 1);
    const items = rows.slice(0, query.limit);
    return {
      items,
      nextCursor: rows.length > query.limit ? encodeCursor([items[items.length - 1].email]) : null,
    };
  }

  /** The signed-in user's own record. */
  async self(actor: Actor): Promise<UserRow> {
    assertCan(actor, 'account:read');
    return (actor.id === null ? undefined : await this.users.findById(this.db, actor.id)) ?? notFound('user', actor.name);
  }

  async get(actor: Actor, id: string): Promise<UserRow> {
    assertCan(actor, 'user:read');
    return (await this.users.findById(this.db, id)) ?? notFound('user', id);
  }

  async create(actor: Actor, input: UserCreate): Promise<UserRow> {
    assertCan(actor, 'user:manage');
    const email = input.email.trim().toLowerCase();
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password, this.config.auth.passwordHashCost);
    return this.db.transaction().execute(async (tx) => {
      if (await this.users.findByEmail(tx, email)) fail('CONFLICT', `a user with email ${email} already exists`);
      const now = this.clock.now();
      const user = await this.users.insert(tx, {
        id: randomUUID(),
        email,
        name: input.name ?? email.split('@')[0],
        role: input.role,
        password_hash: passwordHash,
        customer_emails: customerEmails(input.role, email, input.customer_emails),
        created_at: now,
        updated_at: now,
      });
      await this.audit.record(tx, {
        actor,
        action: 'user.created',
        target: { type: 'user', id: user.id },
        details: {
          email,
          role: user.role,
          customer_emails: user.customer_emails,
          password_set: passwordHash !== null,
        },
      });
      return user;
    });
  }

  async update(actor: Actor, id: string, patch: UserPatch): Promise<UserRow> {
    assertCan(actor, 'user:manage');
    const passwordHash = typeof patch.password === 'string' ? await hashPassword(patch.password, this.config.auth.passwordHashCost) : null;
    return this.db
      .transaction()
      .execute(async (tx) => {
        const user = (await this.users.lock(tx, id)) ?? notFound('user', id);
        if (patch.version !== undefined && patch.version !== user.version) {
          throw new AppError('VERSION_MISMATCH', `user ${id} is at version ${user.version}, not ${patch.version}`);
        }
        const now = this.clock.now();
        const changes: Updateable<UsersTable> = {};
        const changed: Record<string, unknown> = {};
        const note = (field: string, from: unknown, to: unknown) => (changed[field] = { old: from, new: to });

        if (patch.email !== undefined && patch.email.toLowerCase() !== user.email) {
          const email = patch.email.trim().toLowerCase();
          if (await this.users.findByEmail(tx, email)) fail('CONFLICT', `a user with email ${email} already exists`);
          changes.email = email;
          note('email', user.email, email);
        }
        if (patch.name !== undefined && patch.name !== user.name) {
          changes.name = patch.name;
          note('name', user.name, patch.name);
        }
        const role = patch.role ?? user.role;
        if (role !== user.role) {
          changes.role = role;
          note('role', user.role, role);
        }
        if (patch.customer_emails !== undefined || role !== user.role) {
          const emails = customerEmails(
            role,
            changes.email ?? user.email,
            patch.customer_emails ?? (role === 'customer' && user.role === 'customer' ? user.customer_emails : undefined),
          );
          if (JSON.stringify(emails) !== JSON.stringify(user.customer_emails)) {
            changes.customer_emails = emails;
            note('customer_emails', user.customer_emails, emails);
          }
        }
        const disable = patch.disabled === true && user.disabled_at === null;
        if (disable) changes.disabled_at = now;
        if (patch.disabled === false && user.disabled_at !== null) changes.disabled_at = null;
        if (patch.password !== undefined) {
          changes.password_hash = passwordHash;
          changed.password = patch.password === null ? 'removed' : 'changed';
        }
        if ((disable || (user.role === 'admin' && role !== 'admin')) && user.disabled_at === null) {
          await this.assertNotLastAdmin(tx, user);
        }
        if (Object.keys(changes).length === 0) return user;

        const next = await this.users.update(tx, id, {
          ...changes,
          updated_at: now,
        });
        // A new password or a disabled account ends every session at once; disabling also revokes the tokens.
        if (disable || patch.password !== undefined) await this.credentials.endSessions(tx, id);
        const revokedTokens = disable ? await this.credentials.revokeTokens(tx, id, now) : 0;
        const target = { type: 'user', id };
        if (Object.keys(changed).length > 0)
          await this.audit.record(tx, {
            actor,
            action: 'user.updated',
            target,
            details: changed,
          });
        if (disable)
          await this.audit.record(tx, {
            actor,
            action: 'user.disabled',
            target,
            details: { revoked_tokens: revokedTokens },
          });
        if (changes.disabled_at === null) await this.audit.record(tx, { actor, action: 'user.enabled', target });
        return next;
      })
      .finally(() => this.credentials.forget());
  }

  async delete(actor: Actor, id: string): Promise<UserRow> {
    assertCan(actor, 'user:manage');
    return this.db
      .transaction()
      .execute(async (tx) => {
        const user = (await this.users.lock(tx, id)) ?? notFound('user', id);
        if (user.id === actor.id) fail('CONFLICT', 'you cannot delete your own account; ask another admin');
        if (user.role === 'admin' && user.disabled_at === null) await this.assertNotLastAdmin(tx, user);
        // Sessions and tokens go with the user (foreign keys cascade); history keeps the actor's id and name.
        await this.users.delete(tx, id);
        await this.audit.record(tx, {
          actor,
          action: 'user.deleted',
          target: { type: 'user', id },
          details: { email: user.email, role: user.role },
        });
        return user;
      })
      .finally(() => this.credentials.forget());
  }

  private async assertNotLastAdmin(tx: Tx, user: UserRow): Promise<void> {
    if ((await this.users.otherActiveAdmins(tx, user.id)) === 0) {
      fail('CONFLICT', `${user.email} is the last active admin; make another admin first`);
    }
  }
}

/** A customer sees the tickets of these emails: the ones given, else their own. Other roles need none. */
function customerEmails(role: UserRole, email: string, given: string[] | undefined): string[] {
  if (role !== 'customer') return given === undefined ? [] : lower(given);
  const emails = lower(given ?? []);
  if (emails.length === 0) {
    if (given !== undefined && given.length === 0)
      invalid([
        {
          field: 'customer_emails',
          problem: 'a customer needs at least one email',
        },
      ]);
    return [email];
  }
  return emails;
}
