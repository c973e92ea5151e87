import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type Client, type TestApp } from '../../helpers/app.js';
import { fuzzRoute, randomId } from '../../helpers/fuzz.js';

let t: TestApp;
before(async () => {
  t = await testApp();
  await t.create.ticket({ subject: 'Printer on fire', status: 'open', priority: 'high', customer_email: 'ops@acme.example' });
  await t.create.ticket({ subject: 'Paper jam', status: 'open', priority: 'low', customer_email: 'noc@globex.example' });
  await t.create.ticket({ subject: 'Old invoice', status: 'closed', priority: 'high', customer_email: 'ops@acme.example' });
});
after(() => t.close());

test('save, read, apply, count, change and delete a view', async () => {
  const created = await t.api.post('/api/views', {
    name: 'Hot open',
    query: 'status:open priority:high',
    sort: '-number',
    columns: ['number', 'subject'],
    layout: 'board',
  });
  assert.equal(created.statusCode, 201, created.body);
  const view = created.json().data;
  assert.equal(view.mine, true);
  assert.equal(view.shared, false);
  assert.equal(view.layout, 'board');
  assert.equal((await t.api.get(`/api/views/${view.id}`)).json().data.name, 'Hot open');

  const applied = await t.api.get(`/api/tickets?view=${view.id}`);
  assert.deepEqual(
    applied.json().data.map((ticket: any) => ticket.subject),
    ['Printer on fire'],
  );
  const narrowed = await t.api.get(`/api/tickets?view=${view.id}&q=paper`);
  assert.deepEqual(narrowed.json().data, [], 'q narrows the view further');
  assert.deepEqual((await t.api.get(`/api/views/${view.id}/count`)).json().data, { view_id: view.id, count: 1 });

  const patched = await t.api.patch(`/api/views/${view.id}`, { query: 'priority:high' }, { 'if-match': '"1"' });
  assert.equal(patched.statusCode, 200, patched.body);
  assert.equal(patched.json().data.version, 2);
  assert.equal(patched.json().data.layout, 'board', 'PATCH keeps what it was not given');
  assert.equal((await t.api.get(`/api/views/${view.id}/count`)).json().data.count, 2);
  // The view's sort applies unless the request gives one.
  assert.deepEqual(
    (await t.api.get(`/api/tickets?view=${view.id}`)).json().data.map((ticket: any) => ticket.subject),
    ['Old invoice', 'Printer on fire'],
  );
  assert.deepEqual(
    (await t.api.get(`/api/tickets?view=${view.id}&sort=number`)).json().data.map((ticket: any) => ticket.subject),
    ['Printer on fire', 'Old invoice'],
  );
  assert.equal((await t.api.patch(`/api/views/${view.id}`, { name: 'x', version: 1 })).statusCode, 412);

  const replaced = await t.api.put(`/api/views/${view.id}`, { name: 'Everything' });
  assert.equal(replaced.statusCode, 200, replaced.body);
  assert.equal(replaced.json().data.layout, 'list', 'PUT puts back the defaults');
  assert.equal(replaced.json().data.query, '');
  assert.equal((await t.api.put(`/api/views/${view.id}`, { query: 'x' })).statusCode, 400);

  assert.equal((await t.api.delete(`/api/views/${view.id}`)).statusCode, 200);
  assert.equal((await t.api.get(`/api/views/${view.id}`)).statusCode, 404);
  assert.equal((await t.api.get(`/api/tickets?view=${view.id}`)).statusCode, 404);
});

test('a bad query, sort, column or layout is a 400 naming it', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ name: 'x', query: 'colour:red' }, 'q'],
    [{ name: 'x', sort: 'sideways' }, 'sort'],
    [{ name: 'x', columns: ['nope'] }, 'columns'],
    [{ name: 'x', layout: 'grid' }, 'layout'],
    [{ name: '' }, 'name'],
    [{ name: 'x', extra: 1 }, 'extra'],
  ];
  for (const [body, field] of cases) {
    const res = await t.api.post('/api/views', body);
    assert.equal(res.statusCode, 400, JSON.stringify(body));
    assert.match(JSON.stringify(res.json().error), new RegExp(field), JSON.stringify(body));
  }
});

