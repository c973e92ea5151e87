import { sql, type Kysely } from 'kysely';
import { CHANGE_CHANNEL } from './0002_workflows.js';

/**
 * A leaner write path (issue 19): fewer indexes to keep on every ticket write, and the trigger work done once per
 * statement over its transition tables instead of once per row.
 *
 * Indexes dropped, each redundant with one that stays (the list of what stays, with the query each serves, is in
 * docs/performance.md, "Indexes"):
 * - `tickets_project_id (project_id, created_at, id)`: the list's project filter is on the text `project`
 *   (`tickets_project`); the monitor's per-project counts use the partial `tickets_open_project`,
 *   `tickets_closed_project` and `tickets_open_delay`, and "created today" the `tickets_created` range.
 * - `tickets_open_status (status) where open`: status filters use `tickets_status (status, created_at, id)`; the
 *   dashboard's open counts come from the open-ticket tally.
 * - `tickets_unassigned (created_at, id) where assigned_to is null`: `assignee:none` is `assigned_to is null`, which
 *   `tickets_assigned (assigned_to, created_at, id)` answers.
 * - `tickets_subject_trgm` and `tickets_customer_trgm`: the subject's and the customer's text are word-bounded parts of
 *   the text `tickets_text_trgm` indexes, so a `like` or `<<%` on a part is found along that index with the part's own
 *   condition rechecking it (src/modules/search/sql.ts, `inPart`): one trigram GIN to keep on a write instead of three.
 * - `stages_end (stage_end_time, id)`: no query filters or sorts by a visit's end alone (the monitor's statistics use
 *   `stages_definition_done`, the sweeper the partial open-visit indexes).
 * - `stages_type (stage_type, created_at, id)` becomes `stages_minor (created_at, id) where stage_type = 'minor'`:
 *   the filter that needs an index is the rare one (minor stages); `major` is nearly every row, read in the default
 *   order along `stages_created`. Every workflow visit is major, so the partial index holds few rows.
 *
 * Triggers: the change log wrote one row and sent one notification per changed row, each with sub-selects for the
 * ticket and its project; the flow rollup, the duration tally and the ticket's stage moments ran once per row too. Now
 * each is a statement-level trigger per event (a trigger with transition tables has one event and no column list)
 * that works over the statement's rows at once: one `insert … select` into the change log and ONE `pg_notify` per
 * statement (listeners treat a notification as a wake-up and read the log), one grouped insert per tally, and one
 * update of the tickets whose open stages changed. A plain INSERT into tickets, stages or ticket_events still yields
 * the same rows in the same tables, so an import writing with COPY keeps working.
 *
 * The ticket and stage tables get a fillfactor: room on each page for an update that changes no indexed column to
 * stay there (HOT) instead of writing every index again. Today only writes that leave `updated_at` alone qualify
 * (`tickets_updated` / `stages_updated` still serve `sort=updated_at` and `updated_since`); the room pays in full once
 * those two indexes can go.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index stages_minor on stages (created_at, id) where stage_type = 'minor'`.execute(db);
  for (const index of [
    'tickets_project_id',
    'tickets_open_status',
    'tickets_unassigned',
    'tickets_subject_trgm',
    'tickets_customer_trgm',
    'stages_end',
    'stages_type',
  ]) {
    await sql`drop index if exists ${sql.id(index)}`.execute(db);
  }
  await sql`alter table tickets set (fillfactor = 85)`.execute(db);
  await sql`alter table stages set (fillfactor = 90)`.execute(db);

  await changeLog(db);
  await stageTallies(db);
  await stageMoments(db);
}

type Event = 'insert' | 'update' | 'delete';
const events: readonly Event[] = ['insert', 'update', 'delete'];
/** `changed`: the statement's new rows (insert, update) or old ones (delete); `previous`: an update's old rows. */
const transition: Record<Event, string> = {
  insert: 'new table as changed',
  update: 'old table as previous new table as changed',
  delete: 'old table as changed',
};

/**
 * Replaces the row trigger `name` (if any) by one statement trigger per event, `<name>_<event>`, running `fn(event)`.
 * A trigger with transition tables has one event and no column list.
 */
async function perStatement(db: Kysely<unknown>, table: string, name: string, fn: (event: Event) => string): Promise<void> {
  await sql`drop trigger if exists ${sql.id(name)} on ${sql.id(table)}`.execute(db);
  for (const event of events) {
    await sql
      .raw(
        `create trigger ${name}_${event} after ${event} on ${table} referencing ${transition[event]} for each statement execute function ${fn(event)}()`,
      )
      .execute(db);
  }
}

/** A trigger function per event: plpgsql reads a transition table by name, in the trigger's own function only. */
async function perEvent(db: Kysely<unknown>, name: string, body: (event: Event) => string): Promise<void> {
  for (const event of events) {
    await sql
      .raw(`create function ${name}_${event}() returns trigger language plpgsql as $$ begin ${body(event)} return null; end $$`)
      .execute(db);
  }
}

