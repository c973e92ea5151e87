import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../clock.js';
import type { AuthConfig, Config } from '../../config.js';
import type { Db, Tx } from '../../db/database.js';
import { unlessOutOfStorage } from '../../db/storage.js';
import type { UserRow } from '../../db/types.js';
import { AppError } from '../../errors.js';
import { anonymousActor, type Actor } from '../access/policy.js';
import type { AuditLog } from '../audit/service.js';
import type { UsersService } from '../users/service.js';
import { LoginThrottleRepository, SessionsRepository } from './repository.js';
import { hashPassword, randomSecret, sha256, verifyPassword } from './secrets.js';

export type RequestMeta = { ip: string; userAgent?: string };

export type LoginResult = {
  user: UserRow;
  /** The cookie value; only its SHA-256 is stored. */
  sessionToken: string;
  csrfToken: string;
  expiresAt: Date;
};

export type SessionAuth = { actor: Actor; sessionId: string; csrfHash: string };

/** The actor a signed-in user acts as: role and customer emails are read fresh on every request. */
export function actorOf(user: UserRow, via: 'session' | 'token', scope: 'read' | 'read-write', ip: string): Actor {
  return {
    id: user.id,
    name: user.name,
    role: user.role,
    via,
    scope,
    customerEmails: user.customer_emails,
    ip,
  };
}

const MINUTE = 60_000;

/** Sign-in by password (sessions), the throttle in front of it, and the first admin at start-up. */
export class AuthService {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly settings: AuthConfig;
  private readonly sessions = new SessionsRepository();
  private readonly throttle = new LoginThrottleRepository();
  #dummyHash: Promise<string> | undefined;

  constructor(
    context: { config: Config; database: { db: Db }; clock: Clock },
    private readonly audit: AuditLog,
    private readonly users: Pick<UsersService, 'findByEmail' | 'recordLogin' | 'createFirstAdmin'>,
  ) {
    this.db = context.database.db;
    this.clock = context.clock;
    this.settings = context.config.auth;
  }

  async login(email: string, password: string, meta: RequestMeta, previousSessionToken?: string): Promise<LoginResult> {
    const normalized = email.trim().toLowerCase();
    const keys = [`email:${normalized}`, `ip:${meta.ip}`];
    const now = this.clock.now();
    const blockedUntil = await this.throttle.blockedUntil(this.db, keys);
    if (blockedUntil && blockedUntil > now) throw tooManyAttempts(blockedUntil, now);

    const user = await this.users.findByEmail(this.db, normalized);
    // Unknown users cost a hash too, so timing does not tell which emails have accounts.
    const stored = user?.password_hash ?? (await this.dummyHash());
    const passwordMatches = await verifyPassword(password, stored);
    const accepted = user !== undefined && user.password_hash !== null && user.disabled_at === null && passwordMatches;
    if (!accepted) {
      const reason = !user
        ? 'unknown email'
        : user.disabled_at
          ? 'user disabled'
          : user.password_hash === null
            ? 'no password set'
            : 'wrong password';
      await this.db.transaction().execute(async (tx) => {
        await this.throttle.purgeStale(tx, new Date(now.getTime() - this.settings.loginLockMinutes * MINUTE), now);
        const locked = await this.countFailure(tx, keys[0], this.settings.loginMaxFailures, now);
        const ipLocked = await this.countFailure(tx, keys[1], this.settings.loginIpMaxFailures, now);
        const actor = anonymousActor('customer', meta.ip);
        const target = user ? { type: 'user', id: user.id } : null;
        await this.audit.record(tx, {
          actor,
          action: 'auth.login_failed',
          target,
          details: { email: normalized, reason },
        });
        if (locked || ipLocked) {
          await this.audit.record(tx, {
            actor,
            action: 'auth.locked',
            target,
            details: {
              email: locked ? normalized : undefined,
              ip: ipLocked ? meta.ip : undefined,
            },
          });
        }
      });
      throw new AppError('UNAUTHENTICATED', 'email or password is wrong');
    }

    const sessionToken = randomSecret();
    const csrfToken = randomSecret();
    const expiresAt = new Date(now.getTime() + this.settings.sessionMaxHours * 60 * MINUTE);
    const signedIn = await this.db.transaction().execute(async (tx) => {
      await this.throttle.clear(tx, keys[0]);
      // A new session id at every login (no fixation): the one the browser came with ends here.
      if (previousSessionToken) await this.sessions.delete(tx, sha256(previousSessionToken));
      await this.sessions.deleteExpired(tx, user.id, now, this.idleSince(now));
      await this.sessions.insert(tx, {
        id: sha256(sessionToken),
        user_id: user.id,
        csrf_hash: sha256(csrfToken),
        ip: meta.ip,
        user_agent: meta.userAgent?.slice(0, 500) ?? null,
        created_at: now,
        last_seen_at: now,
        expires_at: expiresAt,
      });
      const next = await this.users.recordLogin(tx, user.id, now);
      await this.audit.record(tx, {
        actor: actorOf(user, 'session', 'read-write', meta.ip),
        action: 'auth.login',
        target: { type: 'user', id: user.id },
      });
      return next;
    });
    return { user: signedIn, sessionToken, csrfToken, expiresAt };
  }

