import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The id a ticket had in the system it was imported from: re-running an import skips the rows already there.
  await sql`alter table tickets add column external_id text`.execute(db);
  await sql`create unique index tickets_external_id on tickets (external_id) where external_id is not null`.execute(db);
}
