import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { supportWorkflow } from '../../helpers/fixtures.js';

let t: TestApp;
before(async () => {
  t = await testApp();
  const berlin = supportWorkflow('REP', {
    ticket_target_minutes: 900,
    calendar: { time_zone: 'Europe/Berlin', working_days: [1, 2, 3, 4, 5], working_hours: { start: '09:00', end: '17:00' }, holidays: [] },
  });
  assert.equal((await t.api.post('/api/projects', berlin)).statusCode, 201);
});
after(() => t.close());

type Move = { to: string; at: string };

async function importOne(row: Record<string, unknown>) {
  const res = await t.api.request({
    method: 'POST',
    url: '/api/import',
    payload: JSON.stringify(row),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  assert.equal(res.json().data.imported, 1, res.body);
}

/** The same moves made twice: through transitions, and as one imported ticket with visits. */
async function bothWays(name: string, created: string, moves: Move[], now: string) {
  t.clock.set(created);
  const live = await t.create.ticket({ project: 'REP', subject: name });
  t.clock.set(now);
  for (const move of moves) {
    const res = await t.api.post(`/api/tickets/${live.id}/transitions`, move);
    assert.equal(res.statusCode, 200, res.body);
  }
  const visits = moves.map((move, index) => ({
    key: move.to,
    stage_start_time: move.at,
    ...(moves[index + 1] ? { stage_end_time: moves[index + 1]!.at } : {}),
  }));
  await importOne({ id: `imported-${name}`, external_id: `ext-${name}`, subject: name, project: 'REP', created_at: created, visits });
  return { live: live.id as string, imported: `imported-${name}` };
}

/** What a user sees of a ticket's workflow, without ids and the moments of writing. */
async function seen(id: string) {
  const timeline = (await t.api.get(`/api/tickets/${id}/timeline`)).json().data;
  const ticket = (await t.api.get(`/api/tickets/${id}`)).json().data;
  return {
    status: ticket.status,
    closed_at: ticket.closed_at,
    delay_state: timeline.delay_state,
    sla: timeline.sla,
    visits: timeline.visits.map((visit: Record<string, unknown>) => ({
      ...visit,
      stage_id: undefined,
      major_stage_id: undefined,
      stage_type: undefined,
    })),
    current: timeline.visits.find((visit: { stage_id: string }) => visit.stage_id === ticket.current_stage_id)?.key ?? null,
  };
}

test('an imported open ticket is timed like one that lived through the same transitions', async () => {
  const moves = [
    { to: 'intake', at: '2026-03-02T10:00:00Z' },
    { to: 'triage', at: '2026-03-02T11:30:00Z' },
    { to: 'waiting', at: '2026-03-03T09:00:00Z' },
    { to: 'fix', at: '2026-03-04T12:00:00Z' },
  ];
  const { live, imported } = await bothWays('open', '2026-03-02T09:30:00Z', moves, '2026-03-05T10:00:00Z');
  const want = await seen(live);
  assert.equal(want.sla.paused, false);
  assert.ok(want.sla.due_at);
  assert.deepEqual(await seen(imported), want);
});

test('an imported ticket whose last visit is final is closed like one moved there', async () => {
  const moves = [
    { to: 'intake', at: '2026-03-09T10:00:00Z' },
    { to: 'fix', at: '2026-03-09T12:00:00Z' },
    { to: 'closed', at: '2026-03-10T15:00:00Z' },
  ];
  const { live, imported } = await bothWays('closed', '2026-03-09T09:00:00Z', moves, '2026-03-11T10:00:00Z');
  const want = await seen(live);
  assert.equal(want.status, 'closed');
  assert.deepEqual(await seen(imported), want);
});

test('an imported ticket paused in a waiting stage keeps its clock paused', async () => {
  const moves = [
    { to: 'triage', at: '2026-03-16T09:00:00Z' },
    { to: 'waiting', at: '2026-03-16T12:00:00Z' },
  ];
  const { live, imported } = await bothWays('paused', '2026-03-16T08:00:00Z', moves, '2026-03-18T10:00:00Z');
  const want = await seen(live);
  assert.equal(want.sla.paused, true);
  assert.deepEqual(await seen(imported), want);
});

/** The ticket's stage history (entered, left) as a reader of it sees it, without the visits' ids. */
async function stageHistory(id: string) {
  const history = (await t.api.get(`/api/tickets/${id}/history?limit=100`)).json().data as {
    type: string;
    created_at: string;
    data: Record<string, unknown>;
  }[];
  return history
    .filter((event) => event.type === 'stage_entered' || event.type === 'stage_left')
    .map((event) => ({ type: event.type, created_at: event.created_at, data: { ...event.data, stage_id: undefined } }));
}

test('an imported ticket has the stage_entered and stage_left history its transitions would have written', async () => {
  const moves = [
    { to: 'intake', at: '2026-03-23T09:00:00Z' },
    { to: 'triage', at: '2026-03-23T10:15:00Z' },
    { to: 'fix', at: '2026-03-24T11:00:00Z' },
    { to: 'triage', at: '2026-03-25T09:30:00Z' },
    { to: 'closed', at: '2026-03-25T16:00:00Z' },
  ];
  const { live, imported } = await bothWays('history', '2026-03-23T08:30:00Z', moves, '2026-03-26T10:00:00Z');
  const want = await stageHistory(live);
  // Five entered (triage twice, its second visit numbered 2), four left (a final visit is never left).
  assert.equal(want.filter((event) => event.type === 'stage_entered').length, 5);
  assert.equal(want.filter((event) => event.type === 'stage_left').length, 4);
  assert.deepEqual(await stageHistory(imported), want);
});

test('a ticket imported as closed whose visits all ended stays closed (closed after its last visit)', async () => {
  const row = {
    id: 'imported-closed-after',
    external_id: 'ext-closed-after',
    subject: 'closed after',
    project: 'REP',
    status: 'closed',
    visits: [
      { key: 'intake', stage_start_time: '2026-03-30T09:00:00Z', stage_end_time: '2026-03-30T10:00:00Z' },
      { key: 'fix', stage_start_time: '2026-03-30T10:00:00Z', stage_end_time: '2026-03-31T12:00:00Z' },
    ],
  };
  await importOne(row);
  const ticket = (await t.api.get('/api/tickets/imported-closed-after')).json().data;
  assert.equal(ticket.status, 'closed');
  assert.equal(ticket.closed_at, '2026-03-31T12:00:00.000Z');
});
