import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { assertErrorShape, randomValue, supportWorkflow } from '../../helpers/fixtures.js';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.close());

test('POST /api/projects creates a project with its workflow in order', async () => {
  const res = await t.api.post('/api/projects', supportWorkflow('SUP'));
  assert.equal(res.statusCode, 201, res.body);
  const project = res.json().data;
  assert.equal(project.key, 'SUP');
  assert.deepEqual(
    project.stages.map((s: { key: string }) => s.key),
    ['intake', 'triage', 'diagnosis', 'reproduce', 'root-cause', 'fix', 'verification', 'waiting', 'closed'],
  );
  const reproduce = project.stages.find((s: { key: string }) => s.key === 'reproduce');
  assert.equal(reproduce.parent, 'diagnosis');
  assert.equal(reproduce.stage_type, 'minor');
  assert.equal(project.at_risk_threshold, 0.8);

  const byKey = await t.api.get('/api/projects/SUP');
  assert.equal(byKey.statusCode, 200);
  assert.equal(byKey.json().data.id, project.id);
  const list = await t.api.get('/api/projects');
  assert.equal(list.statusCode, 200);
  assert.ok(list.json().data.some((p: { id: string }) => p.id === project.id));
});

test('a duplicate key is a 409; bad workflows are 400 naming the field', async () => {
  await t.api.post('/api/projects', supportWorkflow('DUP'));
  const again = await t.api.post('/api/projects', supportWorkflow('DUP'));
  assert.equal(again.statusCode, 409);

  const bad = await t.api.post('/api/projects', {
    key: 'BAD',
    name: 'Bad',
    calendar: {
      time_zone: 'Nowhere/City',
      working_days: [1],
      working_hours: { start: '09:00', end: '17:00' },
      holidays: [],
    },
    stages: [
      { key: 'a', name: 'A' },
      { key: 'a', name: 'A again' },
      { key: 'b', name: 'B', parent: 'missing' },
    ],
    transitions: [{ from: 'a', to: 'zzz' }],
  });
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(
    bad.json().error.details.map((d: { field: string }) => d.field),
    ['calendar.time_zone', 'stages.1.key', 'stages.2.parent', 'transitions.0.to'],
  );
  const unknownField = await t.api.post('/api/projects', {
    ...supportWorkflow('UF'),
    colour: 'red',
  });
  assert.equal(unknownField.statusCode, 400);
  assert.match(unknownField.body, /colour/);
});

test('PATCH changes only what it is given; removed stages are archived, not deleted', async () => {
  const created = (await t.api.post('/api/projects', supportWorkflow('EDIT'))).json().data;
  const patched = await t.api.patch(`/api/projects/${created.id}`, {
    name: 'Edited',
    at_risk_threshold: 0.5,
  });
  assert.equal(patched.statusCode, 200, patched.body);
  assert.equal(patched.json().data.name, 'Edited');
  assert.equal(patched.json().data.stages.length, created.stages.length);
  assert.equal(patched.json().data.version, created.version + 1);

  const trimmed = await t.api.patch(`/api/projects/EDIT`, {
    stages: [
      { key: 'intake', name: 'Inbox' },
      { key: 'closed', name: 'Closed', final: true },
    ],
  });
  assert.equal(trimmed.statusCode, 200, trimmed.body);
  assert.deepEqual(
    trimmed.json().data.stages.map((s: { key: string }) => s.key),
    ['intake', 'closed'],
  );
  assert.equal(trimmed.json().data.stages[0].id, created.stages[0].id, 'a kept stage keeps its id');
  const all = (await t.api.get('/api/projects/EDIT?include_archived=true')).json().data.stages;
  assert.equal(all.length, created.stages.length);
  assert.equal(all.filter((s: { archived: boolean }) => s.archived).length, created.stages.length - 2);

  const stale = await t.api.patch(`/api/projects/EDIT`, { name: 'x' }, { 'if-match': '1' });
  assert.equal(stale.statusCode, 412);
});

test('PUT needs the whole project and resets what it leaves out', async () => {
  const created = (
    await t.api.post('/api/projects', {
      ...supportWorkflow('PUT'),
      ticket_target_minutes: 600,
    })
  ).json().data;
  const partial = await t.api.put(`/api/projects/${created.id}`, {
    name: 'Only a name',
  });
  assert.equal(partial.statusCode, 400);
  const replaced = await t.api.put(`/api/projects/${created.id}`, {
    ...created,
    name: 'Replaced',
    ticket_target_minutes: undefined,
  });
  assert.equal(replaced.statusCode, 200, replaced.body);
  assert.equal(replaced.json().data.ticket_target_minutes, null);
  assert.equal(replaced.json().data.name, 'Replaced');
});

test('unknown projects are 404', async () => {
  assert.equal((await t.api.get('/api/projects/nope')).statusCode, 404);
  assert.equal((await t.api.patch('/api/projects/nope', { name: 'x' })).statusCode, 404);
});

test('fuzz: random bodies to the project write routes answer only 2xx/4xx with the error shape', async () => {
  const project = (await t.api.post('/api/projects', supportWorkflow('FUZZ'))).json().data;
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < 120; i++) {
    const body =
      i % 3 === 0
        ? {
            ...supportWorkflow(`F${i}`),
            [['stages', 'calendar', 'transitions', 'key'][i % 4]]: randomValue(random),
          }
        : randomValue(random);
    const method = (['POST', 'PUT', 'PATCH'] as const)[i % 3];
    const url = method === 'POST' ? '/api/projects' : `/api/projects/${i % 5 === 0 ? '%00' : project.id}`;
    const res = await t.api.request({
      method,
      url,
      payload: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    assert.ok(res.statusCode < 500, `${method} ${url} ${JSON.stringify(body)} → ${res.statusCode} ${res.body}`);
    if (res.statusCode >= 400) assertErrorShape(res.json());
  }
});
