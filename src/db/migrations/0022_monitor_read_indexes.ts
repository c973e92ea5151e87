import { sql, type Kysely } from 'kysely';

/**
 * Monitor answers at a million tickets as bounded index-only scans (issue 19: every monitor endpoint computed afresh
 * p95 < 100 ms under 10 connections). Measured at 100,000 tickets (30-day window, project `web`):
 *
 * - Tickets created per day of one project (throughput) read every ticket created in the window through
 *   `tickets_created` to check its project: 7,790 rows on 5,864 heap pages (41 ms alone; at a million p95 739 ms).
 *   `tickets_project_created` makes it index-only: 35 buffers. Cost: one entry per ticket (~66 bytes, 66 MB per
 *   million tickets); neither column changes after the create except on a move to another project.
 * - Stage statistics read the duration tally's rows of the window from its heap (7,276 rows on 2,257 pages): the
 *   tally's key index does not hold the counts. `stage_duration_tally_read` holds them: 101 buffers. Cost: about
 *   the tally's own size (17 MB at 100,000 tickets); the tally is written only by `fold_tallies()`.
 * - The window's partial first and last days are read from the visits themselves (~1 day of ended visits, ~5,600
 *   at a million tickets for the biggest project, each on its own heap page). `stages_definition_ended` replaces
 *   `stages_definition_done` (same key, same predicate, so its other readers are served as before) and carries the
 *   columns those reads need, so they are index-only: +3 MB at 100,000 tickets (42 MB against 39 MB); the included
 *   columns do not change once a visit has ended.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists tickets_project_created on tickets (project_id, created_at)`.execute(db);
  await sql`
    create index if not exists stage_duration_tally_read on stage_duration_tally (definition_id, day)
    include (bucket, business_bucket, n, total_ms, on_time)`.execute(db);
  await sql`
    create index if not exists stages_definition_ended on stages (definition_id, stage_end_time)
    include (stage_start_time, due_at, business_ms) where definition_id is not null and stage_end_time is not null`.execute(db);
  await sql`drop index if exists stages_definition_done`.execute(db);
}
