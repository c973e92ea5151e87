import { sql } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import type { TicketEventRow, TicketRow } from '../../db/types.js';
import { ticketColumns } from '../../db/ticket-columns.js';
import type { ChangeCursor } from '../events/service.js';

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
