import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database, Db } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrateBefore, unmigratedDatabase } from '../helpers/database.js';

// Migration 0020 (issue 19, storage) on a database filled through the layout before it: every row kept, the narrower
// indexes in place, and the queries by ticket and by stage still answered from an index.
let database: Database;
before(async () => {
  database = await unmigratedDatabase('lean_storage_migration');
});
after(() => database.close());

const tables = ['tickets', 'stages', 'ticket_stages', 'ticket_events', 'change_log'] as const;

async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of tables) {
    out[table] = Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.id(table)}`.execute(db)).rows[0]!.n);
  }
  return out;
}

/** Each ticket's stage ids in list order, as the tickets repository reads them. */
async function stageLists(db: Db): Promise<Record<string, string[]>> {
  const { rows } = await sql<{ id: string; stage_ids: string[] }>`
    select t.id, array(select ts.stage_id from ticket_stages ts where ts.ticket_id = t.id order by ts.position) as stage_ids
    from tickets t order by t.id`.execute(db);
  return Object.fromEntries(rows.map((row) => [row.id, row.stage_ids]));
}

/** Tickets `from..to`, each with three visits (listed in reverse order), two history entries and their log rows. */
async function fill(db: Db, from: number, to: number): Promise<void> {
  await sql`
    insert into tickets (id, subject, project, priority, status, created_at, updated_at)
    select 'tk-' || n, 'Ticket ' || n, 'LEAN', 'medium', 'open', timestamptz '2026-01-01' + n * interval '1 hour', now()
    from generate_series(${from}::int, ${to}::int) n`.execute(db);
  await sql`
    insert into stages (id, ticket_id, definition_id, visit, stage_start_time, stage_end_time, created_at, updated_at)
    select 'st-' || n || '-' || k, 'tk-' || n, 'def-a', k, timestamptz '2026-01-01' + (n + k) * interval '1 hour',
      case when k < 3 then timestamptz '2026-01-01' + (n + k) * interval '1 hour' + interval '30 minutes' end, now(), now()
    from generate_series(${from}::int, ${to}::int) n cross join generate_series(1, 3) k`.execute(db);
  await sql`insert into ticket_stages (ticket_id, stage_id, position)
    select 'tk-' || n, 'st-' || n || '-' || k, 3 - k from generate_series(${from}::int, ${to}::int) n cross join generate_series(1, 3) k`.execute(
    db,
  );
  await sql`insert into ticket_events (ticket_id, type, data, created_at)
    select 'tk-' || n, t, '{}', timestamptz '2026-01-01' + n * interval '1 hour'
    from generate_series(${from}::int, ${to}::int) n cross join unnest(array['created', 'comment']) t`.execute(db);
}

async function plan(db: Db, query: string): Promise<string> {
  return db.transaction().execute(async (tx) => {
    // Tiny tables make a sequential scan cheapest; forbid it to see which index the planner can use.
    await sql`set local enable_seqscan = off`.execute(tx);
    const { rows } = await sql.raw<{ 'QUERY PLAN': string }>(`explain ${query}`).execute(tx);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  });
}

async function indexdef(db: Db, name: string): Promise<string | undefined> {
  const { rows } = await sql<{ def: string }>`select indexdef as def from pg_indexes where indexname = ${name}`.execute(db);
  return rows[0]?.def;
}

test('migration 0020 keeps every row, narrows the per-ticket indexes, and every lookup stays indexed', async () => {
  const { db } = database;
  await migrateBefore(db, '0020');
  await sql`insert into projects (id, key, name, created_at, updated_at) values ('p-lean', 'LEAN', 'Lean', now(), now())`.execute(db);
  await sql`insert into stage_definitions (id, project_id, key, name, position) values ('def-a', 'p-lean', 'a', 'A', 0)`.execute(db);
  await fill(db, 1, 100);
  const before = { counts: await counts(db), lists: await stageLists(db) };
  assert.equal(before.counts.tickets, 100);
  assert.equal(before.counts.ticket_stages, 300);
  assert.deepEqual(before.lists['tk-7'], ['st-7-3', 'st-7-2', 'st-7-1']);

  await migrateToLatest(db);

  assert.deepEqual(await counts(db), before.counts, 'every row kept');
  assert.deepEqual(await stageLists(db), before.lists, 'every ticket lists its stages in the same order');
  assert.match((await indexdef(db, 'stages_ticket'))!, /\(ticket_id\) WHERE \(ticket_id IS NOT NULL\)/);
  assert.match((await indexdef(db, 'stages_start'))!, /\(stage_start_time\)$/);
  assert.match((await indexdef(db, 'ticket_events_ticket'))!, /\(ticket_id\)$/);
  assert.match((await indexdef(db, 'ticket_stages_pkey'))!, /\(stage_id, ticket_id\)/);
  assert.match((await indexdef(db, 'ticket_stages_ticket'))!, /\(ticket_id\)$/);
  assert.equal(await indexdef(db, 'ticket_stages_stage'), undefined);
  assert.match((await indexdef(db, 'change_log_created'))!, /USING brin \(created_at\)/);

  // The lookups the repositories make: a ticket's visits, history and stage list; a stage's tickets; the prune.
  for (const [name, query, index] of [
    [
      'visits',
      `select * from stages where ticket_id = 'tk-3' and definition_id is not null order by stage_start_time, number`,
      'stages_ticket',
    ],
    ['open visits', `select s.id, s.due_at from stages s where s.ticket_id = 'tk-3' and s.stage_end_time is null`, 'stages_ticket'],
    [
      'started range',
      `select * from stages where stage_start_time >= '2026-01-02' and stage_start_time < '2026-01-03' order by created_at desc, id desc limit 51`,
      'stages_start',
    ],
    ['history', `select * from ticket_events where ticket_id = 'tk-3' and id > 0 order by id limit 50`, 'ticket_id_idx'],
    ['stage list', `select stage_id from ticket_stages where ticket_id = 'tk-3' order by position`, 'ticket_stages_ticket'],
    [
      'stage tickets',
      `select ticket_id from ticket_stages where stage_id in ('st-3-1', 'st-4-1') order by stage_id, ticket_id`,
      'ticket_stages_pkey',
    ],
    ['prune', `delete from change_log where created_at < now() - interval '40 days'`, 'change_log'],
  ] as const) {
    const explained = await plan(db, query);
    assert.match(explained, /Index|Bitmap/, `${name}: ${explained}`);
    assert.match(explained, new RegExp(index), `${name}: ${explained}`);
  }

  // Behaviour: a stage is listed once per ticket; deleting a stage or a ticket takes its links and history with it.
  await assert.rejects(sql`insert into ticket_stages (ticket_id, stage_id, position) values ('tk-5', 'st-5-1', 9)`.execute(db));
  await sql`insert into ticket_stages (ticket_id, stage_id, position) values ('tk-6', 'st-5-1', 3)`.execute(db);
  await sql`insert into ticket_stages (ticket_id, stage_id, position) values ('tk-6', 'st-5-1', 4) on conflict (ticket_id, stage_id) do nothing`.execute(
    db,
  );
  assert.deepEqual((await stageLists(db))['tk-6'], ['st-6-3', 'st-6-2', 'st-6-1', 'st-5-1']);
  await sql`delete from stages where id = 'st-5-1'`.execute(db);
  await sql`delete from tickets where id = 'tk-9'`.execute(db);
  const lists = await stageLists(db);
  assert.deepEqual(lists['tk-5'], ['st-5-3', 'st-5-2']);
  assert.deepEqual(lists['tk-6'], ['st-6-3', 'st-6-2', 'st-6-1']);
  assert.equal(lists['tk-9'], undefined);

  await fill(db, 101, 150);
  const after = await counts(db);
  assert.equal(after.tickets, 149);
  assert.equal(after.ticket_stages, 300 - 1 - 3 + 150);
  assert.equal(after.ticket_events, 200 - 2 + 100);
  assert.deepEqual((await stageLists(db))['tk-120'], ['st-120-3', 'st-120-2', 'st-120-1']);
});