  async logout(actor: Actor, sessionToken: string | undefined): Promise<void> {
    if (!sessionToken) return;
    await this.db.transaction().execute(async (tx) => {
      await this.sessions.delete(tx, sha256(sessionToken));
      await this.audit.record(tx, {
        actor,
        action: 'auth.logout',
        target: actor.id ? { type: 'user', id: actor.id } : null,
      });
    });
  }

  /** Ends every session of a user, in the caller's transaction (the users module's, when it disables one). */
  endSessions(tx: Tx, userId: string): Promise<void> {
    return this.sessions.deleteForUser(tx, userId);
  }

  /** The session behind a cookie, or null when unknown, expired (idle or absolute) or its user is disabled. */
  async authenticateSession(sessionToken: string, ip: string): Promise<SessionAuth | null> {
    const id = sha256(sessionToken);
    const found = await this.sessions.find(this.db, id);
    if (!found) return null;
    const now = this.clock.now();
    const { session, user } = found;
    if (session.expires_at <= now || session.last_seen_at <= this.idleSince(now) || user.disabled_at !== null) {
      await this.sessions.delete(this.db, id);
      return null;
    }
    // Written at most every few seconds of activity, not on every request.
    const granularity = Math.min(MINUTE, (this.settings.sessionIdleMinutes * MINUTE) / 10);
    if (now.getTime() - session.last_seen_at.getTime() >= granularity) {
      await this.sessions.touch(this.db, id, now).catch(unlessOutOfStorage);
    }
    return {
      actor: actorOf(user, 'session', 'read-write', ip),
      sessionId: id,
      csrfHash: session.csrf_hash,
    };
  }

  /** The first admin's generated password until the server has shown it (`takeGeneratedAdmin`). */
  private generatedAdmin: { email: string; password: string } | null = null;

  /**
   * On first start (no users), the first admin from ADMIN_EMAIL + ADMIN_PASSWORD, or with a generated password that
   * is never logged: the server shows it once to the person who started it (`takeGeneratedAdmin`).
   */
  async bootstrap(log: FastifyBaseLogger): Promise<void> {
    const generated = this.settings.adminPassword === null ? randomSecret(18) : null;
    const password = this.settings.adminPassword ?? generated!;
    const hash = await hashPassword(password, this.settings.passwordHashCost);
    const created = await this.users.createFirstAdmin(this.settings.adminEmail, hash);
    if (!created) return;
    if (generated) {
      this.generatedAdmin = { email: created.email, password: generated };
      log.warn(
        { email: created.email },
        `first admin created: ${created.email} with a generated password (never logged; change it after signing in)`,
      );
    } else {
      log.info({ email: created.email }, 'first admin created from ADMIN_EMAIL and ADMIN_PASSWORD');
    }
  }

  /** The first admin made at this start with a generated password, once; later calls answer null. */
  takeGeneratedAdmin(): { email: string; password: string } | null {
    const admin = this.generatedAdmin;
    this.generatedAdmin = null;
    return admin;
  }

  private idleSince(now: Date): Date {
    return new Date(now.getTime() - this.settings.sessionIdleMinutes * MINUTE);
  }

  /** One more failure for a key: from half the limit on, a growing wait; at the limit, a lock. Returns whether it locked. */
  private async countFailure(tx: Tx, key: string, max: number, now: Date): Promise<boolean> {
    const lockMs = this.settings.loginLockMinutes * MINUTE;
    const failures = await this.throttle.addFailure(tx, key, now, new Date(now.getTime() - lockMs));
    const backoffFrom = Math.ceil(max / 2);
    if (failures >= max) {
      await this.throttle.block(tx, key, new Date(now.getTime() + lockMs));
      return failures === max;
    }
    if (failures >= backoffFrom) {
      const wait = Math.min(1000 * 2 ** (failures - backoffFrom), lockMs);
      await this.throttle.block(tx, key, new Date(now.getTime() + wait));
    }
    return false;
  }

  private dummyHash(): Promise<string> {
    this.#dummyHash ??= hashPassword(randomSecret(), this.settings.passwordHashCost);
    return this.#dummyHash;
  }
}

function tooManyAttempts(until: Date, now: Date): AppError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new AppError('RATE_LIMITED', `too many failed logins; try again in ${seconds} s`, [], { retry_after_seconds: seconds });
}
