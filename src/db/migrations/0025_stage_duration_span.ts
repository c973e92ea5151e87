import { sql, type Kysely } from 'kysely';

/**
 * Stage statistics over the dashboard's window as a bounded read (issue 19: every monitor endpoint computed afresh
 * p95 < 100 ms under 10 connections at a million tickets).
 *
 * The window's whole days were read from the duration tally, one row per definition, day, wall-clock bucket and
 * business bucket: at 1,000,000 tickets a 30-day window of project `web` is ~100,000 tally rows, grouped twice on every
 * request. A window's whole days all lie in the past, so their sum hardly changes: `stage_duration_span` holds it, per
 * definition and bucket (wall-clock and business buckets as separate rows), for the spans listed in
 * `stage_duration_spans` — the monitor builds the span of its default window (`build_duration_span`, after each fold),
 * a few hundred rows per definition. Every write to the tally (the fold, the import's direct writes, a recount) adds
 * its difference to the spans covering its days in the same statement (the trigger below), so a span always equals
 * the sum of the tally's rows over its days; the deltas not yet folded are read beside it, as for the tally.
 *
 * "In stage now" per definition is the flow tally's entries less its exits (every ended visit had started), plus the
 * open visits that never started, which `stages_definition_open_unstarted` lists (no workflow writes one: an index
 * that stays empty, so it costs a write nothing but its predicate).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index stages_definition_open_unstarted on stages (definition_id)
    where definition_id is not null and stage_end_time is null and stage_start_time is null`.execute(db);
  await sql`
    create table stage_duration_spans (from_day date not null, to_day date not null, built_at timestamptz not null default now(),
      primary key (from_day, to_day))`.execute(db);
  await sql`
    create table stage_duration_span (from_day date not null, to_day date not null, definition_id text not null,
      wall boolean not null, bucket smallint not null, n bigint not null, total_ms double precision not null, on_time bigint not null,
      primary key (from_day, to_day, definition_id, wall, bucket))`.execute(db);

  // A tally row as its span rows: the wall-clock bucket (with the totals) and the business bucket (counts only).
  const split = (rows: string, sign: string) => `
      select m.from_day, m.to_day, r.definition_id, k.wall, k.bucket, ${sign} * r.n as n,
        case when k.wall then ${sign} * r.total_ms else 0 end as total_ms, case when k.wall then ${sign} * r.on_time else 0 end as on_time
      from ${rows} r
      join stage_duration_spans m on r.day >= m.from_day and r.day < m.to_day
      cross join lateral (values (true, r.bucket), (false, r.business_bucket)) as k(wall, bucket)
      where k.bucket is not null`;
  const apply = (rows: string) => `
      if exists (select 1 from stage_duration_spans) then
        insert into stage_duration_span as s (from_day, to_day, definition_id, wall, bucket, n, total_ms, on_time)
        select from_day, to_day, definition_id, wall, bucket, sum(n), sum(total_ms), sum(on_time)
        from (${rows}) d
        group by 1, 2, 3, 4, 5
        order by 1, 2, 3, 4, 5
        on conflict (from_day, to_day, definition_id, wall, bucket)
          do update set n = s.n + excluded.n, total_ms = s.total_ms + excluded.total_ms, on_time = s.on_time + excluded.on_time;
      end if;`;
  const bodies = {
    insert: apply(split('changed', '1')),
    update: apply(`${split('previous', '-1')} union all ${split('changed', '1')}`),
    delete: apply(split('changed', '-1')),
  };
  const transition = {
    insert: 'new table as changed',
    update: 'old table as previous new table as changed',
    delete: 'old table as changed',
  };
  for (const event of ['insert', 'update', 'delete'] as const) {
    await sql
      .raw(
        `create function stage_duration_span_${event}() returns trigger language plpgsql as $$ begin ${bodies[event]} return null; end $$`,
      )
      .execute(db);
    await sql
      .raw(
        `create trigger stage_duration_span_${event} after ${event} on stage_duration_tally referencing ${transition[event]}
         for each statement execute function stage_duration_span_${event}()`,
      )
      .execute(db);
  }

  // Builds the span [from_day, to_day) from the tally and drops every other span; a no-op when it exists or while a
  // writer holds the tally (tried again after the next fold). The share lock waits for no one and keeps writers out
  // while the span is summed, so no write to the tally falls between the sum and the trigger that keeps it.
  await sql`
    create function build_duration_span(span_from date, span_to date) returns boolean language plpgsql as $$
    begin
      if exists (select 1 from stage_duration_spans where from_day = span_from and to_day = span_to) then
        return false;
      end if;
      begin
        lock table stage_duration_tally in share mode nowait;
      exception when lock_not_available then
        return false;
      end;
      delete from stage_duration_span where (from_day, to_day) <> (span_from, span_to);
      delete from stage_duration_spans where (from_day, to_day) <> (span_from, span_to);
      insert into stage_duration_spans (from_day, to_day) values (span_from, span_to) on conflict do nothing;
      if not found then
        return false;
      end if;
      insert into stage_duration_span (from_day, to_day, definition_id, wall, bucket, n, total_ms, on_time)
      select span_from, span_to, definition_id, k.wall, k.bucket, sum(r.n),
        sum(case when k.wall then r.total_ms else 0 end), sum(case when k.wall then r.on_time else 0 end)
      from stage_duration_tally r
      cross join lateral (values (true, r.bucket), (false, r.business_bucket)) as k(wall, bucket)
      where r.day >= span_from and r.day < span_to and k.bucket is not null
      group by 1, 2, 3, 4, 5;
      return true;
    end $$`.execute(db);
}
