import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { testApp, type TestApp, type UserClient } from '../../helpers/app.js';
import { deliver as deliverAll } from './settle.js';
import { header, smtpServer, type ReceivedMail } from './smtp.js';

let smtp: Awaited<ReturnType<typeof smtpServer>>;
let t: TestApp;
let agent: UserClient;
let other: UserClient;
let customer: UserClient;

before(async () => {
  smtp = await smtpServer();
  t = await testApp({ SMTP_URL: smtp.url, MAIL_FROM: 'Stageline <noreply@stageline.test>', PUBLIC_URL: 'https://stageline.test/' });
  agent = await t.userClient('agent');
  other = await t.userClient('agent');
  customer = await t.userClient('customer', { customerEmails: ['buyer@example.com'] });
});
after(async () => {
  await t.close();
  await smtp.close();
});
beforeEach(async () => {
  // Whatever earlier tests left in the history goes out first, so each test sees only its own mail.
  await deliver();
  smtp.clear();
});

const deliver = () => deliverAll(t);

const textOf = (mail: ReceivedMail) => mail.parsed.text ?? '';
const htmlOf = (mail: ReceivedMail) => String(mail.parsed.html);

test('an update mails the watcher and the assignee once, grouped, with link, reason and unsubscribe; never the actor', async () => {
  const ticket = await t.create.ticket({ subject: 'Printer <on fire>', assigned_to: other.user.email });
  assert.equal((await agent.post(`/api/tickets/${ticket.id}/watchers`, {})).statusCode, 201);
  await deliver();
  smtp.clear();

  const res = await agent.patch(`/api/tickets/${ticket.id}`, { subject: 'Printer still on fire', priority: 'high', category: 'hardware' });
  assert.equal(res.statusCode, 200);
  await deliver();

  assert.equal(smtp.to(agent.user.email).length, 0, 'the actor is not told of their own change');
  const mails = smtp.to(other.user.email);
  assert.equal(mails.length, 1, 'three field changes of one update are one mail');
  const [mail] = mails;
  assert.match(mail.parsed.subject ?? '', /Updated by agent/);
  for (const change of [
    /subject: Printer <on fire> → Printer still on fire/,
    /priority: medium → high/,
    /category: \(empty\) → hardware/,
  ]) {
    assert.match(textOf(mail), change);
  }
  assert.match(htmlOf(mail), /Printer &lt;on fire&gt; → Printer still on fire/, 'HTML content is escaped');
  assert.ok(!htmlOf(mail).includes('<on fire>'));
  const link = `https://stageline.test/app/tickets/${ticket.id}`;
  assert.ok(textOf(mail).includes(link));
  assert.ok(htmlOf(mail).includes(`href="${link}"`));
  assert.match(textOf(mail), /You got this mail because you are the assignee\./);
  assert.match(textOf(mail), /Unsubscribe: https:\/\/stageline\.test\/api\/notifications\/unsubscribe\?token=/);
  assert.ok(header(mail, 'List-Unsubscribe'));

  // The watcher hears of the assignee's change, with its own reason.
  await other.post(`/api/tickets/${ticket.id}/comments`, { body: 'Called the vendor\nsecond line' });
  await deliver();
  assert.equal(smtp.to(other.user.email).length, 1, 'still only the update: the commenter is the actor');
  const [comment] = smtp.to(agent.user.email);
  assert.match(textOf(comment), /You got this mail because you watch this ticket\./);
  assert.match(textOf(comment), /> Called the vendor\n> second line/);
});

