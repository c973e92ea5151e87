import type { Clock } from '../../clock.js';
import { decodeCursor, encodeCursor } from '../../db/keyset.js';
import type { Db, Executor } from '../../db/database.js';
import type { AuditLogRow } from '../../db/types.js';
import { invalid } from '../../errors.js';
import { assertCan, type Actor } from '../access/policy.js';
import { AuditRepository, type AuditFilters, type NewAuditEntry } from './repository.js';

/** One audit entry. Never put a password, token or session id in `details`. */
export type AuditEntry = {
  actor: Actor;
  /** `<noun>.<verb>`: `auth.login`, `auth.login_failed`, `token.created`, `user.updated`, `ticket.deleted`, `ops.sent`, … */
  action: string;
  target?: { type: string; id: string } | null;
  /** Defaults to the actor's address. */
  ip?: string | null;
  details?: Record<string, unknown>;
};

export type AuditQuery = Omit<AuditFilters, 'beforeId'> & {
  cursor?: string;
  limit: number;
};

/**
 * The append-only audit log. Other services call `record(tx, …)` inside their own transaction, so an entry is
 * written exactly when the change it describes is.
 */
export class AuditLog {
  readonly #entries = new AuditRepository();

  constructor(private readonly context: { database: { db: Db }; clock: Clock }) {}

  async record(tx: Executor, entry: AuditEntry): Promise<void> {
    await this.#entries.insertQuery(tx, this.#row(entry)).execute();
  }

  /**
   * The entry's insert, not run: for a write that sends it in its own statement (`withParts`, src/db/sql-helpers.ts),
   * so the entry is written in the change's transaction without a round trip of its own (issue 19).
   */
  insertQuery(tx: Executor, entry: AuditEntry) {
    return this.#entries.insertQuery(tx, this.#row(entry));
  }

  #row(entry: AuditEntry): NewAuditEntry {
    const { actor } = entry;
    return {
      at: this.context.clock.now(),
      actor_id: actor.id,
      actor_name: actor.name,
      actor_role: actor.via === 'system' ? null : actor.role,
      action: entry.action,
      target_type: entry.target?.type ?? null,
      target_id: entry.target?.id ?? null,
      ip: entry.ip ?? actor.ip ?? null,
      details: entry.details ?? {},
    };
  }

  async list(actor: Actor, query: AuditQuery): Promise<{ items: AuditLogRow[]; nextCursor: string | null }> {
    assertCan(actor, 'audit:read');
    const { cursor, limit, ...filters } = query;
    const beforeId = cursor === undefined ? undefined : decodeCursor(cursor, 1)[0];
    if (typeof beforeId === 'string') invalid([{ field: 'cursor', problem: 'is not a cursor this list gave out' }]);
    const rows = await this.#entries.list(this.context.database.db, { ...filters, beforeId }, limit + 1);
    const items = rows.slice(0, limit);
    return {
      items,
      nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].id]) : null,
    };
  }
}
