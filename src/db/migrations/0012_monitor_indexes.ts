import { sql, type Kysely } from 'kysely';

/**
 * Dashboard counts per project as index-only scans. Measured at 1,000,000 tickets: the at-risk and overdue counts of
 * one project fetched ~23,000 ticket rows to check the project and overdue moment (200 ms cold) and the delayed
 * list sorted them all to show 50 (the id makes its ordering index-only, the page's rows are read after), aging and
 * throughput fetched every open or recently closed ticket of the project (300+ ms).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index tickets_open_delay on tickets (project_id, at_risk_from, overdue_from) include (id) where at_risk_from is not null and status <> 'closed'`.execute(
    db,
  );
  await sql`create index tickets_open_project on tickets (project_id, created_at) where status <> 'closed'`.execute(db);
  await sql`create index tickets_closed_project on tickets (project_id, closed_at) where closed_at is not null`.execute(db);
}
