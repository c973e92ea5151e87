import { sql, type Kysely } from 'kysely';

/**
 * Partitioned history (issue 22). The append-only tables that grow without end become partitioned by month on their
 * time column (PostgreSQL's native range partitioning, PGlite too): a query naming a time range reads only its
 * months, and retention drops or detaches whole months (src/db/partitions.ts) instead of deleting rows.
 *
 * Each table is rebuilt: its indexes, triggers and foreign keys are read from the catalogue and made again on the new
 * table, its rows copied with their ids, its identity continued. The primary key gains the time column (a unique
 * index on a partitioned table must contain the partition key); nothing references these tables' ids by foreign key.
 * Months from the oldest row to three months ahead get a partition each; a default partition catches anything
 * outside them (the maintenance job moves such rows into their month when it makes it).
 *
 * Partitioned: ticket_events (created_at), change_log (created_at), audit_log (at), log_entries (timestamp).
 * Not (yet): mail_deliveries and webhook_deliveries (unique keys without a time: the dedupe of a mail, a hook's event
 * once) and the outbox (rows change state; finished rows are purged by age already).
 */
const tables = [
  { table: 'ticket_events', column: 'created_at', id: 'id' },
  { table: 'change_log', column: 'created_at', id: 'id' },
  { table: 'audit_log', column: 'at', id: 'id' },
  { table: 'log_entries', column: 'timestamp', id: 'id' },
] as const;

const AHEAD_MONTHS = 3;

export async function up(db: Kysely<unknown>): Promise<void> {
  // Moving rows out of the default partition into a new month is a delete there: the append-only guard lets
  // exactly that through (src/db/partitions.ts sets the flag in its own transaction).
  await sql`
    create or replace function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' and current_setting('stageline.partition_move', true) = 'on' then
        return old;
      end if;
      raise exception 'audit_log is append-only' using errcode = '42501';
    end $$`.execute(db);

  for (const { table, column, id } of tables) await partition(db, table, column, id);
}

async function partition(db: Kysely<unknown>, table: string, column: string, id: string): Promise<void> {
  const t = sql.id(table);
  const old = `${table}_unpartitioned`;
  const { rows: definitions } = await sql<{ ddl: string }>`
    select pg_get_indexdef(i.indexrelid) as ddl from pg_index i where i.indrelid = ${table}::regclass and not i.indisprimary
    union all
    select pg_get_triggerdef(g.oid) from pg_trigger g where g.tgrelid = ${table}::regclass and not g.tgisinternal
    union all
    select format('alter table %I add constraint %I %s', ${table}::text, c.conname, pg_get_constraintdef(c.oid))
      from pg_constraint c where c.conrelid = ${table}::regclass and c.contype = 'f'`.execute(db);

  await sql`alter table ${t} rename to ${sql.id(old)}`.execute(db);
  // The identity's sequence keeps its name with the old table: free the name for the new one.
  const { rows: sequences } = await sql<{ name: string | null }>`select pg_get_serial_sequence(${old}, ${id}) as name`.execute(db);
  if (sequences[0]?.name) await sql`alter sequence ${sql.raw(sequences[0].name)} rename to ${sql.id(`${old}_${id}_seq`)}`.execute(db);
  await sql`
    create table ${t} (like ${sql.id(old)} including defaults including identity including constraints including generated,
      primary key (${sql.id(id)}, ${sql.id(column)}))
    partition by range (${sql.id(column)})`.execute(db);

  const { rows: span } = await sql<{ first: string; last: string }>`
    select to_char(date_trunc('month', coalesce(least(min(${sql.id(column)}), now()), now()) at time zone 'UTC'), 'YYYY-MM-DD') as first,
           to_char(date_trunc('month', now() at time zone 'UTC') + make_interval(months => ${AHEAD_MONTHS}), 'YYYY-MM-DD') as last
    from ${sql.id(old)}`.execute(db);
  for (let month = span[0]!.first; month <= span[0]!.last; month = nextMonth(month)) {
    const name = `${table}_p${month.slice(0, 4)}_${month.slice(5, 7)}`;
    await sql`
      create table ${sql.id(name)} partition of ${t}
      for values from (${sql.lit(`${month} 00:00:00+00`)}) to (${sql.lit(`${nextMonth(month)} 00:00:00+00`)})`.execute(db);
  }
  await sql`create table ${sql.id(`${table}_default`)} partition of ${t} default`.execute(db);

  await sql`insert into ${t} overriding system value select * from ${sql.id(old)}`.execute(db);
  const { rows: identity } = await sql<{ name: string | null }>`select pg_get_serial_sequence(${table}, ${id}) as name`.execute(db);
  if (identity[0]?.name) {
    await sql`select setval(${identity[0].name}, coalesce((select max(${sql.id(id)}) from ${t}), 0) + 1, false)`.execute(db);
  }
  await sql`drop table ${sql.id(old)}`.execute(db);
  for (const { ddl } of definitions) await sql.raw(ddl).execute(db);
}

function nextMonth(month: string): string {
  const [year, m] = [Number(month.slice(0, 4)), Number(month.slice(5, 7))];
  return m === 12 ? `${year + 1}-01-01` : `${year}-${String(m + 1).padStart(2, '0')}-01`;
}
