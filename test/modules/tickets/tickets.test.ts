import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.close());

function assertError(res: { statusCode: number; json(): any }, status: number, code: string, field?: string) {
  assert.equal(res.statusCode, status, JSON.stringify(res.json()));
  const body = res.json();
  assert.equal(body.success, false);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.message, 'string');
  assert.ok(Array.isArray(body.error.details));
  assert.ok(body.timestamp);
  if (field)
    assert.ok(
      body.error.details.some((d: any) => d.field === field),
      `${field} named in ${JSON.stringify(body.error.details)}`,
    );
}

describe('create', () => {
  test('answers 201 with the envelope, defaults and a sequential number', async () => {
    const res = await t.api.post('/api/tickets', { subject: 'Printer on fire', customer_email: 'ops@acme.example' });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.equal(body.success, true);
    assert.ok(body.timestamp);
    assert.equal(body.data.status, 'new');
    assert.equal(body.data.priority, 'medium');
    assert.deepEqual(body.data.metadata, {});
    assert.deepEqual(body.data.stages, []);
    assert.equal(body.data.version, 1);
    assert.equal(typeof body.data.number, 'number');
    assert.equal(res.headers.etag, '"1"');
    const next = await t.create.ticket();
    assert.equal(next.number, body.data.number + 1);
  });

  test('needs a subject or a customer name', async () => {
    assertError(await t.api.post('/api/tickets', { priority: 'high' }), 400, 'VALIDATION_FAILED', 'subject');
    assert.equal((await t.api.post('/api/tickets', { customer_name: 'Acme' })).statusCode, 201);
  });

  test('names every bad field at once', async () => {
    const res = await t.api.post('/api/tickets', {
      subject: 'x',
      customer_email: 'not-an-email',
      helpdeskurl: 'ftp://nope',
      priority: 'urgent',
      status: 'gone',
    });
    assertError(res, 400, 'VALIDATION_FAILED');
    const fields = res
      .json()
      .error.details.map((d: any) => d.field)
      .sort();
    assert.deepEqual(fields, ['customer_email', 'helpdeskurl', 'priority', 'status']);
  });

  test('rejects unknown fields by name and ignores read-only ones', async () => {
    assertError(await t.api.post('/api/tickets', { subject: 'x', colour: 'red' }), 400, 'VALIDATION_FAILED', 'colour');
    const res = await t.api.post('/api/tickets', { subject: 'x', number: 999999, updated_at: 'whenever', closed_at: null });
    assert.equal(res.statusCode, 201);
    assert.notEqual(res.json().data.number, 999999);
  });

  test('keeps a client-chosen id and created_at; a taken id is 409; bad ids are 400', async () => {
    const res = await t.api.post('/api/tickets', { id: 'OPS-client.1:a', subject: 'x', created_at: '2020-01-02T03:04:05Z' });
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().data.id, 'OPS-client.1:a');
    assert.equal(res.json().data.created_at, '2020-01-02T03:04:05.000Z');
    assertError(await t.api.post('/api/tickets', { id: 'OPS-client.1:a', subject: 'y' }), 409, 'CONFLICT', 'id');
    assertError(await t.api.post('/api/tickets', { id: '12345', subject: 'y' }), 400, 'VALIDATION_FAILED', 'id');
    assertError(await t.api.post('/api/tickets', { id: 'has space', subject: 'y' }), 400, 'VALIDATION_FAILED', 'id');
    assertError(await t.api.post('/api/tickets', { id: 'x'.repeat(65), subject: 'y' }), 400, 'VALIDATION_FAILED', 'id');
  });

  test('checks stages exist and that the current stage is one of them', async () => {
    const stage = await t.create.stage();
    const other = await t.create.stage();
    assertError(await t.api.post('/api/tickets', { subject: 'x', stages: ['missing-stage'] }), 400, 'VALIDATION_FAILED', 'stages.0');
    assertError(
      await t.api.post('/api/tickets', { subject: 'x', stages: [stage.id], current_stage_id: other.id }),
      400,
      'VALIDATION_FAILED',
      'current_stage_id',
    );
    assertError(await t.api.post('/api/tickets', { subject: 'x', stages: [stage.id, stage.id] }), 400, 'VALIDATION_FAILED', 'stages');
    const res = await t.api.post('/api/tickets', { subject: 'x', stages: [stage.id, other.number], current_stage_id: other.id });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(res.json().data.stages, [stage.id, other.id]);
  });
});

describe('read', () => {
  test('by id and by number; unknown and malformed ids are 404', async () => {
    const ticket = await t.create.ticket({ subject: 'Find me' });
    assert.equal((await t.api.get(`/api/tickets/${ticket.id}`)).json().data.subject, 'Find me');
    assert.equal((await t.api.get(`/api/tickets/${ticket.number}`)).json().data.id, ticket.id);
    assertError(await t.api.get('/api/tickets/does-not-exist'), 404, 'NOT_FOUND');
    assertError(await t.api.get('/api/tickets/%20%3Cscript%3E'), 404, 'NOT_FOUND');
    assertError(await t.api.get(`/api/tickets/${'9'.repeat(40)}`), 404, 'NOT_FOUND');
  });
});

