import { newId } from '../../ids.js';
import { ticketColumns } from '../../db/ticket-columns.js';
import type { Executor } from '../../db/database.js';
import { keysetPage, type SortKey } from '../../db/keyset.js';
import type { LogEntryRow, OpsLogAction, TicketRow } from '../../db/types.js';

export type NewLogEntry = {
  ticketId: string;
  action: OpsLogAction;
  success: boolean;
  at: Date;
  attempt?: number | null;
  httpStatus?: number | null;
  latencyMs?: number | null;
  opsId?: string | null;
  request?: Record<string, unknown> | null;
  response?: unknown;
  error?: string | null;
};

export type LogFilters = {
  ticketId?: string;
  actions?: OpsLogAction[];
  status?: 'success' | 'failed';
  from?: Date;
  to?: Date;
};

/** Ticket states in which OPS holds the ticket and its state there may still change. */
export const opsOpenStatuses = ['sent', 'in_progress', 'delayed'] as const;

const logOrder = [
  { column: 'timestamp', kind: 'timestamp' },
  { column: 'id', kind: 'text' },
] as const satisfies readonly SortKey[];

export class OpsRepository {
  findTicketByOpsId(db: Executor, opsId: string): Promise<TicketRow | undefined> {
    return db
      .selectFrom('tickets')
      .select(ticketColumns)
      .where('ops_id', '=', opsId)
      .orderBy('updated_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** The next tickets, by id after `afterId`, that OPS holds and that may still change there (the poller's walk). */
  openHandOffs(db: Executor, afterId: string | null, limit: number): Promise<Pick<TicketRow, 'id' | 'ops_id' | 'status'>[]> {
    let query = db
      .selectFrom('tickets')
      .select(['id', 'ops_id', 'status'])
      .where('ops_id', 'is not', null)
      .where('status', 'in', opsOpenStatuses);
    if (afterId !== null) query = query.where('id', '>', afterId);
    return query.orderBy('id').limit(limit).execute();
  }

  async insertLog(tx: Executor, entry: NewLogEntry): Promise<LogEntryRow> {
    return tx
      .insertInto('log_entries')
      .values({
        id: newId(),
        ticket_id: entry.ticketId,
        action: entry.action,
        status: entry.success ? 'success' : 'failed',
        timestamp: entry.at,
        attempt: entry.attempt ?? null,
        http_status: entry.httpStatus ?? null,
        latency_ms: entry.latencyMs ?? null,
        ops_id: entry.opsId ?? null,
        request: entry.request ? JSON.stringify(entry.request) : null,
        response: entry.response === undefined || entry.response === null ? null : JSON.stringify(entry.response),
        error: entry.error ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Newest first, one keyset page. */
  listLogs(db: Executor, filters: LogFilters, limit: number, cursor: string | undefined) {
    let query = db.selectFrom('log_entries').selectAll();
    if (filters.ticketId !== undefined) query = query.where('ticket_id', '=', filters.ticketId);
    if (filters.actions?.length) query = query.where('action', 'in', filters.actions);
    if (filters.status) query = query.where('status', '=', filters.status);
    if (filters.from) query = query.where('timestamp', '>=', filters.from);
    if (filters.to) query = query.where('timestamp', '<', filters.to);
    return keysetPage(query, logOrder, true, limit, cursor);
  }

  /** Remembers a callback's signature; false when it was seen before (a replay). */
  async rememberSignature(tx: Executor, signature: string, at: Date): Promise<boolean> {
    const row = await tx
      .insertInto('ops_callback_signatures')
      .values({ signature, received_at: at })
      .onConflict((oc) => oc.column('signature').doNothing())
      .returning('signature')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Signatures older than the accepted clock skew can never be replayed successfully; forget them. */
  async forgetSignatures(db: Executor, before: Date): Promise<void> {
    await db.deleteFrom('ops_callback_signatures').where('received_at', '<', before).execute();
  }
}
