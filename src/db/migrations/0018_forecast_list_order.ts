import { sql, type Kysely } from 'kysely';

/**
 * The ticket list sorted and filtered by breach probability (issue 23): a keyset page over the stored forecasts needs an
 * exact integer sort key (cursors carry integers, not floats) and an index in that order. The probability is stored
 * rounded to thousandths, so per mille loses nothing; generated, so the scan's upsert stays as it is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table ticket_forecasts
    add column breach_permille integer generated always as (round(probability * 1000)::integer) stored`.execute(db);
  await sql`create index ticket_forecasts_breach on ticket_forecasts (breach_permille, ticket_id)`.execute(db);
}