describe('update', () => {
  test('PUT and PATCH change only the fields present; null clears', async () => {
    const ticket = await t.create.ticket({ subject: 'Keep', customer_email: 'a@example.com', category: 'hardware' });
    for (const method of ['put', 'patch'] as const) {
      const res = await t.api[method](`/api/tickets/${ticket.id}`, { priority: method === 'put' ? 'high' : 'low' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().data.customer_email, 'a@example.com');
      assert.equal(res.json().data.subject, 'Keep');
    }
    const cleared = await t.api.patch(`/api/tickets/${ticket.id}`, { category: null });
    assert.equal(cleared.json().data.category, null);
    assertError(await t.api.patch(`/api/tickets/${ticket.id}`, { priority: null }), 400, 'VALIDATION_FAILED', 'priority');
  });

  test('a client can PUT back what it got; nothing changes, version stays', async () => {
    const ticket = await t.create.ticket({ subject: 'Round trip', metadata: { a: 1 } });
    const res = await t.api.put(`/api/tickets/${ticket.id}`, ticket);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().data.version, ticket.version);
  });

  test('closing sets closed_at; reopening clears it', async () => {
    const ticket = await t.create.ticket();
    t.clock.set('2026-03-05T10:00:00Z');
    const closed = (await t.api.patch(`/api/tickets/${ticket.id}`, { status: 'closed' })).json().data;
    assert.equal(closed.closed_at, '2026-03-05T10:00:00.000Z');
    const reopened = (await t.api.patch(`/api/tickets/${ticket.id}`, { status: 'open' })).json().data;
    assert.equal(reopened.closed_at, null);
  });

  test('If-Match or body version gives optimistic concurrency (412)', async () => {
    const ticket = await t.create.ticket();
    assertError(await t.api.patch(`/api/tickets/${ticket.id}`, { priority: 'high' }, { 'if-match': '"7"' }), 412, 'VERSION_MISMATCH');
    assertError(await t.api.patch(`/api/tickets/${ticket.id}`, { priority: 'high', version: 7 }), 412, 'VERSION_MISMATCH');
    const ok = await t.api.patch(`/api/tickets/${ticket.id}`, { priority: 'high' }, { 'if-match': '"1"' });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().data.version, 2);
  });

  test('two PUTs with the same version: exactly one wins, the other is 412', async () => {
    const ticket = await t.create.ticket();
    const results = await Promise.all(
      ['low', 'high'].map((priority) => t.api.put(`/api/tickets/${ticket.id}`, { priority, version: ticket.version })),
    );
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 412]);
  });

  test('a current stage without a stage list joins the list', async () => {
    const ticket = await t.create.ticket();
    const stage = await t.create.stage();
    const res = await t.api.patch(`/api/tickets/${ticket.id}`, { current_stage_id: stage.id });
    assert.deepEqual(res.json().data.stages, [stage.id]);
    assert.equal(res.json().data.current_stage_id, stage.id);
  });

  test('changes are history, with old and new values', async () => {
    const ticket = await t.create.ticket({ subject: 'Before' });
    await t.api.patch(`/api/tickets/${ticket.id}`, { subject: 'After', status: 'open' });
    const events = await t.database.db.selectFrom('ticket_events').selectAll().where('ticket_id', '=', ticket.id).orderBy('id').execute();
    assert.deepEqual(
      events.map((e) => [e.type, e.data]),
      [
        ['created', { subject: 'Before', status: 'new', priority: 'medium' }],
        ['field_changed', { field: 'subject', old: 'Before', new: 'After' }],
        ['status_changed', { old: 'new', new: 'open' }],
      ],
    );
  });
});

describe('delete', () => {
  test('returns the deleted ticket, removes its rows, second time 404', async () => {
    const stage = await t.create.stage();
    const ticket = await t.create.ticket({ stages: [stage.id] });
    const res = await t.api.delete(`/api/tickets/${ticket.id}`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().data.id, ticket.id);
    assertError(await t.api.delete(`/api/tickets/${ticket.id}`), 404, 'NOT_FOUND');
    const links = await t.database.db.selectFrom('ticket_stages').selectAll().where('ticket_id', '=', ticket.id).execute();
    const events = await t.database.db.selectFrom('ticket_events').selectAll().where('ticket_id', '=', ticket.id).execute();
    assert.equal(links.length + events.length, 0);
    assert.equal((await t.api.get(`/api/stages/${stage.id}`)).statusCode, 200);
  });
});

describe('transport errors', () => {
  test('malformed JSON 400, wrong content type 415, too large 413, all with the error body', async () => {
    assertError(
      await t.api.request({ method: 'POST', url: '/api/tickets', payload: '{"subject":', headers: { 'content-type': 'application/json' } }),
      400,
      'VALIDATION_FAILED',
    );
    assertError(
      await t.api.request({
        method: 'POST',
        url: '/api/tickets',
        payload: 'subject=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    assertError(await t.api.post('/api/tickets', { subject: 'x', description: 'y'.repeat(1_100_000) }), 413, 'PAYLOAD_TOO_LARGE');
    assertError(
      await t.api.request({ method: 'POST', url: '/api/tickets', payload: '[1,2]', headers: { 'content-type': 'application/json' } }),
      400,
      'VALIDATION_FAILED',
    );
    assertError(await t.api.get('/api/nothing-here'), 404, 'NOT_FOUND');
  });
});
