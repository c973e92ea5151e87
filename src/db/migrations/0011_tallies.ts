import { sql, type Kysely } from 'kysely';

/**
 * Tallies: rollups kept in the write transaction as appended deltas, folded in the background (`fold_tallies()`).
 *
 * Measured at 1,000,000 tickets: the dashboard's open-ticket counts scanned ~190,000 open tickets (seconds), and every
 * stage change updated one flow row per stage and day, so concurrent transitions queued on that row until the
 * holder committed (93 transitions/s). An appended delta row locks nothing another writer needs; a reader sums the
 * few rows of a key; `fold_tallies()` merges each key's deltas back into one row now and then.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // The flow rollup: several rows per (definition, day) until folded; readers sum them.
  await sql`alter table stage_flow_daily drop constraint stage_flow_daily_pkey`.execute(db);
  await sql`create index stage_flow_daily_definition_day on stage_flow_daily (definition_id, day)`.execute(db);
  await sql`
    create or replace function stages_flow_rollup() returns trigger language plpgsql as $$
    begin
      if tg_op in ('UPDATE', 'DELETE') and old.definition_id is not null then
        insert into stage_flow_daily (definition_id, day, entered, exited)
        select old.definition_id, (moment at time zone 'UTC')::date, entered, exited
        from (values (old.stage_start_time, -1, 0), (old.stage_end_time, 0, -1)) as m(moment, entered, exited)
        where moment is not null;
      end if;
      if tg_op in ('INSERT', 'UPDATE') and new.definition_id is not null then
        insert into stage_flow_daily (definition_id, day, entered, exited)
        select new.definition_id, (moment at time zone 'UTC')::date, entered, exited
        from (values (new.stage_start_time, 1, 0), (new.stage_end_time, 0, 1)) as m(moment, entered, exited)
        where moment is not null;
      end if;
      return null;
    end $$`.execute(db);

  // Open tickets by project, status, priority and current stage: the stage is its definition or, for a stage without
  // one (the older systems' free-form stages), its description. No foreign keys: a delta must not lock its parents.
  await sql`
    create table open_ticket_tally (
      project_id text,
      status text not null,
      priority text not null,
      definition_id text,
      stage_label text,
      n integer not null
    )`.execute(db);
  // A ticket's tally key, read from its current stage; a missing stage reads as no stage.
  await sql`
    create function open_ticket_tally_move(ticket tickets, delta integer) returns void language sql as $$
      insert into open_ticket_tally (project_id, status, priority, definition_id, stage_label, n)
      select ticket.project_id, ticket.status, ticket.priority, s.definition_id,
        case when s.definition_id is null then s.stage_description end, delta
      from (select ticket.current_stage_id as id) c left join stages s on s.id = c.id
    $$`.execute(db);
  // Deletion counts out BEFORE the row goes: its stages are deleted by cascade right after, and the key needs them.
  await sql`
    create function tickets_open_tally() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and old.status = new.status and old.priority = new.priority
         and old.project_id is not distinct from new.project_id and old.current_stage_id is not distinct from new.current_stage_id then
        return null;
      end if;
      if tg_op in ('UPDATE', 'DELETE') and old.status <> 'closed' then
        perform open_ticket_tally_move(old, -1);
      end if;
      if tg_op in ('INSERT', 'UPDATE') and new.status <> 'closed' then
        perform open_ticket_tally_move(new, 1);
      end if;
      return case when tg_op = 'DELETE' then old end;
    end $$`.execute(db);
  // `project` too: a BEFORE trigger sets project_id from it, and a column list sees only the UPDATE's own columns.
  await sql`
    create trigger tickets_open_tally after insert or update of status, priority, project, project_id, current_stage_id on tickets
    for each row execute function tickets_open_tally()`.execute(db);
  await sql`
    create trigger tickets_open_tally_delete before delete on tickets
    for each row execute function tickets_open_tally()`.execute(db);
  // A current stage that changes its key (or goes) moves its open tickets to the new key (or to no stage) first;
  // the tickets' own trigger then reads the same key the tally holds.
  await sql`
    create function stages_open_tally() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and old.definition_id is not distinct from new.definition_id
         and (new.definition_id is not null or old.stage_description is not distinct from new.stage_description) then
        return null;
      end if;
      insert into open_ticket_tally (project_id, status, priority, definition_id, stage_label, n)
      select t.project_id, t.status, t.priority, k.definition_id, k.stage_label, k.n
      from tickets t cross join (values
        (old.definition_id, case when old.definition_id is null then old.stage_description end, -1),
        (case when tg_op = 'UPDATE' then new.definition_id end,
         case when tg_op = 'UPDATE' and new.definition_id is null then new.stage_description end, 1)
      ) as k(definition_id, stage_label, n)
      where t.current_stage_id = old.id and t.status <> 'closed';
      return case when tg_op = 'DELETE' then old end;
    end $$`.execute(db);
  await sql`
    create trigger stages_open_tally after update of definition_id, stage_description on stages
    for each row execute function stages_open_tally()`.execute(db);
  await sql`
    create trigger stages_open_tally_delete before delete on stages
    for each row execute function stages_open_tally()`.execute(db);

  // Recounted from scratch: here for existing tickets, and by tools that write with triggers off (bench/grow.sql).
  await sql`
    create function open_ticket_tally_recount() returns void language sql as $$
      delete from open_ticket_tally;
      insert into open_ticket_tally (project_id, status, priority, definition_id, stage_label, n)
      select t.project_id, t.status, t.priority, s.definition_id, case when s.definition_id is null then s.stage_description end, count(*)
      from tickets t left join stages s on s.id = t.current_stage_id
      where t.status <> 'closed'
      group by 1, 2, 3, 4, 5
    $$`.execute(db);
  await sql`select open_ticket_tally_recount()`.execute(db);

  // Merges each key's deltas into one row; one folder at a time (others skip), keys with one row untouched.
  await sql`
    create function fold_tallies() returns void language plpgsql as $$
    begin
      if not pg_try_advisory_xact_lock(hashtext('stageline.fold_tallies')) then
        return;
      end if;
      with keys as (
        select definition_id, day from stage_flow_daily group by 1, 2 having count(*) > 1
      ), gone as (
        delete from stage_flow_daily f using keys k where f.definition_id = k.definition_id and f.day = k.day returning f.*
      )
      insert into stage_flow_daily (definition_id, day, entered, exited)
      select definition_id, day, sum(entered), sum(exited) from gone group by 1, 2;
      with keys as (
        select project_id, status, priority, definition_id, stage_label from open_ticket_tally group by 1, 2, 3, 4, 5
        having count(*) > 1 or sum(n) = 0
      ), gone as (
        delete from open_ticket_tally o using keys k
        where o.project_id is not distinct from k.project_id and o.status = k.status and o.priority = k.priority
          and o.definition_id is not distinct from k.definition_id and o.stage_label is not distinct from k.stage_label
        returning o.*
      )
      insert into open_ticket_tally (project_id, status, priority, definition_id, stage_label, n)
      select project_id, status, priority, definition_id, stage_label, sum(n) from gone group by 1, 2, 3, 4, 5 having sum(n) <> 0;
    end $$`.execute(db);
  await sql`select fold_tallies()`.execute(db);
}
