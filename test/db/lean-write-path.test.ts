import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Database, Db } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrateBefore, unmigratedDatabase } from '../helpers/database.js';

// Migration 0019 (issue 19) on a database filled through the layout before it: every row kept, and the statement
// triggers that replace the row triggers keep the change log, the tallies and the tickets' stage moments as before.
let database: Database;
before(async () => {
  database = await unmigratedDatabase('lean_schema_migration');
});
after(() => database.close());

const tables = ['tickets', 'stages', 'ticket_stages', 'ticket_events', 'change_log', 'projects', 'stage_definitions'] as const;

async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of tables) {
    out[table] = Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.id(table)}`.execute(db)).rows[0]!.n);
  }
  return out;
}

/** The tallies as their readers see them (tally plus unfolded deltas), in a stable order. */
async function tallies(db: Db): Promise<unknown> {
  const flow = await sql`select definition_id, day::text, entered::int, exited::int from stage_flow_now
    where entered <> 0 or exited <> 0 order by 1, 2`.execute(db);
  const open =
    await sql`select project_id, status, priority, definition_id, stage_label, n::int from open_ticket_now order by 1, 2, 3, 4, 5`.execute(
      db,
    );
  const duration =
    await sql`select definition_id, day::text, bucket, business_bucket, sum(n)::int as n, round(sum(total_ms))::bigint::text as ms,
    sum(on_time)::int as on_time from stage_duration_now group by 1, 2, 3, 4 having sum(n) <> 0 order by 1, 2, 3, 4`.execute(db);
  return { flow: flow.rows, open: open.rows, duration: duration.rows };
}

/** Tickets whose stored stage moments differ from their open visits' earliest at-risk and due moments. */
async function wrongMoments(db: Db): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from tickets t
    where (t.stage_at_risk_at, t.stage_due_at) is distinct from (
      (select min(coalesce(s.at_risk_at, s.due_at)) from stages s where s.ticket_id = t.id and s.stage_end_time is null),
      (select min(s.due_at) from stages s where s.ticket_id = t.id and s.stage_end_time is null))`.execute(db);
  return Number(rows[0]!.n);
}

/** Tickets `from..to`, each with an ended and an open visit of the project's two stages, and two history entries. */
async function fill(db: Db, from: number, to: number): Promise<void> {
  await sql`
    insert into tickets (id, subject, project, priority, status, created_at, updated_at)
    select 'tk-' || n, 'Ticket ' || n, 'LEAN', (array['low', 'medium', 'high'])[1 + n % 3], (array['new', 'open', 'closed'])[1 + n % 3],
      timestamptz '2026-01-01' + n * interval '1 hour', timestamptz '2026-01-01' + n * interval '1 hour'
    from generate_series(${from}::int, ${to}::int) n`.execute(db);
  await sql`
    insert into stages (id, ticket_id, definition_id, visit, stage_description, stage_start_time, stage_end_time, due_at, at_risk_at,
      business_ms, created_at, updated_at)
    select 'st-' || n || '-' || k, 'tk-' || n, case k when 1 then 'def-a' else 'def-b' end, 1, null,
      timestamptz '2026-01-01' + n * interval '1 hour' + (k - 1) * interval '2 hours',
      case k when 1 then timestamptz '2026-01-01' + n * interval '1 hour' + interval '2 hours' end,
      timestamptz '2026-01-01' + n * interval '1 hour' + k * interval '3 hours' + (n % 5) * interval '1 minute',
      case when n % 2 = 0 then timestamptz '2026-01-01' + n * interval '1 hour' + k * interval '2 hours' end,
      case k when 1 then 7200000 + n end, now(), now()
    from generate_series(${from}::int, ${to}::int) n cross join generate_series(1, 2) k`.execute(db);
  await sql`insert into ticket_stages (ticket_id, stage_id, position)
    select 'tk-' || n, 'st-' || n || '-' || k, k - 1 from generate_series(${from}::int, ${to}::int) n cross join generate_series(1, 2) k`.execute(
    db,
  );
  await sql`update tickets set current_stage_id = 'st-' || substr(id, 4) || '-2', updated_at = now()
    where id in (select 'tk-' || n from generate_series(${from}::int, ${to}::int) n)`.execute(db);
  await sql`insert into ticket_events (ticket_id, type, data, created_at)
    select 'tk-' || n, t, '{}', timestamptz '2026-01-01' + n * interval '1 hour'
    from generate_series(${from}::int, ${to}::int) n cross join unnest(array['created', 'comment']) t`.execute(db);
}

