import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { assertErrorShape, randomValue, supportWorkflow } from '../../helpers/fixtures.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
let t: TestApp;
before(async () => {
  t = await testApp();
  const res = await t.api.post('/api/projects', supportWorkflow('SUP', { ticket_target_minutes: 600 }));
  assert.equal(res.statusCode, 201, res.body);
  const strict = supportWorkflow('STRICT', {
    transitions: [
      { from: null, to: 'intake' },
      { from: 'intake', to: 'triage' },
      { from: 'triage', to: 'closed' },
    ],
  });
  assert.equal((await t.api.post('/api/projects', strict)).statusCode, 201);
});
after(() => t.close());

const move = (id: string, to: string, extra: Record<string, unknown> = {}) =>
  t.api.post(`/api/tickets/${id}/transitions`, { to, ...extra });

test('a transition ends the current stage record and opens the next with its due time', async () => {
  const ticket = await t.create.ticket({ project: 'SUP' });
  const first = await move(ticket.id, 'intake', { note: 'new mail' });
  assert.equal(first.statusCode, 200, first.body);
  const intake = first.json().data.entered[0];
  assert.equal(intake.key, 'intake');
  assert.equal(intake.started_at, t.clock.now().toISOString());
  assert.equal(intake.due_at, new Date(t.clock.now().getTime() + HOUR).toISOString());
  assert.equal(first.json().data.ticket.current_stage_id, intake.stage_id);

  t.clock.advance(30 * MINUTE);
  const second = await move(ticket.id, 'triage');
  assert.equal(second.statusCode, 200, second.body);
  const { left, entered, ticket: after } = second.json().data;
  assert.equal(left[0].stage_id, intake.stage_id);
  assert.equal(left[0].ended_at, t.clock.now().toISOString());
  assert.equal(left[0].duration_ms, 30 * MINUTE);
  assert.deepEqual(after.stages, [intake.stage_id, entered[0].stage_id]);

  // The older systems see the same stage objects with real times.
  const stage = (await t.api.get(`/api/stages/${intake.stage_id}`)).json().data;
  assert.equal(stage.stage_end_time, t.clock.now().toISOString());
  const legacy = (await t.api.get(`/tickets/${ticket.id}`)).json();
  assert.equal(legacy.current_stage_id, entered[0].stage_id);
  assert.equal(legacy.stages.length, 2);

  const history = (await t.api.get(`/api/tickets/${ticket.id}/history`)).json().data;
  const types = history.map((e: { type: string }) => e.type).filter((type: string) => type.startsWith('stage_'));
  assert.deepEqual(types, ['stage_entered', 'stage_left', 'stage_entered']);
  assert.ok(history.some((e: { type: string; data: { new?: string } }) => e.type === 'status_changed' && e.data.new === 'open'));
  assert.equal(history.find((e: { type: string }) => e.type === 'stage_entered').data.note, 'new mail');
});

test('a minor stage opens inside its major; leaving to a major ends both', async () => {
  const ticket = await t.create.ticket({ project: 'SUP' });
  await move(ticket.id, 'triage');
  const reproduce = (await move(ticket.id, 'reproduce')).json().data;
  assert.deepEqual(
    reproduce.entered.map((v: { key: string }) => v.key),
    ['diagnosis', 'reproduce'],
  );
  const diagnosis = reproduce.entered[0];
  assert.equal(reproduce.entered[1].major_stage_id, diagnosis.stage_id);
  assert.equal(reproduce.entered[1].stage_type, 'minor');

  const rootCause = (await move(ticket.id, 'root-cause')).json().data;
  assert.deepEqual(
    rootCause.left.map((v: { key: string }) => v.key),
    ['reproduce'],
  );
  assert.equal(rootCause.entered[0].major_stage_id, diagnosis.stage_id, 'the major stays open between its minors');

  const fix = (await move(ticket.id, 'fix')).json().data;
  assert.deepEqual(
    fix.left.map((v: { key: string }) => v.key),
    ['root-cause', 'diagnosis'],
  );
});

