import { sql, type Kysely } from 'kysely';

/**
 * The forecast's background work at scale (issue 19).
 *
 * `forecast_models`: what the refresh needs to tell, cheaply, that a stored model still equals what its history would
 * give now, so a restart (and a refresh when nothing changed) reads the stored model instead of recomputing it from
 * 180 days of visits (22 s of both cores at a million tickets). `checked_at`: the moment (the app's clock) the model
 * was last known to match its history; `checked_xmin`: where the change log stood then (the oldest transaction still
 * running, an xid8 as text: rows past it may be unseen); `business_time`: whether it was computed with a calendar.
 *
 * `ticket_forecast_checks`: each open ticket the scan has seen, with a digest of what its project's forecasts rest on
 * (settings, when the model was refreshed) and the moment its forecast next changes materially as time passes
 * (crosses the project's threshold or moves by a couple of points); `forecast_models.scanned_xmin`: where the change
 * log stood when the last scan began. A scan forecasts only the tickets the change log says changed since, those of a
 * project whose digest changed and those whose moment has come, not every open ticket every 2 minutes. A table of its
 * own, like `ticket_forecasts`: writing it fires none of the tickets' triggers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table forecast_models add column checked_at timestamptz, add column checked_xmin text,
    add column business_time boolean, add column scanned_xmin text`.execute(db);
  await sql`
    create table ticket_forecast_checks (
      ticket_id text primary key references tickets (id) on delete cascade,
      project_id text,
      settings text,
      recheck_at timestamptz not null
    )`.execute(db);
}
