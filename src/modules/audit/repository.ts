import type { Executor } from '../../db/database.js';
import type { Insertable } from 'kysely';
import type { AuditLogRow, AuditLogTable } from '../../db/types.js';

/** A row of `audit_log` as a service writes it: the table's columns (db/types.ts) with the details as an object. */
export type NewAuditEntry = Required<Omit<Insertable<AuditLogTable>, 'id' | 'at' | 'details'>> & {
  at: Date;
  details: Record<string, unknown>;
};

export type AuditFilters = {
  actions?: string[];
  actorId?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  /** Only entries older than this id (the cursor). */
  beforeId?: number;
};

export class AuditRepository {
  /** The insert, built but not run (a caller may send it as part of its own statement). */
  insertQuery(db: Executor, entry: NewAuditEntry) {
    return db.insertInto('audit_log').values({ ...entry, details: JSON.stringify(entry.details) });
  }

  /** Newest first, by id: ids only grow, so `id < cursor` pages without OFFSET on any of the filter indexes. */
  list(db: Executor, filters: AuditFilters, limit: number): Promise<AuditLogRow[]> {
    let query = db.selectFrom('audit_log').selectAll();
    if (filters.actions) query = query.where('action', 'in', filters.actions);
    if (filters.actorId !== undefined) query = query.where('actor_id', '=', filters.actorId);
    if (filters.targetType !== undefined) query = query.where('target_type', '=', filters.targetType);
    if (filters.targetId !== undefined) query = query.where('target_id', '=', filters.targetId);
    if (filters.from) query = query.where('at', '>=', filters.from);
    if (filters.to) query = query.where('at', '<', filters.to);
    if (filters.beforeId !== undefined) query = query.where('id', '<', filters.beforeId);
    return query.orderBy('id', 'desc').limit(limit).execute();
  }
}
