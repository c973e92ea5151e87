import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { settled } from '../helpers/dispatch.js';
import { adminEmail, adminPassword, createSupportProject, createTicket, screenshot, signIn, browserSuite } from './harness.js';

/** A webhook receiver on loopback that answers 200 and remembers what it was sent. */
async function startReceiver() {
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/stageline`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('notifications and webhooks in Chromium', () => {
  // The receiver listens on loopback, which webhooks refuse unless allowed.
  const e2e = browserSuite({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let ticket: { id: string; number: number };
  const agentEmail = 'agent@e2e.example.com';

  /** Hands ticket history to its consumers and runs the queued work now, instead of waiting for the loops. */
  const deliverNow = async () => {
    // Only changes below the oldest running transaction of the whole server are final; wait for them all, or a
    // later round hands these events to a webhook created since.
    await settled(e2e.server.app);
    await e2e.server.app.services.dispatcher.dispatch();
    await e2e.server.app.services.outbox.runDue();
  };

  before(async () => {
    receiver = await startReceiver();
    await e2e.browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: e2e.server.baseUrl });
    await createSupportProject(e2e.server.api);
    ticket = await createTicket(e2e.server.api, { subject: 'Label printer offline', customer_name: 'Acme', priority: 'high' });
    const agent = await e2e.server.api('POST', '/api/users', {
      email: agentEmail,
      name: 'Dana Agent',
      role: 'agent',
      password: 'agent-password-1',
    });
    assert.equal(agent.status, 201, JSON.stringify(agent.body));
    const watched = await e2e.server.api('POST', `/api/tickets/${ticket.id}/watchers`, { userId: agent.body.data.id });
    assert.equal(watched.status, 201, JSON.stringify(watched.body));
    await signIn(e2e.page, e2e.server.baseUrl, adminEmail, adminPassword);
  });

  after(async () => {
    await receiver?.close();
  });

  test('notification settings: per event immediate / digest / off and the digest interval', async () => {
    await e2e.page.getByRole('link', { name: 'Notifications' }).click();
    await e2e.page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await e2e.page.getByRole('radio', { name: 'Ticket updated: In a digest' }).check();
    await e2e.page.getByRole('radio', { name: 'Stage left: Off' }).check();
    await e2e.page.getByLabel('Send digests every').fill('30');
    await e2e.page.getByRole('button', { name: 'Save' }).click();
    await e2e.page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const stored = (await e2e.server.api('GET', '/api/me/notifications')).body.data;
    assert.equal(stored.digestMinutes, 30);
    assert.equal(stored.events['ticket.updated'], 'digest');
    assert.equal(stored.events['stage.left'], 'off');
    assert.equal(stored.events['comment.added'], 'immediate');
    await screenshot(e2e.page, '30-notification-settings');
  });

  test('ticket page: watch and unwatch, the watcher list; a comment mails the other watcher', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/${ticket.id}`);
    const watchers = e2e.page.getByRole('region', { name: 'Watchers' });
    await watchers.getByText('Dana Agent').waitFor();
    await watchers.getByRole('button', { name: 'Watch', exact: true }).click();
    await watchers.getByText('(you)').waitFor();
    assert.equal(await watchers.getByRole('button', { name: 'Unwatch' }).getAttribute('aria-pressed'), 'true');
    const listed = (await e2e.server.api('GET', `/api/tickets/${ticket.id}/watchers`)).body.data
      .map((w: { email: string }) => w.email)
      .sort();
    assert.deepEqual(listed, [adminEmail, agentEmail]);

    await e2e.page.getByLabel('Add a comment').fill('Swapped the print head.');
    await e2e.page.getByRole('button', { name: 'Comment', exact: true }).click();
    await e2e.page.locator('.history').getByText('Swapped the print head.').waitFor();
    await screenshot(e2e.page, '31-ticket-watchers');
    await watchers.getByRole('button', { name: 'Unwatch' }).click();
    await watchers.getByRole('button', { name: 'Watch', exact: true }).waitFor();
    assert.equal(await watchers.getByText('(you)').count(), 0);
    await deliverNow();
  });

  test('subscribe to a view from the list', async () => {
    const view = await e2e.server.api('POST', '/api/views', { name: 'Printers', query: 'printer' });
    assert.equal(view.status, 201, JSON.stringify(view.body));
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets?view=${view.body.data.id}`);
    await e2e.page.getByRole('button', { name: 'Subscribe' }).click();
    await e2e.page.getByRole('button', { name: 'Unsubscribe' }).waitFor();
    assert.deepEqual((await e2e.server.api('GET', `/api/views/${view.body.data.id}/subscriptions`)).body.data, { subscribed: true });
  });

  test('admin webhooks: create with events, the secret once with copy, ping and its delivery, redeliver, disable, rotate, delete', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/admin/webhooks`);
    await e2e.page.getByText('No webhooks yet.').waitFor();
    const form = e2e.page.getByRole('form', { name: 'New webhook' });
    await form.getByLabel('Payload URL').fill(receiver.url);
    await form.getByLabel('Description').fill('Helpdesk sync');
    await form.getByRole('button', { name: 'Add webhook' }).click();
    await form.getByRole('alert').filter({ hasText: 'Choose the events' }).waitFor();
    await form.getByLabel('Comment added').check();
    await form.getByLabel('Ticket created').check();
    await form.getByRole('button', { name: 'Add webhook' }).click();

    const notice = e2e.page.getByRole('status', { name: 'Signing secret' });
    const secret = await notice.getByTestId('webhook-secret').innerText();
    assert.match(secret, /^whsec_/);
    await notice.getByRole('button', { name: 'Copy' }).click();
    await notice.getByText('Copied.').waitFor();
    assert.equal(await e2e.page.evaluate('navigator.clipboard.readText()'), secret);
    const [hook] = (await e2e.server.api('GET', '/api/webhooks')).body.data;
    assert.deepEqual(hook.events, ['comment.added', 'ticket.created']);
    assert.equal(hook.description, 'Helpdesk sync');
    assert.equal(JSON.stringify(hook).includes(secret), false, 'the list never shows the secret');

    // Ping: one delivery, answered 200 by the receiver, with its latency and the exchange.
    await e2e.page.getByRole('button', { name: 'Ping' }).click();
    const log = e2e.page.getByRole('region', { name: /Deliveries to/ });
    await log.getByRole('cell', { name: 'ping' }).first().waitFor();
    await deliverNow();
    await log.getByText('delivered').waitFor();
    assert.equal(receiver.received.length, 1);
    assert.match(String(receiver.received[0].headers['stageline-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.match(await log.locator('tbody tr').first().innerText(), /200\s+\d+ ms/);
    await log.getByRole('button', { name: 'Show exchange' }).click();
    await log.getByText('"type": "ping"').waitFor();
    await log.getByText('"ok": true').waitFor();
    await notice.getByRole('button', { name: 'Done' }).click();
    await screenshot(e2e.page, '32-webhooks');

    await log.getByRole('button', { name: 'Redeliver' }).click();
    await log.locator('tbody tr:not(.exchange)').nth(1).waitFor();
    await deliverNow();
    await log.getByText('delivered').nth(1).waitFor();
    assert.equal(receiver.received.length, 2);

    await e2e.page.getByRole('button', { name: 'Disable' }).click();
    await e2e.page.getByText('Disabled', { exact: true }).waitFor();
    e2e.page.once('dialog', (confirm) => void confirm.accept());
    await e2e.page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = await e2e.page.getByRole('status', { name: 'Signing secret' }).getByTestId('webhook-secret').innerText();
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, secret);
    e2e.page.once('dialog', (confirm) => void confirm.accept());
    await e2e.page.getByRole('button', { name: 'Delete' }).click();
    await e2e.page.getByText('No webhooks yet.').waitFor();
  });

  test('admin sent mail: the list by status, one mail read with its HTML in a sandboxed frame', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/admin/mail`);
    await e2e.page.getByRole('combobox', { name: 'Status' }).selectOption('stored');
    const row = e2e.page.locator('table.mail tbody tr').filter({ hasText: agentEmail });
    await row.first().waitFor();
    await row.first().getByRole('button').click();
    const message = e2e.page.getByRole('article');
    const frame = message.locator('iframe.mail-html');
    assert.equal(await frame.getAttribute('sandbox'), '');
    await e2e.page.frameLocator('iframe.mail-html').getByText('Label printer offline').first().waitFor();
    // The mail's markup stays in the frame: nothing of it is in the dashboard's own DOM.
    assert.equal(await e2e.page.locator('main a[href*="unsubscribe"]').count(), 0);
    await screenshot(e2e.page, '33-sent-mail');
    await message.getByRole('button', { name: 'Text' }).click();
    assert.match(await message.locator('pre.mail-text').innerText(), /Label printer offline/);
  });
});
