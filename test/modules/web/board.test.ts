import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await testApp();
  const project = await t.api.post('/api/projects', {
    key: 'core',
    name: 'Core',
    stages: [
      { key: 'intake', name: 'Intake', target_minutes: 10 },
      { key: 'fix', name: 'Fix', target_minutes: 60 },
      { key: 'closed', name: 'Closed', final: true },
    ],
  });
  assert.equal(project.statusCode, 201, project.body);
});
after(() => t.close());

test('GET /api/board lists open tickets with their stage and delay, highest priority first', async () => {
  const low = await t.create.ticket({ subject: 'Low one', priority: 'low', project: 'core' });
  const high = await t.create.ticket({ subject: 'High one', priority: 'high', project: 'core', customer_name: 'Acme' });
  const done = await t.create.ticket({ subject: 'Done one', project: 'core' });
  await t.create.ticket({ subject: 'Elsewhere' });
  // New /api tickets enter the project's first stage at once (issue 20) and stay `new`.
  for (const ticket of [low, high, done]) assert.deepEqual([ticket.stage?.key, ticket.status], ['intake', 'new']);
  const again = await t.api.post(`/api/tickets/${low.id}/transitions`, { to: 'intake' });
  assert.equal(again.statusCode, 409, 'it is in intake already');
  assert.equal((await t.api.post(`/api/tickets/${done.id}/transitions`, { to: 'closed' })).statusCode, 200);
  t.clock.advance(11 * 60_000);

  const res = await t.api.get('/api/board?project=core');
  assert.equal(res.statusCode, 200, res.body);
  const board = res.json().data;
  assert.equal(board.project.key, 'core');
  assert.equal(board.truncated, false);
  assert.deepEqual(
    board.cards.map((card: { subject: string }) => card.subject),
    ['High one', 'Low one'],
  );
  const [card] = board.cards;
  assert.equal(card.customer_name, 'Acme');
  assert.equal(card.stage.key, 'intake');
  assert.equal(card.stage.name, 'Intake');
  assert.equal(card.delay_state, 'overdue');
  assert.equal(card.overdue_by, 60);

  const limited = (await t.api.get('/api/board?project=core&limit=1')).json().data;
  assert.equal(limited.cards.length, 1);
  assert.equal(limited.truncated, true);
});

test('GET /api/board?view= and ?q= show only the cards the search matches (time terms too, unambiguous beside stages)', async () => {
  const subjects = async (query: string) => {
    const res = await t.api.get(`/api/board?project=core&${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return res
      .json()
      .data.cards.map((card: { subject: string }) => card.subject)
      .sort();
  };
  assert.deepEqual(await subjects('q=priority:high'), ['High one']);
  assert.deepEqual(await subjects(`q=${encodeURIComponent('customer:acme created:>2020-01-01')}`), ['High one']);
  const view = await t.api.post('/api/views', { name: 'Low ones', query: 'priority:low', layout: 'board' });
  assert.equal(view.statusCode, 201, view.body);
  assert.deepEqual(await subjects(`view=${view.json().data.id}`), ['Low one']);
  assert.deepEqual(await subjects(`view=${view.json().data.id}&q=priority:high`), []);
  const bad = await t.api.get('/api/board?project=core&q=status:opn');
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /status:opn/);
  assert.equal((await t.api.get('/api/board?project=core&view=no-such-view')).statusCode, 404);
});

test('GET /api/board: unknown project 404, bad query 400, customers 403', async () => {
  assert.equal((await t.api.get('/api/board?project=nope')).statusCode, 404);
  for (const query of ['', '?project=', '?project=core&limit=0', '?project=core&limit=x', '?project=core&extra=1']) {
    const res = await t.api.get(`/api/board${query}`);
    assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
    assert.equal(res.json().success, false);
  }
  assert.equal((await t.anonymous.get('/api/board?project=core')).statusCode, 401);
  const customer = await t.userClient('customer', { customerEmails: ['a@example.com'] });
  assert.equal((await customer.get('/api/board?project=core')).statusCode, 403);
  const viewer = await t.userClient('viewer');
  assert.equal((await viewer.get('/api/board?project=core')).statusCode, 200);
});

test('new tickets: /api enters the first stage unless the project turns it off; the older /tickets face does not', async () => {
  const legacy = await t.api.post('/tickets', { subject: 'Old client', project: 'core' });
  assert.equal(legacy.statusCode, 201, legacy.body);
  const row = (await t.api.get(`/api/tickets/${legacy.json().id ?? legacy.json().data?.id}`)).json().data;
  assert.equal(row.stage, null, 'the older face keeps its behaviour and wire format');
  const off = await t.api.patch('/api/projects/core', { new_tickets_enter_first_stage: false });
  assert.equal(off.statusCode, 200, off.body);
  assert.equal(off.json().data.new_tickets_enter_first_stage, false);
  const waiting = await t.create.ticket({ subject: 'Waits outside', project: 'core' });
  assert.equal(waiting.current_stage_id, null);
  assert.equal((await t.api.patch('/api/projects/core', { new_tickets_enter_first_stage: true })).statusCode, 200);
  const history = (await t.api.get(`/api/tickets/${(await t.create.ticket({ subject: 'In', project: 'core' })).id}/history`)).json().data;
  assert.deepEqual(
    history.map((event: { type: string }) => event.type),
    ['created', 'stage_entered'],
  );
});