test('a customer hears only public events of their own tickets', async () => {
  const own = await t.create.ticket({ subject: 'Mine', customer_email: 'buyer@example.com' });
  const foreign = await t.create.ticket({ subject: 'Not mine', customer_email: 'someone@else.example' });
  await deliver();
  assert.equal((await customer.post(`/api/tickets/${own.id}/watchers`)).statusCode, 201);
  assert.equal((await customer.post(`/api/tickets/${foreign.id}/watchers`)).statusCode, 404, 'cannot watch what it cannot see');
  // An agent cannot make the customer watch a ticket that is not theirs either.
  const added = await agent.post(`/api/tickets/${foreign.id}/watchers`, { userId: customer.user.id });
  assert.equal(added.statusCode, 400);
  assert.equal(added.json().error.details[0].field, 'userId');

  await agent.post(`/api/tickets/${own.id}/comments`, { body: 'internal note: refund is risky', visibility: 'internal' });
  await agent.patch(`/api/tickets/${own.id}`, { assigned_to: agent.user.email, metadata: { secret: 1 } });
  await deliver();
  assert.equal(smtp.to(customer.user.email).length, 0, 'internal comments and internal fields never reach a customer');

  await agent.post(`/api/tickets/${own.id}/comments`, { body: 'We are on it' });
  await agent.patch(`/api/tickets/${own.id}`, { priority: 'high', assigned_to: other.user.email });
  await deliver();
  const mails = smtp.to(customer.user.email);
  assert.equal(mails.length, 2);
  const all = mails.map(textOf).join('\n');
  assert.match(all, /We are on it/);
  assert.match(all, /priority: medium → high/);
  assert.doesNotMatch(all, /assigned_to|refund|secret/);

  // A customer's view subscription matches only their own tickets, however broad the query.
  const view = (await customer.post('/api/views', { name: 'Everything', query: '' })).json().data;
  assert.equal((await customer.post(`/api/views/${view.id}/subscriptions`)).statusCode, 201);
  smtp.clear();
  await agent.post(`/api/tickets/${foreign.id}/comments`, { body: 'foreign news' });
  await deliver();
  assert.equal(smtp.to(customer.user.email).length, 0);
});

test('stage contacts hear of their stage’s tickets; an address without an account gets public events only', async () => {
  const stage = await t.create.stage({ stage_description: 'Vendor', contact_emails: ['Vendor-Desk@Partner.example', other.user.email] });
  const ticket = await t.create.ticket({ subject: 'At the vendor', current_stage_id: stage.id });
  await deliver();
  assert.match(textOf(smtp.to('vendor-desk@partner.example')[0]), /you are the stage contact/);
  smtp.clear();
  await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'between us', visibility: 'internal' });
  await deliver();
  assert.equal(smtp.to('vendor-desk@partner.example').length, 0);
  assert.equal(smtp.to(other.user.email).length, 1, 'a contact with a staff account reads internal events');
});

test('subscribers of a saved view hear of tickets its search matches, evaluated in SQL', async () => {
  const view = (await agent.post('/api/views', { name: 'Hot ones', query: 'priority:high' })).json().data;
  assert.deepEqual((await agent.get(`/api/views/${view.id}/subscriptions`)).json().data, { subscribed: false });
  assert.equal((await agent.post(`/api/views/${view.id}/subscriptions`)).statusCode, 201);
  assert.deepEqual((await agent.get(`/api/views/${view.id}/subscriptions`)).json().data, { subscribed: true });
  assert.equal((await other.post(`/api/views/${view.id}/subscriptions`)).statusCode, 404, "someone else's private view");

  await t.create.ticket({ subject: 'Calm', priority: 'low' });
  const hot = await t.create.ticket({ subject: 'Burning', priority: 'high' });
  await deliver();
  const mails = smtp.to(agent.user.email);
  assert.equal(mails.length, 1);
  assert.match(mails[0].parsed.subject ?? '', new RegExp(`#${hot.number} Burning`));
  assert.match(textOf(mails[0]), /you subscribed to the view "Hot ones"/);

  assert.equal((await agent.delete(`/api/views/${view.id}/subscriptions`)).statusCode, 200);
  smtp.clear();
  await t.create.ticket({ subject: 'Burning again', priority: 'high' });
  await deliver();
  assert.equal(smtp.to(agent.user.email).length, 0);
});

