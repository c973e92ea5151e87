import { sql, type Kysely } from 'kysely';

/** Log-scale buckets of a duration in ms: 16 per doubling, so a bucket spans 4.4 % of its values. */
export const DURATION_BUCKETS_PER_DOUBLING = 16;

/**
 * Tallies: rollups kept current in the write transaction, as appended deltas.
 *
 * Measured at 1,000,000 tickets: the dashboard's open-ticket counts scanned ~190,000 open tickets and its stage
 * statistics sorted ~400,000 visits (seconds each), and every stage change updated one flow row per stage and day,
 * so concurrent transitions queued on that row until its holder committed (93 transitions/s). Now a write appends a
 * row to a tally's `_delta` table, which locks nothing another writer needs; `fold_tallies()` moves the deltas into
 * the tally (one row per key) every few seconds; readers read the `_now` view: the tally plus the unfolded deltas.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // 1. Stage entries and exits per definition and UTC day (the cumulative-flow chart): the table of migration 0002.
  await sql`
    create table stage_flow_delta (definition_id text not null, day date not null, entered integer not null, exited integer not null)`.execute(
    db,
  );
  await sql`
    create view stage_flow_now as
    select definition_id, day, sum(entered) as entered, sum(exited) as exited from (
      select definition_id, day, entered, exited from stage_flow_daily
      union all
      select definition_id, day, entered, exited from stage_flow_delta
    ) rows group by definition_id, day`.execute(db);
  await sql`
    create or replace function stages_flow_rollup() returns trigger language plpgsql as $$
    begin
      -- An update appends only what changed (ending a visit: one exit), not a cancelling pair per moment.
      insert into stage_flow_delta (definition_id, day, entered, exited)
      select m.definition_id, (m.moment at time zone 'UTC')::date, sum(m.entered), sum(m.exited)
      from (values
        (old.definition_id, old.stage_start_time, -1, 0), (old.definition_id, old.stage_end_time, 0, -1),
        (new.definition_id, new.stage_start_time, 1, 0), (new.definition_id, new.stage_end_time, 0, 1)
      ) as m(definition_id, moment, entered, exited)
      where m.definition_id is not null and m.moment is not null
      group by 1, 2 having sum(m.entered) <> 0 or sum(m.exited) <> 0;
      return null;
    end $$`.execute(db);

  // 2. Open tickets by project, status, priority and current stage: the stage is its definition or, for a stage
  // without one (the older systems' free-form stages), its description. No foreign keys: a delta locks no parent.
  const openKey = sql`project_id text, status text not null, priority text not null, definition_id text, stage_label text, n integer not null`;
  await sql`create table open_ticket_tally (${openKey}, unique nulls not distinct (project_id, status, priority, definition_id, stage_label))`.execute(
    db,
  );
  await sql`create table open_ticket_delta (${openKey})`.execute(db);
  await sql`
    create view open_ticket_now as
    select project_id, status, priority, definition_id, stage_label, sum(n) as n from (
      select project_id, status, priority, definition_id, stage_label, n from open_ticket_tally
      union all
      select project_id, status, priority, definition_id, stage_label, n from open_ticket_delta
    ) rows group by project_id, status, priority, definition_id, stage_label having sum(n) <> 0`.execute(db);
  // A ticket's key, read from its current stage; a missing stage reads as no stage.
  await sql`
    create function open_ticket_move(ticket tickets, delta integer) returns void language sql as $$
      insert into open_ticket_delta (project_id, status, priority, definition_id, stage_label, n)
      select ticket.project_id, ticket.status, ticket.priority, s.definition_id,
        case when s.definition_id is null then s.stage_description end, delta
      from (select ticket.current_stage_id as id) c left join stages s on s.id = c.id
    $$`.execute(db);
  // A deletion counts out BEFORE the row goes: its stages are deleted by cascade right after, and the key needs them.
  await sql`
    create function tickets_open_tally() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and old.status = new.status and old.priority = new.priority
         and old.project_id is not distinct from new.project_id and old.current_stage_id is not distinct from new.current_stage_id then
        return null;
      end if;
      if tg_op in ('UPDATE', 'DELETE') and old.status <> 'closed' then
        perform open_ticket_move(old, -1);
      end if;
      if tg_op in ('INSERT', 'UPDATE') and new.status <> 'closed' then
        perform open_ticket_move(new, 1);
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
      insert into open_ticket_delta (project_id, status, priority, definition_id, stage_label, n)
      select t.project_id, t.status, t.priority, k.definition_id, k.stage_label, k.n
      from tickets t cross join (values
        (old.definition_id, case when old.definition_id is null then old.stage_description end, -1),
        (new.definition_id, case when new.definition_id is null then new.stage_description end, 1)
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

  // 3. Ended visits per definition and UTC day of their end, by log-scale bucket of wall-clock and business time:
  // a month of stage statistics reads a few thousand rows. Open visits per definition with their due time make
  // "in stage now" and "overdue now" index-only counts.
  await sql`drop index stages_definition_open`.execute(db);
  await sql`create index stages_definition_open_due on stages (definition_id, due_at) where definition_id is not null and stage_end_time is null`.execute(
    db,
  );
  const durationKey = sql`definition_id text not null, day date not null, bucket smallint not null, business_bucket smallint,
    n integer not null, total_ms double precision not null, on_time integer not null`;
  await sql`create table stage_duration_tally (${durationKey}, unique nulls not distinct (definition_id, day, bucket, business_bucket))`.execute(
    db,
  );
  // By day too: a window over every project reads its days, not the whole tally.
  await sql`create index stage_duration_tally_day on stage_duration_tally (day)`.execute(db);
  await sql`create table stage_duration_delta (${durationKey})`.execute(db);
  // Not grouped (unlike the views above): its readers group by fewer columns than its key, and a grouped view would
  // first build every (definition, day, bucket) group of the whole tally before their filter could apply.
  await sql`
    create view stage_duration_now as
    select definition_id, day, bucket, business_bucket, n, total_ms, on_time from stage_duration_tally
    union all
    select definition_id, day, bucket, business_bucket, n, total_ms, on_time from stage_duration_delta`.execute(db);
  await sql`
    create function duration_bucket(ms double precision) returns smallint language sql immutable parallel safe as $$
      select floor(${sql.lit(DURATION_BUCKETS_PER_DOUBLING)} * ln(greatest(ms, 0) + 1) / ln(2))::smallint
    $$`.execute(db);
  await sql`
    create function stages_duration_tally() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and old.definition_id is not distinct from new.definition_id
         and old.stage_start_time is not distinct from new.stage_start_time and old.stage_end_time is not distinct from new.stage_end_time
         and old.business_ms is not distinct from new.business_ms and old.due_at is not distinct from new.due_at then
        return null;
      end if;
      insert into stage_duration_delta (definition_id, day, bucket, business_bucket, n, total_ms, on_time)
      select v.definition_id, (v.stage_end_time at time zone 'UTC')::date, duration_bucket(v.ms), duration_bucket(v.business_ms),
        v.sign, v.sign * v.ms, case when v.due_at is null or v.stage_end_time <= v.due_at then v.sign else 0 end
      from (values
        (old.definition_id, old.stage_end_time, old.due_at, old.business_ms::float8,
         extract(epoch from (old.stage_end_time - old.stage_start_time))::float8 * 1000, -1),
        (new.definition_id, new.stage_end_time, new.due_at, new.business_ms::float8,
         extract(epoch from (new.stage_end_time - new.stage_start_time))::float8 * 1000, 1)
      ) as v(definition_id, stage_end_time, due_at, business_ms, ms, sign)
      where v.definition_id is not null and v.stage_end_time is not null and v.ms is not null;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger stages_duration_tally after insert or delete or update of definition_id, stage_start_time, stage_end_time, business_ms, due_at
    on stages for each row execute function stages_duration_tally()`.execute(db);

  // Recounted from scratch: here for existing data, and by tools that write with triggers off (bench/grow.sql).
  await sql`
    create function recount_tallies() returns void language sql as $$
      delete from stage_flow_delta;
      delete from stage_flow_daily;
      insert into stage_flow_daily (definition_id, day, entered, exited)
      select definition_id, day, sum(entered), sum(exited) from (
        select definition_id, (stage_start_time at time zone 'UTC')::date as day, 1 as entered, 0 as exited
          from stages where definition_id is not null and stage_start_time is not null
        union all
        select definition_id, (stage_end_time at time zone 'UTC')::date, 0, 1 from stages where definition_id is not null and stage_end_time is not null
      ) moves group by 1, 2;
      delete from open_ticket_delta;
      delete from open_ticket_tally;
      insert into open_ticket_tally (project_id, status, priority, definition_id, stage_label, n)
      select t.project_id, t.status, t.priority, s.definition_id, case when s.definition_id is null then s.stage_description end, count(*)
      from tickets t left join stages s on s.id = t.current_stage_id
      where t.status <> 'closed'
      group by 1, 2, 3, 4, 5;
      delete from stage_duration_delta;
      delete from stage_duration_tally;
      insert into stage_duration_tally (definition_id, day, bucket, business_bucket, n, total_ms, on_time)
      select definition_id, (stage_end_time at time zone 'UTC')::date, duration_bucket(ms), duration_bucket(business_ms),
        count(*), sum(ms), count(*) filter (where due_at is null or stage_end_time <= due_at)
      from (select s.*, extract(epoch from (stage_end_time - stage_start_time))::float8 * 1000 as ms from stages s
            where definition_id is not null and stage_end_time is not null and stage_start_time is not null) s
      group by 1, 2, 3, 4
    $$`.execute(db);
  await sql`select recount_tallies()`.execute(db);

  // Moves the deltas into the tallies; one folder at a time (the others skip), its cost that of the deltas alone.
  await sql`
    create function fold_tallies() returns void language plpgsql as $$
    begin
      if not pg_try_advisory_xact_lock(hashtext('stageline.fold_tallies')) then
        return;
      end if;
      with gone as (delete from stage_flow_delta returning *)
      insert into stage_flow_daily as f (definition_id, day, entered, exited)
      select definition_id, day, sum(entered), sum(exited) from gone group by 1, 2
      on conflict (definition_id, day) do update set entered = f.entered + excluded.entered, exited = f.exited + excluded.exited;

      with gone as (delete from open_ticket_delta returning *)
      insert into open_ticket_tally as o (project_id, status, priority, definition_id, stage_label, n)
      select project_id, status, priority, definition_id, stage_label, sum(n) from gone group by 1, 2, 3, 4, 5
      on conflict (project_id, status, priority, definition_id, stage_label) do update set n = o.n + excluded.n;
      delete from open_ticket_tally where n = 0;

      with gone as (delete from stage_duration_delta returning *)
      insert into stage_duration_tally as d (definition_id, day, bucket, business_bucket, n, total_ms, on_time)
      select definition_id, day, bucket, business_bucket, sum(n), sum(total_ms), sum(on_time) from gone group by 1, 2, 3, 4
      on conflict (definition_id, day, bucket, business_bucket)
        do update set n = d.n + excluded.n, total_ms = d.total_ms + excluded.total_ms, on_time = d.on_time + excluded.on_time;
    end $$`.execute(db);
}
