import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database, Db } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { PartitionMaintenance } from '../../src/db/partitions.js';
import { migrateBefore, unmigratedDatabase } from '../helpers/database.js';

// Migration 0017 on a database filled before it, partition pruning shown by EXPLAIN, and the monthly maintenance.

const count = async (db: Db, table: string) =>
  Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.id(table)}`.execute(db)).rows[0]!.n);

async function partitionsOf(db: Db, table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = ${table}::regclass order by 1`.execute(
    db,
  );
  return rows.map((row) => row.name);
}

async function explain(db: Db, query: string): Promise<string> {
  const { rows } = await sql<{ 'QUERY PLAN': string }>`explain (costs off) ${sql.raw(query)}`.execute(db);
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

let database: Database;
before(async () => {
  database = await unmigratedDatabase('stageline_partitions');
});
after(() => database.close());

test('migration 0017 moves the rows of a database filled before it into month partitions', async () => {
  const { db } = database;
  await migrateBefore(db, '0017');
  // Two years of history on 300 tickets: events, change log (by trigger), audit and OPS log rows.
  await sql`
    insert into tickets (id, subject, status, created_at, updated_at)
    select 'tk-' || n, 'Ticket ' || n, 'new', timestamptz '2024-01-15' + n * interval '2 days', timestamptz '2024-01-15' + n * interval '2 days'
    from generate_series(1, 300) n`.execute(db);
  await sql`
    insert into ticket_events (ticket_id, type, data, created_at)
    select 'tk-' || n, 'comment', jsonb_build_object('n', n), timestamptz '2024-01-15' + n * interval '2 days' + interval '1 hour'
    from generate_series(1, 300) n`.execute(db);
  await sql`
    insert into audit_log (at, actor_name, action, details)
    select timestamptz '2024-01-01' + n * interval '3 days', 'admin', 'user.create', '{}' from generate_series(1, 200) n`.execute(db);
  await sql`
    insert into log_entries (id, ticket_id, action, status, timestamp)
    select 'log-' || n, 'tk-' || n, 'send', 'success', timestamptz '2024-01-15' + n * interval '2 days' from generate_series(1, 300) n`.execute(
    db,
  );
  const before = {
    ticket_events: await count(db, 'ticket_events'),
    change_log: await count(db, 'change_log'),
    audit_log: await count(db, 'audit_log'),
    log_entries: await count(db, 'log_entries'),
  };
  assert.equal(before.ticket_events, 300);
  assert.ok(before.change_log >= 600, `${before.change_log} change log rows`);
  const lastEvent = Number((await sql<{ id: number }>`select max(id) as id from ticket_events`.execute(db)).rows[0]!.id);

  await migrateToLatest(db);

  for (const [table, rows] of Object.entries(before)) assert.equal(await count(db, table), rows, `${table} keeps its rows`);
  const parts = await partitionsOf(db, 'ticket_events');
  assert.ok(
    parts.includes('ticket_events_p2024_01') && parts.includes('ticket_events_p2025_08') && parts.includes('ticket_events_default'),
  );
  assert.equal(await count(db, 'ticket_events_p2024_02'), 14, 'a month holds its own rows');
  assert.equal(await count(db, 'ticket_events_default'), 0);
  // Ids kept, identity continued, triggers and foreign keys back.
  const { rows } = await sql<{ id: number }>`
    insert into ticket_events (ticket_id, type, created_at) values ('tk-1', 'comment', now()) returning id`.execute(db);
  assert.ok(Number(rows[0]!.id) > lastEvent);
  assert.equal(await count(db, 'change_log'), before.change_log + 1, 'the change log trigger fires on the partitioned table');
  await assert.rejects(
    sql`insert into ticket_events (ticket_id, type, created_at) values ('no-such-ticket', 'comment', now())`.execute(db),
    /foreign key/,
  );
  await sql`delete from tickets where id = 'tk-2'`.execute(db);
  assert.equal(await count(db, 'ticket_events'), 300, "a deleted ticket's history goes with it (cascade)");
  await assert.rejects(sql`update audit_log set action = 'x'`.execute(db), /append-only/);
  await assert.rejects(sql`delete from audit_log`.execute(db), /append-only/);
  const { rows: keys } = await sql<{ def: string }>`
    select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = 'log_entries'::regclass and contype = 'p'`.execute(db);
  assert.equal(keys[0]!.def, 'PRIMARY KEY (id, "timestamp")');
});

test('a query naming a time range reads only its months (EXPLAIN)', async () => {
  const { db } = database;
  await new PartitionMaintenance(db, { months: {}, mode: 'drop' }).maintain(new Date('2031-01-10T00:00:00Z'));
  const plans = {
    audit: await explain(db, `select * from audit_log where at >= '2031-02-01' and at < '2031-03-01' order by id desc limit 50`),
    ops: await explain(
      db,
      `select * from log_entries where ticket_id = 'tk-1' and "timestamp" >= '2031-02-03' and "timestamp" < '2031-02-20' order by "timestamp" desc, id desc limit 50`,
    ),
    history: await explain(db, `select count(*) from ticket_events where created_at >= '2031-01-20' and created_at < '2031-02-10'`),
  };
  const scanned = (plan: string, table: string) => [...new Set(plan.match(new RegExp(`${table}_(p\\d{4}_\\d{2}|default)`, 'g')))].sort();
  assert.deepEqual(scanned(plans.audit, 'audit_log'), ['audit_log_p2031_02']);
  assert.deepEqual(scanned(plans.ops, 'log_entries'), ['log_entries_p2031_02']);
  assert.deepEqual(scanned(plans.history, 'ticket_events'), ['ticket_events_p2031_01', 'ticket_events_p2031_02']);
  // The same with the range as parameters, as the application sends it: pruned when planned or when run.
  const { rows } = await sql<{ 'QUERY PLAN': string }>`
    explain (analyze, costs off, timing off, summary off) select * from audit_log where at >= ${new Date('2031-02-01T00:00:00Z')} and at < ${new Date('2031-03-01T00:00:00Z')}`.execute(
    db,
  );
  const analysed = rows.map((row) => row['QUERY PLAN']).join('\n');
  assert.deepEqual(
    scanned(analysed, 'audit_log').filter((name) => !/never executed/.test(analysed.split(name)[1]?.split('\n')[0] ?? '')),
    ['audit_log_p2031_02'],
  );
});

test('maintenance makes months ahead, moves stray rows out of the default partition, and drops or detaches old months', async () => {
  const { db } = database;
  // A row from a clock beyond every month made so far lands in the default partition…
  await sql`insert into audit_log (at, actor_name, action) values ('2035-06-15', 'admin', 'user.create')`.execute(db);
  assert.equal(await count(db, 'audit_log_default'), 1);
  // …and moves into its month when the maintenance makes that month.
  const made = await new PartitionMaintenance(db, { months: {}, mode: 'drop' }).maintain(new Date('2035-06-01T00:00:00Z'));
  assert.ok(made.created.includes('audit_log_p2035_06') && made.created.includes('audit_log_p2035_09'));
  assert.equal(made.moved, 1);
  assert.equal(await count(db, 'audit_log_default'), 0);
  assert.equal(await count(db, 'audit_log_p2035_06'), 1);
  await assert.rejects(sql`delete from audit_log`.execute(db), /append-only/, 'the guard is back on outside the move');

  // Retention: two months kept before the current one; older audit months are dropped whole, the OPS log's detached.
  const retained = await new PartitionMaintenance(db, { months: { audit_log: 2 }, mode: 'drop' }).maintain(
    new Date('2035-09-02T00:00:00Z'),
  );
  assert.ok(retained.removed.includes('audit_log_p2035_06') && retained.removed.includes('audit_log_p2024_01'));
  assert.ok(!retained.removed.includes('audit_log_p2035_07'));
  assert.equal(await count(db, 'audit_log'), 0, 'the rows went with their months, without a delete');
  await new PartitionMaintenance(db, { months: { log_entries: 1 }, mode: 'detach' }).maintain(new Date('2035-09-02T00:00:00Z'));
  assert.ok(!(await partitionsOf(db, 'log_entries')).includes('log_entries_p2024_02'));
  assert.equal(await count(db, 'log_entries_p2024_02'), 14, 'a detached month is an ordinary table, kept to archive');
});