test('preferences: events off, digests every N minutes (one mail per window), alerts batched even when immediate', async () => {
  const reader = await t.userClient('agent');
  const defaults = (await reader.get('/api/me/notifications')).json().data;
  assert.equal(defaults.email, reader.user.email);
  assert.equal(defaults.digestMinutes, 60);
  assert.equal(defaults.events['comment.added'], 'immediate');
  assert.equal(defaults.events['stage.left'], 'off');

  const saved = await reader.put('/api/me/notifications', {
    digestMinutes: 15,
    events: { 'comment.added': 'digest', 'ticket.updated': 'off' },
  });
  assert.equal(saved.statusCode, 200);
  assert.equal(saved.json().data.events['comment.added'], 'digest');
  assert.equal(saved.json().data.events['ticket.created'], 'immediate', 'events left out keep their value');
  assert.equal((await reader.put('/api/me/notifications', { digestMinutes: 4 })).json().error.details[0].field, 'digestMinutes');
  assert.equal((await reader.put('/api/me/notifications', { email: 'elsewhere@example.com' })).statusCode, 400);
  assert.equal((await reader.put('/api/me/notifications', { email: reader.user.email.toUpperCase() })).statusCode, 200);
  assert.equal((await reader.put('/api/me/notifications', { events: { 'ticket.deleted': 'immediate' } })).statusCode, 400);

  t.clock.set('2026-03-02T10:01:00Z');
  const a = await t.create.ticket({ subject: 'Digest A' });
  const b = await t.create.ticket({ subject: 'Digest B' });
  await deliver();
  for (const ticket of [a, b]) assert.equal((await reader.post(`/api/tickets/${ticket.id}/watchers`)).statusCode, 201);
  await agent.patch(`/api/tickets/${a.id}`, { priority: 'high' });
  await agent.post(`/api/tickets/${a.id}/comments`, { body: 'first' });
  await agent.post(`/api/tickets/${b.id}/comments`, { body: 'second' });
  await deliver();
  assert.equal(smtp.to(reader.user.email).length, 0, 'updates are off, comments wait for the digest');

  t.clock.set('2026-03-02T10:14:59Z');
  await deliver();
  assert.equal(smtp.to(reader.user.email).length, 0, 'the 15-minute window ends at 10:15');
  t.clock.set('2026-03-02T10:15:00Z');
  await deliver();
  const digests = smtp.to(reader.user.email);
  assert.equal(digests.length, 1);
  assert.match(digests[0].parsed.subject ?? '', /2 updates on 2 tickets/);
  assert.match(textOf(digests[0]), /first[\s\S]*second/);
  const log = (await t.api.get(`/api/notifications/deliveries?to=${encodeURIComponent(reader.user.email)}`)).json().data;
  assert.equal(log[0].digest, true);

  // At-risk alerts of many tickets at once: gathered into one mail per reader over 5 minutes.
  smtp.clear();
  t.clock.set('2026-03-02T11:01:00Z');
  const c = await t.create.ticket({ subject: 'Digest C' });
  await reader.post(`/api/tickets/${c.id}/watchers`);
  await deliver();
  smtp.clear();
  await t.database.db
    .insertInto('ticket_events')
    .values(
      [a, b, c].map((ticket) => ({
        ticket_id: ticket.id,
        type: 'at_risk',
        actor_name: 'system',
        data: JSON.stringify({ scope: 'stage', name: 'Triage', at: '2026-03-02T12:00:00Z' }),
        created_at: t.clock.now(),
      })),
    )
    .execute();
  await deliver();
  assert.equal(smtp.to(reader.user.email).length, 0);
  t.clock.set('2026-03-02T11:05:00Z');
  await deliver();
  const alerts = smtp.to(reader.user.email);
  assert.equal(alerts.length, 1, 'one mail for three alerts');
  assert.equal((textOf(alerts[0]).match(/Stage Triage is at risk/g) ?? []).length, 3);
});