test('personal views are private; shared ones are for everybody, made only by agents and admins', async () => {
  const agent = await t.userClient('agent');
  const viewer = await t.userClient('viewer');
  const customer = await t.userClient('customer', { customerEmails: ['ops@acme.example'] });

  const personal = (await agent.post('/api/views', { name: 'Mine', query: 'status:open' })).json().data;
  const shared = await agent.post('/api/views', { name: 'Team', query: 'priority:high', shared: true });
  assert.equal(shared.statusCode, 201, shared.body);
  const team = shared.json().data;

  assert.equal((await viewer.post('/api/views', { name: 'Share?', shared: true })).statusCode, 403);
  assert.equal((await customer.post('/api/views', { name: 'Share?', shared: true })).statusCode, 403);
  const viewerOwn = await viewer.post('/api/views', { name: 'Viewer own' });
  assert.equal(viewerOwn.statusCode, 201, 'viewers keep personal views');

  assert.equal((await viewer.get(`/api/views/${personal.id}`)).statusCode, 404);
  assert.equal((await viewer.get(`/api/tickets?view=${personal.id}`)).statusCode, 404);
  const viewerList = (await viewer.get('/api/views')).json().data.map((view: any) => view.name);
  assert.ok(viewerList.includes('Team') && viewerList.includes('Viewer own') && !viewerList.includes('Mine'));

  // A customer applying a shared view still sees only their own tickets.
  const applied = await customer.get(`/api/tickets?view=${team.id}`);
  assert.deepEqual(
    applied
      .json()
      .data.map((ticket: any) => ticket.subject)
      .sort(),
    ['Old invoice', 'Printer on fire'],
  );
  assert.equal((await customer.get(`/api/views/${team.id}/count`)).json().data.count, 2);
  assert.equal((await t.api.get(`/api/views/${team.id}/count`)).json().data.count, 2);

  // The dashboard offers "Edit view" where the policy says `changeable` (canChangeView), and the server agrees.
  const changeable = async (client: Client) => (await client.get(`/api/views/${team.id}`)).json().data.changeable;
  assert.deepEqual(
    [await changeable(agent), await changeable(viewer), await changeable(customer), await changeable(t.api)],
    [true, false, false, true],
  );
  assert.equal((await viewer.patch(`/api/views/${team.id}`, { name: 'Mine now' })).statusCode, 403);
  assert.equal((await customer.delete(`/api/views/${team.id}`)).statusCode, 403);
  assert.equal((await t.api.patch(`/api/views/${team.id}`, { name: 'Renamed by admin' })).statusCode, 200, 'admins tend shared views');
  assert.equal((await t.api.delete(`/api/views/${personal.id}`)).statusCode, 404, "nobody sees another's personal view");
});

test('pages of views walk with a cursor', async () => {
  const user = await t.userClient('agent');
  for (let i = 0; i < 5; i++) {
    await user.post('/api/views', { name: `v${i}` });
    t.clock.advance(1000);
  }
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await user.get(`/api/views?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.statusCode, 200, res.body);
    names.push(
      ...res
        .json()
        .data.filter((view: any) => view.mine)
        .map((view: any) => view.name),
    );
    cursor = res.json().page.next_cursor;
  } while (cursor);
  assert.deepEqual(names, ['v0', 'v1', 'v2', 'v3', 'v4']);
});

test('fuzz the view write routes: only 2xx/4xx with the error shape', async () => {
  const ids = [(await t.api.post('/api/views', { name: 'fuzz' })).json().data.id];
  const fields = ['name', 'query', 'sort', 'columns', 'layout', 'shared', 'version'];
  let seed = 7100;
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    await fuzzRoute(t.api, {
      method,
      path: (random) => (method === 'POST' ? '/api/views' : `/api/views/${encodeURIComponent(randomId(random, ids))}`),
      fields,
      rounds: 120,
      seed: seed++,
    });
  }
});
