import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { supportWorkflow } from '../../helpers/fixtures.js';

let t: TestApp;
before(async () => {
  t = await testApp();
  assert.equal((await t.api.post('/api/projects', supportWorkflow('HIS'))).statusCode, 201);
});
after(() => t.close());

test('customers see public history only and may not write internal comments', async () => {
  const ticket = await t.create.ticket({ project: 'HIS', customer_email: 'buyer@shop.example' });
  await t.api.post(`/api/tickets/${ticket.id}/transitions`, { to: 'intake' });
  assert.equal(
    (await t.api.post(`/api/tickets/${ticket.id}/comments`, { body: 'Customer is grumpy', visibility: 'internal' })).statusCode,
    201,
  );
  assert.equal((await t.api.post(`/api/tickets/${ticket.id}/comments`, { body: 'We are on it' })).statusCode, 201);

  const agentView = (await t.api.get(`/api/tickets/${ticket.id}/history`)).json().data;
  assert.ok(agentView.some((e: { visibility: string }) => e.visibility === 'internal'));

  const customer = await t.userClient('customer', { customerEmails: ['buyer@shop.example'] });
  const customerView = (await customer.get(`/api/tickets/${ticket.id}/history`)).json().data;
  assert.ok(customerView.length > 0);
  assert.ok(customerView.every((e: { visibility: string }) => e.visibility === 'public'));
  assert.ok(!JSON.stringify(customerView).includes('grumpy'));
  assert.ok(customerView.some((e: { data: { body?: string } }) => e.data.body === 'We are on it'));

  const internal = await customer.post(`/api/tickets/${ticket.id}/comments`, { body: 'psst', visibility: 'internal' });
  assert.equal(internal.statusCode, 403);
  assert.equal((await customer.post(`/api/tickets/${ticket.id}/comments`, { body: 'Thanks!' })).statusCode, 201);
  assert.equal((await customer.post(`/api/tickets/${ticket.id}/transitions`, { to: 'triage' })).statusCode, 403);

  const stranger = await t.userClient('customer', { customerEmails: ['other@else.example'] });
  assert.equal((await stranger.get(`/api/tickets/${ticket.id}/history`)).statusCode, 404);
  assert.equal((await stranger.get(`/api/tickets/${ticket.id}/timeline`)).statusCode, 404);
  assert.equal((await stranger.post(`/api/tickets/${ticket.id}/comments`, { body: 'hi' })).statusCode, 404);
});

test('history pages by cursor, oldest first, and is never rewritten', async () => {
  const ticket = await t.create.ticket({ project: 'HIS' });
  for (let i = 0; i < 7; i++) await t.api.post(`/api/tickets/${ticket.id}/comments`, { body: `note ${i}` });
  const seen: number[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: { id: number }[]; page: { next_cursor: string | null } } = (
      await t.api.get(`/api/tickets/${ticket.id}/history?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
    ).json();
    seen.push(...page.data.map((e) => e.id));
    cursor = page.page.next_cursor;
  } while (cursor);
  assert.deepEqual(
    seen,
    [...seen].sort((a, b) => a - b),
  );
  assert.equal(new Set(seen).size, seen.length);
  assert.ok(seen.length >= 8);
  assert.equal((await t.api.get(`/api/tickets/${ticket.id}/history?cursor=garbage`)).statusCode, 400);
  assert.equal((await t.api.post(`/api/tickets/${ticket.id}/comments`, { body: '' })).statusCode, 400);
  assert.equal((await t.api.post(`/api/tickets/${ticket.id}/comments`, { body: 'x', visibility: 'secret' })).statusCode, 400);
});
