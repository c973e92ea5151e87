import { sql, type Kysely } from 'kysely';

/**
 * The OPS log records an attempt that a crash (or a lost database connection) cut off: when its lease runs out and
 * the hand-off is taken up again, an `interrupted` entry comes before the new attempt, so every call OPS may have
 * received shows in the log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table log_entries drop constraint log_entries_action_check`.execute(db);
  await sql`
    alter table log_entries add constraint log_entries_action_check
      check (action in ('send', 'retry', 'query', 'callback', 'poll', 'interrupted'))`.execute(db);
}
