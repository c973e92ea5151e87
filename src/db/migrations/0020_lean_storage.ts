import { sql, type Kysely } from 'kysely';

/**
 * Fewer bytes per ticket (issue 19, storage): the per-ticket indexes of the child tables become ones btree
 * deduplication can pack, and the change log's time index a BRIN. No row is touched; only index definitions change.
 * Measured on the 100,000-ticket bench data set (docs/performance.md, "Indexes"):
 *
 * - `stages_ticket (ticket_id, stage_start_time, id)` becomes `stages_ticket (ticket_id)`: every query by a ticket's
 *   visits reads a handful of rows and sorts them itself (`visitsOf` by start and number, `visitsForTransition` by
 *   number, the moments trigger takes a min over the open ones), so the trailing columns bought no order; without
 *   them the key repeats per ticket and deduplication stores it once with the row pointers (59 MB → ~12 MB).
 * - `stages_start (stage_start_time, id)` becomes `stages_start (stage_start_time)`: it serves the stage list's
 *   `started_from` / `started_to` range and `state=planned` (`is null`); the list's order is `created_at`, `updated_at`
 *   or `number`, never the start, so the id (37 bytes a row) bought nothing.
 * - `ticket_events_ticket (ticket_id, id)` becomes `ticket_events_ticket (ticket_id)` on every partition: a history
 *   page reads the ticket's entries (a few dozen) and sorts them by id; ~10 entries per ticket share one key
 *   (74 MB → ~9 MB on the 100k set).
 * - `ticket_stages`: the primary key `(ticket_id, stage_id)` and `ticket_stages_stage (stage_id)` become the primary
 *   key `(stage_id, ticket_id)` (the lookups by stage: which tickets list it, the cascade from a deleted stage) and a
 *   deduplicated `ticket_stages_ticket (ticket_id)` (a ticket's list, read whole and sorted by position). The same
 *   uniqueness, one wide index instead of two.
 * - `change_log_created` (btree on `created_at`) becomes a BRIN: the log is appended in time order, and its one use
 *   is the prune's `created_at < …` range (8 MB → a few pages).
 *
 * - `tickets` and `stages` go back to the default fillfactor (0019 left 15 % and 10 % of each new page free for HOT
 *   updates). While `updated_at` is indexed no ticket or stage write is HOT: under the bench's read/write mix
 *   on the 100k set, 0 of 862 ticket updates and 0 of 93 stage updates were (pg_stat_user_tables.n_tup_hot_upd), so
 *   the room was only empty space. Pages already written keep their fill; new ones are filled.
 *
 * Kept on purpose: `tickets_updated` and `stages_updated` (the lists' `sort=updated_at` and `updated_since` have no
 * other index; PostgreSQL 15 has no HOT with a changed indexed column, BRIN included), `ticket_events` and
 * `change_log` primary keys (the dispatcher reads history by id; the import's `max(id)`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists stages_ticket`.execute(db);
  await sql`create index stages_ticket on stages (ticket_id) where ticket_id is not null`.execute(db);

  await sql`drop index if exists stages_start`.execute(db);
  await sql`create index stages_start on stages (stage_start_time)`.execute(db);

  // On the partitioned parent: the index is made on every partition (and on those made later).
  await sql`drop index if exists ticket_events_ticket`.execute(db);
  await sql`create index ticket_events_ticket on ticket_events (ticket_id)`.execute(db);

  await sql`alter table ticket_stages drop constraint ticket_stages_pkey`.execute(db);
  await sql`alter table ticket_stages add constraint ticket_stages_pkey primary key (stage_id, ticket_id)`.execute(db);
  await sql`drop index if exists ticket_stages_stage`.execute(db);
  await sql`create index ticket_stages_ticket on ticket_stages (ticket_id)`.execute(db);

  await sql`drop index if exists change_log_created`.execute(db);
  await sql`create index change_log_created on change_log using brin (created_at)`.execute(db);

  await sql`alter table tickets reset (fillfactor)`.execute(db);
  await sql`alter table stages reset (fillfactor)`.execute(db);
}
