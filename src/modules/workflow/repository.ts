import { sql } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import { keysetPage } from '../../db/keyset.js';
import type { NewStageRow, StageRow, TicketEventRow } from '../../db/types.js';
import type { StageDefinitionRow } from '../../db/types.js';

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

  /**
   * Every visit of the ticket, locked for the transition that reads them: its open visits, whether it has any and
   * how often it was in each stage come from this one round trip (a ticket has a handful of visits).
   */
  visitsForTransition(tx: Tx, ticketId: string): Promise<StageRow[]> {
    return tx.selectFrom('stages').selectAll().where('ticket_id', '=', ticketId).orderBy('number').forNoKeyUpdate().execute();
  }

  /** Definitions by id, archived or not, of any project (a ticket that moved projects has visits of its old workflow). */
  definitionsByIds(db: Executor, ids: readonly string[]): Promise<StageDefinitionRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return db.selectFrom('stage_definitions').selectAll().where('id', 'in', ids).execute();
  }

  /** The definition id of a stage record (null for a stage outside any workflow). */
  async definitionIdOf(db: Executor, stageId: string): Promise<string | null> {
    return (await db.selectFrom('stages').select('definition_id').where('id', '=', stageId).executeTakeFirst())?.definition_id ?? null;
  }

  /** The visits' insert, built but not run (a move sends it in its own statement). */
  insertStagesQuery(tx: Tx, rows: readonly NewStageRow[]) {
    return tx.insertInto('stages').values([...rows]);
  }

  /** A visit's end, built but not run. */
  endStageQuery(tx: Tx, id: string, at: Date, businessMs: number, now: Date) {
    return tx
      .updateTable('stages')
      .set({ stage_end_time: at, business_ms: businessMs, updated_at: now, version: sql`version + 1` })
      .where('id', '=', id);
  }

  /** Adds the stages, in this order, at the end of the ticket's ordered `stages` list: built but not run. */
  appendToTicketQuery(ticketId: string, stageIds: readonly string[]) {
    const rows = sql.join(stageIds.map((stageId, index) => sql`(${stageId}, ${index}::int)`));
    return sql`
      insert into ticket_stages (ticket_id, stage_id, position)
      select ${ticketId}, v.stage_id, coalesce((select max(position) + 1 from ticket_stages where ticket_id = ${ticketId}), 0) + v.n
      from (values ${rows}) as v(stage_id, n)`;
  }

  /** A page of the ticket's history, oldest first; `publicOnly` hides internal entries. */
  history(db: Executor, ticketId: string, publicOnly: boolean, limit: number, cursor: string | undefined) {
    let query = db.selectFrom('ticket_events').selectAll().where('ticket_id', '=', ticketId);
    if (publicOnly) query = query.where('visibility', '=', 'public');
    return keysetPage<TicketEventRow>(query, historyOrder, false, limit, cursor);
  }

  insertEvent(
    tx: Tx,
    event: {
      ticket_id: string;
      type: string;
      actor_id: string | null;
      actor_name: string;
      visibility: 'public' | 'internal';
      data: object;
      created_at: Date;
    },
  ): Promise<TicketEventRow> {
    return tx
      .insertInto('ticket_events')
      .values({ ...event, data: JSON.stringify(event.data) })
      .returningAll()
      .executeTakeFirstOrThrow();
  }
}

/** At-risk / overdue crossings recorded by one sweep. */
export type Crossing = { ticket_id: string; type: 'at_risk' | 'overdue'; event_id: number };

