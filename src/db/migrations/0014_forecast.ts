import { sql, type Kysely } from 'kysely';

/**
 * The delivery forecast (issue 23). A project's history boiled down to duration histograms per stage and priority and
 * the moves between stages, refreshed periodically: a forecast reads one small row per project, never the visits.
 * The project's threshold for "likely to breach"; and the ticket's last forecast, written by the periodic job so the
 * Delayed view and the ticket list can sort and filter by it (a table of its own: writing it fires none of the
 * tickets' triggers and change log), and the visit's marker that `ticket.breach_likely` was recorded for it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table forecast_models (
      project_id text primary key references projects (id) on delete cascade,
      input jsonb not null,
      stages jsonb not null,
      refreshed_at timestamptz not null
    )`.execute(db);
  await sql`alter table projects add column breach_likely_threshold real not null default 0.7
    check (breach_likely_threshold > 0 and breach_likely_threshold <= 1)`.execute(db);
  await sql`
    create table ticket_forecasts (
      ticket_id text primary key references tickets (id) on delete cascade,
      project_id text not null,
      stage_id text not null,
      probability real not null,
      stage_probability real,
      ticket_probability real,
      expected_finish_at timestamptz,
      computed_at timestamptz not null
    )`.execute(db);
  await sql`create index ticket_forecasts_project on ticket_forecasts (project_id, probability desc, ticket_id)`.execute(db);
  await sql`alter table stages add column breach_likely_at timestamptz`.execute(db);
}
