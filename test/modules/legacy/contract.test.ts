import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';

// Replays what the two older systems' clients sent, in their own vocabulary (../shared/seeds/).
let t: TestApp;
before(async () => {
  t = await testApp({ LEGACY_LIST_LIMIT: '3' });
});
after(() => t.close());

describe('ticket OPS backend client', () => {
  const opsTicket = {
    id: 'TCK-1001',
    subject: 'VPN down',
    description: 'Nobody can connect',
    status: '',
    createdAt: '2025-12-01T08:30:00Z',
    customer: { name: 'Globex', email: 'noc@globex.example', phone: '+1 555 0100' },
    assignedTo: 'carol',
    priority: 'high',
    category: 'network',
  };

  test('create → 201 bare object in its vocabulary, client id and createdAt kept, empty status becomes new', async () => {
    const res = await t.api.post('/tickets', opsTicket);
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    assert.equal(body.success, undefined, 'no envelope');
    assert.equal(body.id, 'TCK-1001');
    assert.equal(body.status, 'new');
    assert.equal(body.createdAt, '2025-12-01T08:30:00.000Z');
    assert.deepEqual(body.customer, { name: 'Globex', email: 'noc@globex.example', phone: '+1 555 0100' });
    assert.equal(body.assignedTo, 'carol');
    assert.equal(body.priority, 'high');
    assert.equal(body.category, 'network');
    assert.equal(body.customer_name, 'Globex', 'the monitoring vocabulary is there too');
  });

  test('list → bare array; get → bare object; unknown → 404', async () => {
    const list = await t.api.get('/tickets');
    assert.equal(list.statusCode, 200);
    assert.ok(Array.isArray(list.json()));
    assert.ok(list.json().some((ticket: any) => ticket.id === 'TCK-1001'));
    assert.ok(Number(list.headers['x-total-count']) >= 1);
    const one = await t.api.get('/tickets/TCK-1001');
    assert.equal(one.json().subject, 'VPN down');
    const missing = await t.api.get('/tickets/TCK-404');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().success, false);
  });

  test('PUT with the whole object → 200; PUT with one field keeps the rest (the deliberate difference)', async () => {
    const full = await t.api.put('/tickets/TCK-1001', { ...opsTicket, status: 'pending', description: 'Half the office' });
    assert.equal(full.statusCode, 200, full.body);
    assert.equal(full.json().status, 'pending');
    const partial = await t.api.put('/tickets/TCK-1001', { priority: 'low' });
    assert.equal(partial.json().description, 'Half the office');
    assert.equal(partial.json().customer.email, 'noc@globex.example');
    assert.equal(partial.json().priority, 'low');
  });

  test('both vocabularies at once: equal values agree, different ones are 400', async () => {
    const agree = await t.api.post('/tickets', {
      subject: 'x',
      customer: { name: 'Acme' },
      customer_name: 'Acme',
      assigned_to: 'dan',
      assignedTo: 'dan',
    });
    assert.equal(agree.statusCode, 201);
    const clash = await t.api.post('/tickets', { subject: 'x', customer: { email: 'a@acme.example' }, customer_email: 'b@acme.example' });
    assert.equal(clash.statusCode, 400);
    assert.ok(clash.json().error.details.some((d: any) => d.field === 'customer.email'));
  });

  test('unknown fields are ignored, Go zero values mean "not set", a taken id is 409', async () => {
    const res = await t.api.post('/tickets', {
      subject: 'Go client',
      metadata: { a: 1 },
      whatever: true,
      assignedTo: '',
      createdAt: '0001-01-01T00:00:00Z',
      customer: { name: 'Initech', email: '', phone: '' },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().assignedTo, undefined);
    assert.equal((await t.api.post('/tickets', { id: 'TCK-1001', subject: 'dup' })).statusCode, 409);
  });

  test('DELETE → 204 without a body, then 404', async () => {
    const res = await t.api.delete('/tickets/TCK-1001', { 'content-type': 'application/json' });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.equal((await t.api.get('/tickets/TCK-1001')).statusCode, 404);
    assert.equal((await t.api.delete('/tickets/TCK-1001')).statusCode, 404);
  });
});

describe('ticket monitoring dashboard client', () => {
  test('a major and a minor stage, a ticket that moves through them', async () => {
    const major = await t.api.post('/stages', {
      stage_type: 'major',
      stage_description: 'Diagnosis',
      stage_start_time: '2026-03-01T09:00:00Z',
      contact_emails: ['diag@acme.example'],
    });
    assert.equal(major.statusCode, 201, major.body);
    assert.equal(major.json().major_stage, null);
    const minor = await t.api.post('/stages', {
      stage_type: 'minor',
      major_stage_id: major.json().number,
      stage_description: 'Reproduce',
      stage_start_time: '2026-03-01T10:00:00Z',
    });
    assert.equal(minor.statusCode, 201, minor.body);
    assert.equal(minor.json().major_stage.id, major.json().id);

    const ticket = await t.api.post('/tickets', {
      customer_name: 'Acme',
      helpdeskurl: 'https://help.acme.example/t/77',
      status: 'open',
      contact_person: 'Erin',
      project: 'billing',
      current_stage_id: major.json().number,
      stages: [major.json().number],
    });
    assert.equal(ticket.statusCode, 201, ticket.body);
    assert.equal(ticket.json().current_stage.stage_description, 'Diagnosis');

    const moved = await t.api.put(`/tickets/${ticket.json().number}`, {
      current_stage_id: minor.json().id,
      stages: [{ id: major.json().id }, { id: minor.json().id }],
    });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.equal(moved.json().current_stage.id, minor.json().id);
    assert.equal(moved.json().current_stage.major_stage.id, major.json().id);
    assert.deepEqual(
      moved.json().stages.map((s: any) => s.stage_description),
      ['Diagnosis', 'Reproduce'],
    );

    const ended = await t.api.put(`/stages/${minor.json().number}`, { stage_end_time: '2026-03-01T12:00:00Z' });
    assert.equal(ended.statusCode, 200);
    assert.equal(ended.json().stage_end_time, '2026-03-01T12:00:00.000Z');
    const got = await t.api.get(`/tickets/${ticket.json().id}`);
    assert.equal(got.json().stages[1].stage_end_time, '2026-03-01T12:00:00.000Z', 'real start/end times');
    const stage = await t.api.get(`/stages/${minor.json().id}`);
    assert.equal(stage.json().major_stage.stage_description, 'Diagnosis');
    assert.deepEqual(stage.json().ticket_ids, [ticket.json().id]);
    assert.equal((await t.api.get('/stages/99999')).statusCode, 404);
    assert.ok(Array.isArray((await t.api.get('/stages')).json()));
  });

  test('lists page at LEGACY_LIST_LIMIT with X-Total-Count and a Link to the next page', async () => {
    for (let i = 0; i < 4; i++) await t.create.ticket({ subject: `page ${i}` });
    const first = await t.api.get('/tickets');
    assert.equal(first.json().length, 3);
    const total = Number(first.headers['x-total-count']);
    const seen = first.json().map((x: any) => x.id);
    let link = first.headers.link as string | undefined;
    while (link) {
      const next = /<([^>]+)>; rel="next"/.exec(link)![1];
      const res = await t.api.get(next);
      seen.push(...res.json().map((x: any) => x.id));
      link = res.headers.link as string | undefined;
    }
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
    assert.equal((await t.api.get('/tickets?limit=4')).statusCode, 400, 'limit above LEGACY_LIST_LIMIT');
  });
});