test('unsubscribe links: the link asks, its button and one-click POST turn the event off without a login; bad and forged tokens are refused', async () => {
  const reader = await t.userClient('agent');
  const ticket = await t.create.ticket({ subject: 'Unsubscribe me' });
  await deliver();
  await reader.post(`/api/tickets/${ticket.id}/watchers`);
  await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'one' });
  await deliver();
  const [mail] = smtp.to(reader.user.email);
  const url = new URL(/<(.+)>/.exec(header(mail, 'List-Unsubscribe')!)![1]);
  const token = url.searchParams.get('token')!;

  // Opening the link (as a mail filter's link scanner would) only asks.
  const page = await t.anonymous.get(`/api/notifications/unsubscribe?token=${token}`);
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /text\/html/);
  assert.match(page.body, /comment\.added/);
  assert.match(page.body, /<form method="post"><button/);
  assert.equal((await reader.get('/api/me/notifications')).json().data.events['comment.added'], 'immediate');
  // The page's button posts the same address from a browser, and gets a page back.
  const confirmed = await t.anonymous.request({
    method: 'POST',
    url: `/api/notifications/unsubscribe?token=${token}`,
    headers: { accept: 'text/html,application/xhtml+xml', 'content-type': 'application/x-www-form-urlencoded' },
    payload: '',
  });
  assert.equal(confirmed.statusCode, 200);
  assert.match(confirmed.headers['content-type'] as string, /text\/html/);
  assert.match(confirmed.body, /Unsubscribed/);
  assert.equal((await reader.get('/api/me/notifications')).json().data.events['comment.added'], 'off');
  await agent.post(`/api/tickets/${ticket.id}/comments`, { body: 'two' });
  await deliver();
  assert.equal(smtp.to(reader.user.email).length, 1, 'no more comment mail');

  // Turned on again, then off by one click from the mail client (RFC 8058 form post).
  await reader.put('/api/me/notifications', { events: { 'comment.added': 'immediate' } });
  const click = await t.anonymous.request({
    method: 'POST',
    url: `/api/notifications/unsubscribe?token=${token}`,
    payload: 'List-Unsubscribe=One-Click',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(click.statusCode, 200);
  assert.deepEqual(click.json().data, { address: reader.user.email, event: 'comment.added' });
  assert.equal((await reader.get('/api/me/notifications')).json().data.events['comment.added'], 'off');

  const [body, signature] = token.split('.');
  const forgedBody = Buffer.from(JSON.stringify({ a: 'victim@example.com', e: '*' })).toString('base64url');
  assert.equal((await t.anonymous.post(`/api/notifications/unsubscribe?token=${forgedBody}.${signature}`)).statusCode, 403);
  assert.equal((await t.anonymous.get(`/api/notifications/unsubscribe?token=${body}.${'A'.repeat(43)}`)).statusCode, 403);
  const malformed = await t.anonymous.get('/api/notifications/unsubscribe?token=not-a-token');
  assert.equal(malformed.statusCode, 400);
  assert.match(malformed.headers['content-type'] as string, /text\/html/);
  assert.equal((await t.anonymous.post('/api/notifications/unsubscribe')).statusCode, 400);
});

test('an address without an account unsubscribes from everything with the link of a mail about no event', async () => {
  const stage = await t.create.stage({ stage_description: 'Outside', contact_emails: ['outside@partner.example'] });
  const url = await t.database.db
    .transaction()
    .execute((tx) => t.app.services.mailer.unsubscribeUrl(tx, { address: 'outside@partner.example', event: '*' }));
  assert.equal((await t.anonymous.post(url.replace('https://stageline.test', ''))).statusCode, 200);
  await t.create.ticket({ subject: 'Nobody hears', current_stage_id: stage.id });
  await deliver();
  assert.equal(smtp.to('outside@partner.example').length, 0);
});
