import { sql } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import type { TicketEventRow, TicketRow } from '../../db/types.js';
import { ticketColumns } from '../tickets/repository.js';
import type { ChangeCursor } from '../events/repository.js';

export type DispatchChange = {
  id: number;
  txid: string;
  entity: 'history' | 'ticket';
  entity_id: string;
  project_id: string | null;
  created_at: Date;
};

export class DispatchRepository {
  /** Registers a consumer at `start` unless it exists; a new consumer does not replay the past. */
  async ensureConsumer(db: Executor, name: string, start: ChangeCursor): Promise<void> {
    await db
      .insertInto('event_consumers')
      .values({ name, txid: start.txid, last_id: start.id })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
  }

  /** Locks the consumer's cursor for this transaction: a second dispatcher (another process) waits. */
  async lockCursor(tx: Tx, name: string): Promise<ChangeCursor | undefined> {
    const row = await tx
      .selectFrom('event_consumers')
      .select([sql<string>`txid::text`.as('txid'), 'last_id'])
      .where('name', '=', name)
      .forUpdate()
      .executeTakeFirst();
    return row && { txid: row.txid, id: Number(row.last_id) };
  }

  async moveCursor(tx: Tx, name: string, cursor: ChangeCursor, now: Date): Promise<void> {
    await tx
      .updateTable('event_consumers')
      .set({ txid: sql<string>`${cursor.txid}::xid8`, last_id: cursor.id, updated_at: now })
      .where('name', '=', name)
      .execute();
  }

  /** History inserts and ticket deletions after the cursor, in the change log's commit-safe order. */
  async changesAfter(db: Executor, cursor: ChangeCursor, limit: number): Promise<DispatchChange[]> {
    const { rows } = await sql<DispatchChange>`
      select c.id, c.txid::text as txid, c.entity, c.entity_id, c.project_id, c.created_at
      from change_log c
      where (c.txid, c.id) > (${cursor.txid}::xid8, ${cursor.id}::bigint)
        and c.txid < pg_snapshot_xmin(pg_current_snapshot())
        and ((c.entity = 'history' and c.op = 'insert') or (c.entity = 'ticket' and c.op = 'delete'))
      order by c.txid, c.id
      limit ${limit}`.execute(db);
    return rows.map((row) => ({ ...row, id: Number(row.id) }));
  }

  /** The history events with their tickets as they are now; events of tickets deleted since are gone. */
  async eventsWithTickets(db: Executor, eventIds: readonly number[]): Promise<{ event: TicketEventRow; ticket: TicketRow }[]> {
    if (eventIds.length === 0) return [];
    const events = await db.selectFrom('ticket_events').selectAll().where('id', 'in', eventIds).orderBy('id').execute();
    if (events.length === 0) return [];
    const ticketIds = [...new Set(events.map((event) => event.ticket_id))];
    const tickets = new Map(
      (await db.selectFrom('tickets').select(ticketColumns).where('id', 'in', ticketIds).execute()).map((row) => [row.id, row]),
    );
    return events.flatMap((event) => {
      const ticket = tickets.get(event.ticket_id);
      return ticket ? [{ event, ticket }] : [];
    });
  }
}
