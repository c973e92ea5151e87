import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Where each consumer of ticket history (e-mail notifications, webhooks) has read the change log up to.
  // Its cursor moves in the transaction that queues its work, so each event is handed over exactly once.
  await sql`
    create table event_consumers (
      name text primary key,
      txid xid8 not null,
      last_id bigint not null,
      updated_at timestamptz not null default now()
    )`.execute(db);
  // The dispatcher reads only history inserts and ticket deletions from the change log.
  await sql`create index change_log_dispatch on change_log (txid, id) where (entity = 'history' and op = 'insert') or (entity = 'ticket' and op = 'delete')`.execute(
    db,
  );
}
