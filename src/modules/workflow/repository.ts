import { sql } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import { keysetPage } from '../../db/keyset.js';
import type { NewStageRow, StageRow, TicketEventRow } from '../../db/types.js';

const historyOrder = [{ column: 'id', kind: 'integer' }] as const;

export class WorkflowRepository {
  /** The ticket's workflow stage records (its visits), oldest first. */
  visitsOf(db: Executor, ticketId: string): Promise<StageRow[]> {
    return db
      .selectFrom('stages')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .where('definition_id', 'is not', null)
      .orderBy('stage_start_time')
      .orderBy('number')
      .execute();
  }

  openVisitsOf(tx: Tx, ticketId: string): Promise<StageRow[]> {
    return tx
      .selectFrom('stages')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .where('definition_id', 'is not', null)
      .where('stage_end_time', 'is', null)
      .orderBy('number')
      .forUpdate()
      .execute();
  }

  async visitCount(tx: Tx, ticketId: string, definitionId: string): Promise<number> {
    const row = await tx
      .selectFrom('stages')
      .select((eb) => eb.fn.countAll<number>().as('visits'))
      .where('ticket_id', '=', ticketId)
      .where('definition_id', '=', definitionId)
      .executeTakeFirstOrThrow();
    return Number(row.visits);
  }

  async hasVisits(tx: Tx, ticketId: string): Promise<boolean> {
    const row = await tx.selectFrom('stages').select('id').where('ticket_id', '=', ticketId).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  insertStage(tx: Tx, row: NewStageRow): Promise<StageRow> {
    return tx.insertInto('stages').values(row).returningAll().executeTakeFirstOrThrow();
  }

  endStage(tx: Tx, id: string, at: Date, businessMs: number, now: Date): Promise<StageRow> {
    return tx
      .updateTable('stages')
      .set({ stage_end_time: at, business_ms: businessMs, updated_at: now, version: sql`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Adds the stage at the end of the ticket's ordered `stages` list. */
  async appendToTicket(tx: Tx, ticketId: string, stageId: string): Promise<void> {
    await sql`
      insert into ticket_stages (ticket_id, stage_id, position)
      select ${ticketId}, ${stageId}, coalesce(max(position) + 1, 0) from ticket_stages where ticket_id = ${ticketId}`.execute(tx);
  }

  /** A page of the ticket's history, oldest first; `publicOnly` hides internal entries. */
  history(db: Executor, ticketId: string, publicOnly: boolean, limit: number, cursor: string | undefined) {
    let query = db.selectFrom('ticket_events').selectAll().where('ticket_id', '=', ticketId);
    if (publicOnly) query = query.where('visibility', '=', 'public');
    return keysetPage<TicketEventRow>(query, historyOrder, false, limit, cursor);
  }

  insertEvent(
    tx: Tx,
    event: { ticket_id: string; type: string; actor_id: string | null; actor_name: string; visibility: 'public' | 'internal'; data: object; created_at: Date },
  ): Promise<TicketEventRow> {
    return tx
      .insertInto('ticket_events')
      .values({ ...event, data: JSON.stringify(event.data) })
      .returningAll()
      .executeTakeFirstOrThrow();
  }
}
