import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.close());

const problemFields = (res: { json(): any }) => res.json().error.details.map((d: any) => d.field);

test('create, read by id and number, update partially', async () => {
  const res = await t.api.post('/api/stages', {
    stage_type: 'major',
    stage_description: 'Triage',
    stage_start_time: '2026-03-01T09:00:00Z',
    contact_emails: ['lead@acme.example'],
  });
  assert.equal(res.statusCode, 201, res.body);
  const stage = res.json().data;
  assert.equal(stage.state, 'active');
  assert.equal(stage.overdue, false);
  assert.deepEqual(stage.ticket_ids, []);
  assert.equal((await t.api.get(`/api/stages/${stage.number}`)).json().data.id, stage.id);
  const updated = await t.api.patch(`/api/stages/${stage.id}`, { stage_end_time: '2026-03-01T12:00:00Z' });
  assert.equal(updated.json().data.state, 'done');
  assert.equal(updated.json().data.stage_description, 'Triage');
  assert.equal(updated.json().data.version, 2);
  assert.equal((await t.api.get('/api/stages/nope')).statusCode, 404);
});

test('minor stages need a major stage; major stages may not have one', async () => {
  const major = await t.create.stage();
  const minor = await t.create.stage({ stage_type: 'minor', major_stage_id: major.id });
  assert.equal(minor.major_stage_id, major.id);
  let res = await t.api.post('/api/stages', { stage_type: 'minor' });
  assert.equal(res.statusCode, 400);
  assert.deepEqual(problemFields(res), ['major_stage_id']);
  res = await t.api.post('/api/stages', { stage_type: 'major', major_stage_id: major.id });
  assert.deepEqual(problemFields(res), ['major_stage_id']);
  res = await t.api.post('/api/stages', { stage_type: 'minor', major_stage_id: minor.id });
  assert.equal(res.statusCode, 400, 'a minor stage cannot be a major stage (no cycles)');
  res = await t.api.patch(`/api/stages/${major.id}`, { stage_type: 'minor', major_stage_id: major.id });
  assert.equal(res.statusCode, 409, 'a major stage with minors cannot become minor');
  res = await t.api.patch(`/api/stages/${minor.id}`, { major_stage_id: minor.id });
  assert.equal(res.statusCode, 400, 'no stage is its own major stage');
  // given only a major stage id, a new stage is minor
  assert.equal((await t.create.stage({ stage_type: undefined, major_stage_id: major.number })).stage_type, 'minor');
});

test('end not before start; end needs a start; emails are checked', async () => {
  let res = await t.api.post('/api/stages', { stage_start_time: '2026-03-02T00:00:00Z', stage_end_time: '2026-03-01T00:00:00Z' });
  assert.deepEqual(problemFields(res), ['stage_end_time']);
  res = await t.api.post('/api/stages', { stage_end_time: '2026-03-01T00:00:00Z' });
  assert.deepEqual(problemFields(res), ['stage_end_time']);
  res = await t.api.post('/api/stages', { contact_emails: ['ok@example.com', 'nope'] });
  assert.equal(res.statusCode, 400);
});

test('state and overdue are derived; filters find them', async () => {
  t.clock.set('2026-03-10T12:00:00Z');
  const late = await t.create.stage({
    stage_description: 'late',
    stage_start_time: '2026-03-09T00:00:00Z',
    due_at: '2026-03-10T00:00:00Z',
  });
  const lateDone = await t.create.stage({
    stage_description: 'done late',
    stage_start_time: '2026-03-09T00:00:00Z',
    stage_end_time: '2026-03-10T06:00:00Z',
    due_at: '2026-03-10T00:00:00Z',
  });
  const planned = await t.create.stage({ stage_description: 'planned', due_at: '2026-04-01T00:00:00Z' });
  assert.equal(late.overdue, true);
  assert.equal(lateDone.overdue, true);
  assert.equal(planned.state, 'planned');
  const ids = async (query: string) => (await t.api.get(`/api/stages?limit=500&${query}`)).json().data.map((s: any) => s.id);
  const overdue = await ids('overdue=true');
  assert.ok(overdue.includes(late.id) && overdue.includes(lateDone.id) && !overdue.includes(planned.id));
  assert.ok((await ids('state=planned')).includes(planned.id));
  assert.ok(!(await ids('state=active')).includes(planned.id));
  assert.ok((await ids('started_from=2026-03-08T00:00:00Z&started_to=2026-03-09T12:00:00Z')).includes(late.id));
  const minor = await ids('stage_type=minor');
  assert.ok(!minor.includes(late.id));
  const ticket = await t.create.ticket({ stages: [late.id] });
  assert.deepEqual(await ids(`ticket_id=${ticket.id}`), [late.id]);
  assert.deepEqual((await t.api.get(`/api/stages/${late.id}`)).json().data.ticket_ids, [ticket.id]);
});

test('deleting: 409 for a major stage with minors unless cascade; tickets lose the stage in the same transaction', async () => {
  const major = await t.create.stage();
  const minor = await t.create.stage({ stage_type: 'minor', major_stage_id: major.id });
  const ticket = await t.create.ticket({ stages: [major.id, minor.id], current_stage_id: minor.id });
  assert.equal((await t.api.delete(`/api/stages/${major.id}`)).statusCode, 409);
  const res = await t.api.delete(`/api/stages/${major.id}?cascade=true`);
  assert.equal(res.statusCode, 200);
  assert.equal((await t.api.get(`/api/stages/${minor.id}`)).statusCode, 404);
  const after = (await t.api.get(`/api/tickets/${ticket.id}`)).json().data;
  assert.deepEqual(after.stages, []);
  assert.equal(after.current_stage_id, null);
  assert.equal(after.version, ticket.version + 1);
  assert.equal((await t.api.delete(`/api/stages/${major.id}`)).statusCode, 404);
});

test('concurrent updates with one version: one 412', async () => {
  const stage = await t.create.stage();
  const results = await Promise.all(
    ['a', 'b'].map((description) =>
      t.api.put(`/api/stages/${stage.id}`, { stage_description: description }, { 'if-match': `"${stage.version}"` }),
    ),
  );
  assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 412]);
});

test('cursor paging over stages', async () => {
  const seen = new Set<string>();
  let cursor: string | null = null;
  do {
    const res = await t.api.get(`/api/stages?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    for (const stage of res.json().data) seen.add(stage.id);
    cursor = res.json().page.next_cursor;
  } while (cursor);
  const total = (await t.api.get('/api/stages?count=true&limit=1')).json().page.total;
  assert.equal(seen.size, total);
});
