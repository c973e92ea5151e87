import { sql, type Kysely } from 'kysely';

/**
 * Issue 20: a ticket created through `/api` in a project with a workflow enters the workflow's first stage, unless
 * the project turns it off (tickets that wait outside every stage until someone triages them).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table projects add column new_tickets_enter_first_stage boolean not null default true`.execute(db);
}