export class SweepRepository {
  /**
   * Records each open stage's first crossing of its at-risk and due moments, and each open ticket's of
   * its overall target, as history — once: the alert tables' primary keys make a racing second sweep
   * insert nothing, and only freshly inserted alerts produce events.
   */
  async recordCrossings(tx: Tx, now: Date, batch: number): Promise<{ crossings: Crossing[]; more: boolean }> {
    // Open visits whose next alert is due, through `stages_alert_next` (the expression is the index's, migration
    // 0023): an idle sweep reads an empty range. Each visit read has its level raised to the alerts it now has, the
    // ones recorded here and any recorded before (by an import, a racing sweep), so it leaves the range.
    const next = sql`(case s.alert_level when 0 then s.at_risk_at
      when 1 then case when s.due_at is not null then greatest(s.at_risk_at, s.due_at) end end)`;
    const open = sql`s.stage_end_time is null and s.ticket_id is not null and s.alert_level < 2`;
    // A probe first: the recording statement's triggers cost milliseconds even when it changes nothing.
    const probe = await sql`select 1 from stages s where ${open} and ${next} <= ${now} limit 1`.execute(tx);
    const stages =
      probe.rows.length === 0
        ? { rows: [] }
        : await sql<Crossing & { candidates: number }>`
      with candidate as (
        select s.id, s.ticket_id, s.definition_id, s.visit, s.at_risk_at, s.due_at
        from stages s
        where ${open} and ${next} <= ${now}
        order by ${next}
        limit ${batch}
      ), due as (
        select c.id as stage_id, c.ticket_id, k.kind, k.at, d.key, d.name, c.visit
        from candidate c
        cross join lateral (values ('at_risk', c.at_risk_at), ('overdue', c.due_at)) as k(kind, at)
        join stage_definitions d on d.id = c.definition_id
        where c.at_risk_at <= ${now} and k.at <= ${now}
          and not exists (select 1 from stage_alerts a where a.stage_id = c.id and a.kind = k.kind)
      ), inserted as (
        insert into stage_alerts (stage_id, kind, ticket_id, created_at)
        select stage_id, kind, ticket_id, ${now} from due
        on conflict do nothing
        returning stage_id, kind
      ), level as (
        select x.stage_id, max(case x.kind when 'overdue' then 2 else 1 end) as level
        from (select stage_id, kind from due
              union all select a.stage_id, a.kind from stage_alerts a join candidate c on c.id = a.stage_id) x
        group by x.stage_id
      ), raised as (
        update stages s set alert_level = l.level from level l where s.id = l.stage_id and s.alert_level < l.level
      ), events as (
        insert into ticket_events (ticket_id, type, actor_name, visibility, data, created_at)
        select d.ticket_id, d.kind, 'system', 'public',
          jsonb_build_object('scope', 'stage', 'stage_id', d.stage_id, 'key', d.key, 'name', d.name, 'visit', d.visit, 'at', d.at), ${now}
        from inserted i join due d on d.stage_id = i.stage_id and d.kind = i.kind
        order by d.at
        returning ticket_id, type, id as event_id
      )
      select e.ticket_id, e.type, e.event_id, (select count(*)::int from candidate) as candidates
      from events e
      union all select null, null, null, (select count(*)::int from candidate) where not exists (select 1 from events)`.execute(tx);
    const tickets = await sql<Crossing>`
      with due as (
        select t.id as ticket_id, k.kind, k.at
        from tickets t
        cross join lateral (values ('at_risk', t.sla_at_risk_at), ('overdue', t.sla_due_at)) as k(kind, at)
        where t.status <> 'closed' and t.sla_at_risk_at <= ${now} and k.at <= ${now}
          and not exists (select 1 from ticket_sla_alerts a where a.ticket_id = t.id and a.kind = k.kind)
        order by k.at
        limit ${batch}
      ), inserted as (
        insert into ticket_sla_alerts (ticket_id, kind, created_at)
        select ticket_id, kind, ${now} from due
        on conflict do nothing
        returning ticket_id, kind
      )
      insert into ticket_events (ticket_id, type, actor_name, visibility, data, created_at)
      select d.ticket_id, d.kind, 'system', 'public', jsonb_build_object('scope', 'ticket', 'at', d.at), ${now}
      from inserted i join due d on d.ticket_id = i.ticket_id and d.kind = i.kind
      returning ticket_id, type, id as event_id`.execute(tx);
    const crossings = stages.rows
      .filter((row) => row.ticket_id !== null)
      .map(({ ticket_id, type, event_id }) => ({ ticket_id, type, event_id }));
    return { crossings: [...crossings, ...tickets.rows], more: (stages.rows[0]?.candidates ?? 0) >= batch || tickets.rows.length >= batch };
  }
}
