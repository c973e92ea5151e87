import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp, type UserClient } from '../../helpers/app.js';
import { fuzzRoute, randomId } from '../../helpers/fuzz.js';

let t: TestApp;
let agent: UserClient;
let viewer: UserClient;
let customer: UserClient;
let ticket: Record<string, any>;

before(async () => {
  t = await testApp();
  agent = await t.userClient('agent');
  viewer = await t.userClient('viewer');
  customer = await t.userClient('customer', { customerEmails: ['own@example.com'] });
  ticket = await t.create.ticket({ subject: 'Watched', customer_email: 'own@example.com' });
});
after(() => t.close());

const ids = (res: { json(): any }) =>
  res
    .json()
    .data.map((watcher: { userId: string }) => watcher.userId)
    .sort();

test('watchers: everybody may watch what they see; only agents and admins add or remove others', async () => {
  assert.deepEqual((await viewer.post(`/api/tickets/${ticket.id}/watchers`, {})).json().data, [
    { userId: viewer.user.id, name: viewer.user.name, email: viewer.user.email },
  ]);
  assert.equal((await viewer.post(`/api/tickets/${ticket.id}/watchers`, { userId: agent.user.id })).statusCode, 403);
  assert.equal((await customer.post(`/api/tickets/${ticket.id}/watchers`, { userId: agent.user.id })).statusCode, 403);
  const added = await agent.post(`/api/tickets/${ticket.id}/watchers`, { userId: customer.user.id });
  assert.equal(added.statusCode, 201);
  assert.deepEqual(ids(added), [viewer.user.id, customer.user.id].sort());
  assert.equal((await agent.post(`/api/tickets/${ticket.id}/watchers`, { userId: 'nobody' })).json().error.details[0].field, 'userId');
  // Twice is once.
  assert.equal((await viewer.post(`/api/tickets/${ticket.id}/watchers`)).json().data.length, 2);

  assert.deepEqual(ids(await customer.get(`/api/tickets/${ticket.id}/watchers`)), [customer.user.id], 'a customer sees only themselves');
  assert.equal((await agent.get(`/api/tickets/${ticket.id}/watchers`)).json().data.length, 2);
  assert.equal((await customer.delete(`/api/tickets/${ticket.id}/watchers/${viewer.user.id}`)).statusCode, 403);
  assert.deepEqual(ids(await customer.delete(`/api/tickets/${ticket.id}/watchers/${customer.user.id}`)), []);
  assert.deepEqual(ids(await viewer.delete(`/api/tickets/${ticket.id}/watchers`)), []);
  assert.equal((await agent.get(`/api/tickets/${ticket.id}/watchers`)).json().data.length, 0);
  assert.equal((await agent.post('/api/tickets/no-such-ticket/watchers')).statusCode, 404);
  const readOnly = await t.userClient('agent', { scope: 'read' });
  assert.equal((await readOnly.post(`/api/tickets/${ticket.id}/watchers`)).statusCode, 403);
});

test('view subscriptions follow the view’s visibility', async () => {
  const mine = (await agent.post('/api/views', { name: 'Mine', query: 'priority:high' })).json().data;
  const shared = (await agent.post('/api/views', { name: 'Shared', query: '', shared: true })).json().data;
  assert.equal((await viewer.post(`/api/views/${mine.id}/subscriptions`)).statusCode, 404);
  assert.equal((await viewer.post(`/api/views/${shared.id}/subscriptions`)).statusCode, 201);
  assert.deepEqual((await viewer.get(`/api/views/${shared.id}/subscriptions`)).json().data, { subscribed: true });
  assert.deepEqual((await agent.get(`/api/views/${shared.id}/subscriptions`)).json().data, { subscribed: false });
  assert.deepEqual((await viewer.delete(`/api/views/${shared.id}/subscriptions`)).json().data, { subscribed: false });
  assert.equal((await agent.post(`/api/views/${mine.id}/subscriptions`, { extra: 1 })).statusCode, 400);
});

test('the mail log pages by cursor and filters by status and address', async () => {
  await t.database.db.transaction().execute(async (tx) => {
    for (let i = 0; i < 5; i++) {
      await t.app.services.mailer.queue(tx, {
        to: `log${i % 2}@example.com`,
        subject: `Log ${i}`,
        text: 't',
        html: 'h',
        reason: 'r',
        dedupeKey: `log:${i}`,
      });
      t.clock.advance(1000);
    }
  });
  const first = (await t.api.get('/api/notifications/deliveries?limit=2')).json();
  assert.deepEqual(
    first.data.map((item: { subject: string }) => item.subject),
    ['Log 4', 'Log 3'],
  );
  const second = (await t.api.get(`/api/notifications/deliveries?limit=2&cursor=${first.page.next_cursor}`)).json();
  assert.deepEqual(
    second.data.map((item: { subject: string }) => item.subject),
    ['Log 2', 'Log 1'],
  );
  const toOne = (await t.api.get('/api/notifications/deliveries?to=LOG1@example.com')).json().data;
  assert.deepEqual(
    toOne.map((item: { subject: string }) => item.subject),
    ['Log 3', 'Log 1'],
  );
  assert.equal((await t.api.get('/api/notifications/deliveries?status=sent')).json().data.length, 0);
  assert.equal((await t.api.get('/api/notifications/deliveries?status=bogus')).statusCode, 400);
  assert.equal((await t.api.get('/api/notifications/deliveries?cursor=zzz')).statusCode, 400);
  assert.equal((await t.api.get('/api/notifications/deliveries/nope')).statusCode, 404);
});

test('fuzz: every write route answers 2xx or a 4xx envelope', async () => {
  const view = (await agent.post('/api/views', { name: 'Fuzzed', query: '' })).json().data;
  const tickets = [ticket.id, String(ticket.number)];
  const users = [agent.user.id, viewer.user.id, customer.user.id];
  const routes = [
    { method: 'PUT' as const, path: () => '/api/me/notifications', fields: ['email', 'digestMinutes', 'events'] },
    { method: 'POST' as const, path: (r: () => number) => `/api/tickets/${randomId(r, tickets)}/watchers`, fields: ['userId'] },
    { method: 'DELETE' as const, path: (r: () => number) => `/api/tickets/${randomId(r, tickets)}/watchers`, fields: [] },
    {
      method: 'DELETE' as const,
      path: (r: () => number) => `/api/tickets/${randomId(r, tickets)}/watchers/${randomId(r, users)}`,
      fields: [],
    },
    { method: 'POST' as const, path: (r: () => number) => `/api/views/${randomId(r, [view.id])}/subscriptions`, fields: ['x'] },
    { method: 'DELETE' as const, path: (r: () => number) => `/api/views/${randomId(r, [view.id])}/subscriptions`, fields: [] },
    {
      method: 'POST' as const,
      path: (r: () => number) => `/api/notifications/unsubscribe?token=${randomId(r, ['a.b', 'eyJhIjoiYSJ9.' + 'A'.repeat(43)])}`,
      fields: ['List-Unsubscribe'],
    },
  ];
  for (const [index, route] of routes.entries()) {
    for (const client of [agent, customer]) {
      await fuzzRoute(client, { ...route, rounds: 60, seed: 800 + index });
    }
  }
  // The preferences survive the storm in a valid shape.
  const preferences = (await agent.get('/api/me/notifications')).json().data;
  assert.ok(preferences.digestMinutes >= 5 && preferences.digestMinutes <= 1440);
});