async function changeLog(db: Kysely<unknown>): Promise<void> {
  // `changed`: the new rows (insert, update) or the old ones (delete). The stage's ticket is its own, else the ticket
  // listing it; the project that ticket's.
  await sql
    .raw(
      `
    create function change_log_statement() returns trigger language plpgsql as $$
    declare
      logged bigint;
    begin
      if tg_table_name = 'tickets' then
        insert into change_log (entity, op, entity_id, ticket_id, project_id)
        select 'ticket', lower(tg_op), c.id, c.id, c.project_id from changed c;
      elsif tg_table_name = 'stages' then
        insert into change_log (entity, op, entity_id, ticket_id, project_id)
        select 'stage', lower(tg_op), c.id, k.ticket_id, t.project_id
        from changed c
        cross join lateral (select coalesce(c.ticket_id, (select ts.ticket_id from ticket_stages ts where ts.stage_id = c.id limit 1)) as ticket_id) k
        left join tickets t on t.id = k.ticket_id;
      else
        insert into change_log (entity, op, entity_id, ticket_id, project_id)
        select 'history', lower(tg_op), c.id::text, c.ticket_id, t.project_id
        from changed c left join tickets t on t.id = c.ticket_id;
      end if;
      get diagnostics logged = row_count;
      if logged > 0 then
        perform pg_notify('${CHANGE_CHANNEL}', '');
      end if;
      return null;
    end $$`,
    )
    .execute(db);
  await perStatement(db, 'tickets', 'tickets_change_log', () => 'change_log_statement');
  await perStatement(db, 'stages', 'stages_change_log', () => 'change_log_statement');
  // On the partitioned parent only: moving rows between partitions (src/db/partitions.ts) is no change to log.
  await perStatement(db, 'ticket_events', 'ticket_events_change_log', () => 'change_log_statement');
  await sql`drop function change_log_record()`.execute(db);
}

async function stageTallies(db: Kysely<unknown>): Promise<void> {
  // The statement's rows with their sign: +1 each inserted, -1 each deleted; an update pairs old and new by id and
  // counts only rows whose tallied columns changed (as the row triggers' column lists did), old -1 and new +1.
  const signed = (event: Event, columns: string[], changedOnly: string[]) => {
    if (event !== 'update')
      return `select ${event === 'insert' ? 1 : -1} as sign, ${columns.map((c) => `c.${c}`).join(', ')} from changed c`;
    const differ = `(${changedOnly.map((c) => `p.${c}`).join(', ')}) is distinct from (${changedOnly.map((c) => `c.${c}`).join(', ')})`;
    const side = (alias: string, sign: number) =>
      `select ${sign} as sign, ${columns.map((c) => `${alias}.${c}`).join(', ')} from previous p join changed c on c.id = p.id where ${differ}`;
    return `${side('p', -1)} union all ${side('c', 1)}`;
  };
  const flow = ['definition_id', 'stage_start_time', 'stage_end_time'];
  const duration = [...flow, 'business_ms', 'due_at'];
  await perEvent(
    db,
    'stages_tallies',
    (event) => `
      insert into stage_flow_delta (definition_id, day, entered, exited)
      select m.definition_id, (m.moment at time zone 'UTC')::date, sum(m.entered), sum(m.exited)
      from (${signed(event, flow, flow)}) r
      cross join lateral (values (r.definition_id, r.stage_start_time, r.sign, 0), (r.definition_id, r.stage_end_time, 0, r.sign))
        as m(definition_id, moment, entered, exited)
      where m.definition_id is not null and m.moment is not null
      group by 1, 2 having sum(m.entered) <> 0 or sum(m.exited) <> 0;

      insert into stage_duration_delta (definition_id, day, bucket, business_bucket, n, total_ms, on_time)
      select v.definition_id, (v.stage_end_time at time zone 'UTC')::date, duration_bucket(v.ms), duration_bucket(v.business_ms::float8),
        v.sign, v.sign * v.ms, case when v.due_at is null or v.stage_end_time <= v.due_at then v.sign else 0 end
      from (select r.*, extract(epoch from (r.stage_end_time - r.stage_start_time))::float8 * 1000 as ms
            from (${signed(event, duration, duration)}) r) v
      where v.definition_id is not null and v.stage_end_time is not null and v.ms is not null;`,
  );
  await sql`drop trigger stages_duration_tally on stages`.execute(db);
  await sql`drop function stages_duration_tally()`.execute(db);
  await sql`drop trigger stages_flow_rollup on stages`.execute(db);
  await perStatement(db, 'stages', 'stages_tallies', (event) => `stages_tallies_${event}`);
  await sql`drop function stages_flow_rollup()`.execute(db);
}

async function stageMoments(db: Kysely<unknown>): Promise<void> {
  // The tickets whose open stages may have changed (on update: a moment, the end or the ticket changed), their
  // earliest at-risk and due moments recomputed once each and written only where they differ.
  const moved = `(p.due_at, p.at_risk_at, p.stage_end_time, p.ticket_id) is distinct from (c.due_at, c.at_risk_at, c.stage_end_time, c.ticket_id)`;
  const tickets = (event: Event) =>
    event === 'update'
      ? `select p.ticket_id from previous p join changed c on c.id = p.id where ${moved}
         union select c.ticket_id from previous p join changed c on c.id = p.id where ${moved}`
      : 'select distinct c.ticket_id from changed c';
  await perEvent(
    db,
    'stages_ticket_moments',
    (event) => `
      update tickets t set stage_at_risk_at = m.at_risk_at, stage_due_at = m.due_at
      from (select k.ticket_id,
                   (select min(coalesce(s.at_risk_at, s.due_at)) from stages s where s.ticket_id = k.ticket_id and s.stage_end_time is null) as at_risk_at,
                   (select min(s.due_at) from stages s where s.ticket_id = k.ticket_id and s.stage_end_time is null) as due_at
            from (${tickets(event)}) k where k.ticket_id is not null) m
      where t.id = m.ticket_id
        and (t.stage_at_risk_at is distinct from m.at_risk_at or t.stage_due_at is distinct from m.due_at);`,
  );
  await perStatement(db, 'stages', 'stages_ticket_moments', (event) => `stages_ticket_moments_${event}`);
  await sql`drop function stages_ticket_moments()`.execute(db);
}