test('entering a final stage closes the ticket; moving back reopens it as a new visit', async () => {
  const ticket = await t.create.ticket({ project: 'SUP' });
  await move(ticket.id, 'intake');
  t.clock.advance(10 * MINUTE);
  const closed = (await move(ticket.id, 'closed')).json().data;
  assert.equal(closed.ticket.status, 'closed');
  assert.equal(closed.ticket.closed_at, t.clock.now().toISOString());
  assert.equal(closed.entered[0].state, 'done');

  const reopened = (await move(ticket.id, 'intake')).json().data;
  assert.equal(reopened.ticket.status, 'open');
  assert.equal(reopened.ticket.closed_at, null);
  assert.equal(reopened.entered[0].visit, 2);
  const history = (await t.api.get(`/api/tickets/${ticket.id}/history`)).json().data;
  assert.deepEqual(
    history.filter((e: { type: string }) => e.type === 'status_changed').map((e: { data: { new: string } }) => e.data.new),
    ['open', 'closed', 'open'],
  );
});

test('a transition not allowed answers 409 listing the allowed ones', async () => {
  const ticket = await t.create.ticket({ project: 'STRICT' });
  const early = await move(ticket.id, 'triage');
  assert.equal(early.statusCode, 409);
  assert.deepEqual(early.json().allowed_transitions, ['intake']);
  assert.equal((await move(ticket.id, 'intake')).statusCode, 200);
  const skip = await move(ticket.id, 'fix');
  assert.equal(skip.statusCode, 409);
  assert.deepEqual(skip.json().allowed_transitions, ['triage']);
  assertErrorShape(skip.json());
});

test('bad transitions: unknown stage, no project, future or too early `at`, unknown ticket', async () => {
  const ticket = await t.create.ticket({ project: 'SUP' });
  const unknown = await move(ticket.id, 'nowhere');
  assert.equal(unknown.statusCode, 400);
  assert.equal(unknown.json().error.details[0].field, 'to');

  const loose = await t.create.ticket({ project: 'no such project' });
  assert.equal((await move(loose.id, 'intake')).statusCode, 409);

  const future = await move(ticket.id, 'intake', { at: new Date(t.clock.now().getTime() + HOUR).toISOString() });
  assert.equal(future.statusCode, 400);
  assert.equal(future.json().error.details[0].field, 'at');

  await move(ticket.id, 'intake');
  const before = await move(ticket.id, 'triage', { at: new Date(t.clock.now().getTime() - HOUR).toISOString() });
  assert.equal(before.statusCode, 400);

  assert.equal((await move('no-such-ticket', 'intake')).statusCode, 404);
  assert.equal((await t.api.post(`/api/tickets/${ticket.id}/transitions`, { to: 'triage', colour: 'red' })).statusCode, 400);
});

test('a ticket joins its project whether the project was made before or after it', async () => {
  const early = await t.create.ticket({ project: 'LATE' });
  await t.api.post('/api/projects', supportWorkflow('LATE'));
  assert.equal((await move(early.id, 'intake')).statusCode, 200);
  const renamed = await t.create.ticket({ project: 'SUP' });
  await t.api.patch(`/api/tickets/${renamed.id}`, { project: 'LATE' });
  const moved = (await move(renamed.id, 'intake')).json().data;
  assert.equal(moved.entered[0].key, 'intake');
});

test('fuzz: random bodies and ids to the transition and comment routes answer only 2xx/4xx with the error shape', async () => {
  const ticket = await t.create.ticket({ project: 'SUP' });
  let seed = 11;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < 150; i++) {
    const body =
      i % 4 === 0 ? { to: ['intake', 'triage', 'reproduce', 'closed', 'fix'][i % 5], at: randomValue(random) } : randomValue(random);
    const id = [ticket.id, ticket.number, 'x'.repeat(70), '%20', '0', '-1'][i % 6];
    const route = i % 2 === 0 ? 'transitions' : 'comments';
    const res = await t.api.request({
      method: 'POST',
      url: `/api/tickets/${id}/${route}`,
      payload: i % 10 === 9 ? '{"to": ' : JSON.stringify(body),
      headers: { 'content-type': i % 13 === 12 ? 'text/plain' : 'application/json' },
    });
    assert.ok(res.statusCode < 500, `${route} ${JSON.stringify(body)} → ${res.statusCode} ${res.body}`);
    if (res.statusCode >= 400) assertErrorShape(res.json());
  }
});