/** Transitions and edits: a multi-row update that ends visits, moves moments and one that deletes a ticket. */
async function change(db: Db, from: number, to: number): Promise<void> {
  await sql`update stages set stage_end_time = stage_start_time + interval '90 minutes', business_ms = 5400000, updated_at = now()
    where id in (select 'st-' || n || '-2' from generate_series(${from}::int, ${to}::int) n where n % 4 = 0)`.execute(db);
  await sql`update stages set due_at = due_at + interval '1 day', at_risk_at = null
    where id in (select 'st-' || n || '-2' from generate_series(${from}::int, ${to}::int) n where n % 4 = 1)`.execute(db);
  await sql`update tickets set status = 'closed', closed_at = now() where id in (select 'tk-' || n from generate_series(${from}::int, ${to}::int) n where n % 7 = 0)`.execute(
    db,
  );
  await sql`delete from tickets where id = ${`tk-${from + 1}`}`.execute(db);
}

test('migration 0019 keeps every row and the statement triggers keep log, tallies and moments as the row triggers did', async () => {
  const { db } = database;
  await migrateBefore(db, '0019');
  await sql`insert into projects (id, key, name, created_at, updated_at) values ('p-lean', 'LEAN', 'Lean', now(), now())`.execute(db);
  await sql`insert into stage_definitions (id, project_id, key, name, position) values
    ('def-a', 'p-lean', 'a', 'A', 0), ('def-b', 'p-lean', 'b', 'B', 1)`.execute(db);
  await fill(db, 1, 200);
  await change(db, 1, 200);
  await sql`select fold_tallies()`.execute(db);
  const before = { counts: await counts(db), tallies: await tallies(db) };
  assert.equal(before.counts.tickets, 199);
  assert.equal(await wrongMoments(db), 0);

  await migrateToLatest(db);

  assert.deepEqual(await counts(db), before.counts, 'every row kept');
  assert.deepEqual(await tallies(db), before.tallies, 'the tallies unchanged');
  const { rows: triggers } = await sql<{ name: string; row: boolean }>`
    select tgname as name, (tgtype & 1) = 1 as row from pg_trigger
    where not tgisinternal and tgrelid in ('tickets'::regclass, 'stages'::regclass, 'ticket_events'::regclass)`.execute(db);
  const rowTriggers = triggers.filter((t) => t.row).map((t) => t.name);
  for (const name of ['tickets_change_log', 'stages_change_log', 'ticket_events_change_log', 'stages_flow_rollup', 'stages_duration_tally'])
    assert.ok(!rowTriggers.includes(name), `${name} is no longer a row trigger`);

  // The same writes through the new triggers: the tallies equal a recount, the moments their visits', one log row each.
  const logBefore = before.counts.change_log;
  await fill(db, 201, 400);
  const logged = await sql<{ entity: string; op: string; n: number; unlinked: number }>`
    select entity, op, count(*)::int as n, count(*) filter (where project_id is distinct from 'p-lean' or ticket_id is null)::int as unlinked
    from change_log where id > (select max(id) from change_log) - 2000 and ticket_id in (select 'tk-' || n from generate_series(201, 400) n)
    group by 1, 2 order by 1, 2`.execute(db);
  assert.deepEqual(
    logged.rows.map((r) => [r.entity, r.op, r.n, r.unlinked]),
    [
      ['history', 'insert', 400, 0],
      ['stage', 'insert', 400, 0],
      // The first visit's insert sets the moments, the second's moves them: 200 + ~100; current stage: 200.
      ['ticket', 'insert', 200, 0],
      ['ticket', 'update', logged.rows.find((r) => r.entity === 'ticket' && r.op === 'update')!.n, 0],
    ],
  );
  assert.ok((await counts(db)).change_log > logBefore + 1000);
  await change(db, 201, 400);
  assert.equal(await wrongMoments(db), 0, 'moments follow the open visits');
  const kept = await tallies(db);
  await sql`select recount_tallies()`.execute(db);
  assert.deepEqual(kept, await tallies(db), 'the tallies kept by statement triggers equal a recount');
  const after = await counts(db);
  assert.equal(after.tickets, 398);
  assert.equal(after.stages, 796);
});
