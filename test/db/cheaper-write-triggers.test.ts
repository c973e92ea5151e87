import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../helpers/app.js';
import { supportWorkflow } from '../helpers/fixtures.js';

// Migration 0027 (issue 19): the same trigger work with leaner bodies. The tallies and change log stay exact (the
// open-ticket tally's recount is in test/modules/monitor/tallies.test.ts, the statement triggers' in lean-write-path).
let t: TestApp;
before(async () => {
  t = await testApp();
  assert.equal((await t.api.post('/api/projects', supportWorkflow('CW', { new_tickets_enter_first_stage: true }))).statusCode, 201);
});
after(() => t.close());

const ticketUpdates = async (id: string) =>
  Number(
    (
      await sql<{
        n: number;
      }>`select count(*)::int as n from change_log where entity = 'ticket' and op = 'update' and entity_id = ${id}`.execute(t.database.db)
    ).rows[0]!.n,
  );

/** The ticket's stored stage moments and its open visits' earliest ones. */
async function moments(id: string) {
  const { rows } = await sql<{ stored: string; open: string }>`
    select (t.stage_at_risk_at, t.stage_due_at)::text as stored,
      ((select min(coalesce(s.at_risk_at, s.due_at)) from stages s where s.ticket_id = t.id and s.stage_end_time is null),
       (select min(s.due_at) from stages s where s.ticket_id = t.id and s.stage_end_time is null))::text as open
    from tickets t where t.id = ${id}`.execute(t.database.db);
  return rows[0]!;
}

const openTally = async () =>
  (
    await sql<{ line: string }>`select concat_ws('|', project_id, status, priority, definition_id, stage_label, n) as line
    from open_ticket_now order by 1`.execute(t.database.db)
  ).rows.map((row) => row.line);

const openRecount = async () =>
  (
    await sql<{ line: string }>`select concat_ws('|', t.project_id, t.status, t.priority, s.definition_id,
      case when s.definition_id is null then s.stage_description end, count(*)) as line
    from tickets t left join stages s on s.id = t.current_stage_id where t.status <> 'closed'
    group by t.project_id, t.status, t.priority, s.definition_id, case when s.definition_id is null then s.stage_description end
    order by 1`.execute(t.database.db)
  ).rows.map((row) => row.line);

test('a write whose moments the service already set updates its ticket once; other writers still move them', async () => {
  const created = await t.api.post('/api/tickets', { subject: 'moments', project: 'CW' });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().data.id as string;
  assert.equal(await ticketUpdates(id), 0, 'inserted in its first stage with its moments: no update after');
  const moved = await t.api.post(`/api/tickets/${id}/transitions`, { to: 'triage' });
  assert.equal(moved.statusCode, 200, moved.body);
  assert.equal(await ticketUpdates(id), 1, "the move's own update only");
  const state = await moments(id);
  assert.equal(state.stored, state.open);

  // A writer outside the service (the older face, a hand-written statement) moves a visit's due moment: the trigger follows.
  await sql`update stages set due_at = due_at + interval '1 day', at_risk_at = null where ticket_id = ${id} and stage_end_time is null`.execute(
    t.database.db,
  );
  const after = await moments(id);
  assert.equal(after.stored, after.open);
  assert.notEqual(after.stored, state.stored);
  assert.equal(await ticketUpdates(id), 2);
});

test('the open-ticket tally follows inserts, updates, deletions and closing, one delta row per side', async () => {
  const ids: string[] = [];
  for (const priority of ['low', 'high']) {
    const res = await t.api.post('/api/tickets', { subject: `tally ${priority}`, project: 'CW', priority });
    assert.equal(res.statusCode, 201, res.body);
    ids.push(res.json().data.id);
  }
  const res = await t.api.post('/api/tickets', { subject: 'no project' });
  assert.equal(res.statusCode, 201, res.body);
  ids.push(res.json().data.id);
  assert.deepEqual(await openTally(), await openRecount());
  const deltas = async () =>
    Number((await sql<{ n: number }>`select count(*)::int as n from open_ticket_delta`.execute(t.database.db)).rows[0]!.n);
  const before = await deltas();
  assert.equal((await t.api.patch(`/api/tickets/${ids[0]}`, { priority: 'medium' })).statusCode, 200);
  assert.equal((await deltas()) - before, 2, 'out of the old key, into the new one');
  assert.equal((await t.api.post(`/api/tickets/${ids[1]}/transitions`, { to: 'triage' })).statusCode, 200);
  assert.equal((await t.api.patch(`/api/tickets/${ids[2]}`, { status: 'closed' })).statusCode, 200);
  assert.equal((await t.api.delete(`/api/tickets/${ids[0]}`)).statusCode, 200);
  assert.deepEqual(await openTally(), await openRecount());
  await t.app.services.monitor.foldTallies();
  assert.deepEqual(await openTally(), await openRecount());
});
