import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ProtectedRoute } from '../../../src/modules/auth/plugin.js';
import { testApp, type TestApp, type UserClient } from '../../helpers/app.js';

/**
 * Two customers, each with tickets (one with a stage). Every GET route the app has — lists, single items,
 * aggregates, exports, logs; found from the app itself, so later routes are covered — is asked by each customer
 * with the other's ticket ids, numbers and stage ids in every path parameter; no answer may contain anything of
 * the other customer's.
 */

let t: TestApp;
type Seeded = { client: UserClient; marker: string; email: string; ticket: Record<string, any>; stage: Record<string, any> };
const customers: Seeded[] = [];

before(async () => {
  t = await testApp();
  for (const name of ['acme', 'globex']) {
    const email = `${name}@customers.example.com`;
    const marker = `${name.toUpperCase()}-SECRET-${Math.random().toString(36).slice(2, 8)}`;
    const stage = await t.create.stage({ stage_description: `${marker} stage` });
    const ticket = await t.create.ticket({
      subject: `${marker} subject`,
      customer_name: `${marker} Ltd`,
      customer_email: email,
      stages: [stage.id],
      current_stage_id: stage.id,
    });
    await t.create.ticket({ subject: `${marker} second`, customer_email: email.toUpperCase() });
    const client = await t.userClient('customer', { customerEmails: [email] });
    customers.push({ client, marker, email, ticket, stage });
  }
});
after(() => t.close());

/** Server-Sent Events never end, so inject would wait forever; the events module tests its stream itself. */
const isStream = (route: ProtectedRoute) => JSON.stringify(route.schema ?? {}).includes('text/event-stream');

test('a customer sees their own tickets in lists', async () => {
  for (const [index, me] of customers.entries()) {
    const other = customers[1 - index];
    const list = await me.client.get('/api/tickets');
    assert.equal(list.statusCode, 200);
    const subjects = list.json().data.map((ticket: { subject: string }) => ticket.subject);
    assert.equal(subjects.length, 2);
    assert.ok(subjects.every((subject: string) => subject.startsWith(me.marker)));
    assert.ok(!list.body.includes(other.marker));
    const legacy = await me.client.get('/tickets');
    assert.equal(legacy.statusCode, 200);
    assert.equal(legacy.json().length, 2);
  }
});

test("another customer's ticket is 404, by id and by number, on both faces", async () => {
  const [me, other] = customers;
  for (const url of [
    `/api/tickets/${other.ticket.id}`,
    `/api/tickets/${other.ticket.number}`,
    `/tickets/${other.ticket.id}`,
    `/tickets/${other.ticket.number}`,
  ]) {
    const res = await me.client.get(url);
    assert.equal(res.statusCode, 404, url);
    assert.ok(!res.body.includes(other.marker));
  }
  assert.equal((await me.client.get(`/api/tickets/${me.ticket.id}`)).statusCode, 200);
});

test('no GET route leaks the other customer, whatever ids it is given', async () => {
  const leaks: string[] = [];
  const routes = t.app.protectedRoutes.filter((route) => route.method === 'GET' && !isStream(route) && route.rule !== 'public');
  assert.ok(routes.length > 5);
  for (const [index, me] of customers.entries()) {
    const other = customers[1 - index];
    const values = [other.ticket.id, String(other.ticket.number), other.stage.id, String(other.stage.number), other.email];
    for (const route of routes) {
      const urls = route.url.includes(':')
        ? values.map((value) => route.url.replace(/:[A-Za-z_]+/g, encodeURIComponent(value)))
        : [route.url];
      for (const url of urls) {
        for (const query of ['', `?customer=${encodeURIComponent(other.email)}`, `?q=${other.marker}`]) {
          const res = await me.client.get(url + query);
          // An error naming the id the caller sent is an echo, not a leak.
          const echoed = decodeURIComponent(url + query).includes(other.email);
          if (res.body.includes(other.marker) || (!echoed && res.body.includes(other.email)))
            leaks.push(`${url}${query} → ${res.statusCode}`);
        }
      }
    }
  }
  assert.deepEqual(leaks, []);
});

test('customers never see internal fields', async () => {
  const [me] = customers;
  await t.api.patch(`/api/tickets/${me.ticket.id}`, { assigned_to: 'agent-smith', metadata: { internal_note: 'VIP-INTERNAL' } });
  const res = await me.client.get(`/api/tickets/${me.ticket.id}`);
  assert.equal(res.statusCode, 200);
  assert.ok(!res.body.includes('agent-smith'));
  assert.ok(!res.body.includes('VIP-INTERNAL'));
  const legacy = await me.client.get(`/tickets/${me.ticket.id}`);
  assert.ok(!legacy.body.includes('agent-smith'));
  assert.ok(!legacy.body.includes('VIP-INTERNAL'));
});

test('a customer may open a ticket only for themselves, and may not change or delete tickets', async () => {
  const [me, other] = customers;
  const own = await me.client.post('/api/tickets', { subject: 'my printer', customer_email: me.email });
  assert.equal(own.statusCode, 201);
  const foreign = await me.client.post('/api/tickets', { subject: 'not mine', customer_email: other.email });
  assert.ok([403, 404, 400].includes(foreign.statusCode), `opening a ticket for another customer: ${foreign.statusCode}`);
  assert.equal((await me.client.patch(`/api/tickets/${me.ticket.id}`, { subject: 'changed' })).statusCode, 403);
  assert.equal((await me.client.delete(`/api/tickets/${me.ticket.id}`)).statusCode, 403);
  assert.equal((await me.client.delete(`/api/tickets/${other.ticket.id}`)).statusCode, 403);
});
