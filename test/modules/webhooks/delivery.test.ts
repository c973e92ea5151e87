import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { verifySignature } from '../../../src/modules/webhooks/signature.js';
import { dispatchAll } from '../../helpers/dispatch.js';
import { testApp, type TestApp } from '../../helpers/app.js';
import { startReceiver } from './receiver.js';

/** Small limits so retries, timeouts and auto-disabling happen within a test. */
const settings = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_TIMEOUT_MS: '300',
  WEBHOOK_MAX_ATTEMPTS: '3',
  WEBHOOK_RETRY_BASE_MS: '1000',
  WEBHOOK_RETRY_MAX_MS: '4000',
  WEBHOOK_MAX_FAILURES: '3',
};

let t: TestApp;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

before(async () => {
  t = await testApp(settings);
  receiver = await startReceiver();
  // The consumer starts at the head of history on its first run.
  await t.app.services.dispatcher.dispatch();
});
after(async () => {
  await receiver.close();
  await t.close();
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.always({ status: 200, body: 'ok' });
});

async function hook(fields: Record<string, unknown> = {}) {
  const res = await t.api.post('/api/webhooks', { url: receiver.url, events: ['*'], ...fields });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().data as { id: string; secret: string };
}

async function deliveries(hookId: string) {
  const res = await t.api.get(`/api/webhooks/${hookId}/deliveries`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().data as Record<string, any>[];
}

async function getHook(hookId: string) {
  return (await t.api.get(`/api/webhooks/${hookId}`)).json().data as Record<string, any>;
}

async function dispatch() {
  await dispatchAll(t);
}

/** Hands history to the consumers, then runs due outbox work. */
async function dispatchAndRun() {
  await dispatch();
  await t.app.services.outbox.runDue();
}

/** Runs the outbox until no webhook job is pending, moving the clock past each backoff. */
async function drain() {
  for (let round = 0; round < 20; round++) {
    await t.app.services.outbox.runDue();
    if ((await t.app.services.outbox.repository.countPending(t.database.db, 'webhook')) === 0) return;
    t.clock.advance(5_000);
  }
  assert.fail('webhook jobs still pending after 20 rounds');
}

async function disableAll() {
  const list = (await t.api.get('/api/webhooks?limit=200')).json().data as { id: string }[];
  for (const item of list) await t.api.patch(`/api/webhooks/${item.id}`, { enabled: false });
}

describe('webhook deliveries', () => {
  beforeEach(disableAll);

  test('an event arrives signed, versioned, with the ticket as /api shows it', async () => {
    const { id, secret } = await hook({ events: ['ticket.created'] });
    const ticket = await t.create.ticket({ subject: 'Signed delivery', priority: 'high' });
    await dispatchAndRun();
    assert.equal(receiver.received.length, 1);
    const [call] = receiver.received;
    const now = Math.floor(t.clock.now().getTime() / 1000);
    assert.ok(verifySignature(secret, call.headers['stageline-signature'] as string, call.body, now), 'the signature verifies');
    const tampered = call.body.replace('Signed delivery', 'Signed deliverx');
    assert.equal(verifySignature(secret, call.headers['stageline-signature'] as string, tampered, now), false, 'a tampered body fails');
    assert.equal(verifySignature('whsec_wrong', call.headers['stageline-signature'] as string, call.body, now), false);
    assert.equal(verifySignature(secret, call.headers['stageline-signature'] as string, call.body, now + 3600), false, 'too old');
    assert.equal(call.headers['user-agent'], 'Stageline-Webhooks/1');
    assert.equal(call.headers['stageline-event'], 'ticket.created');
    assert.equal(call.headers['content-type'], 'application/json');
    const body = JSON.parse(call.body);
    assert.match(body.id, /^evt_\d+$/);
    assert.equal(body.type, 'ticket.created');
    assert.equal(body.apiVersion, '2026-11-01');
    assert.equal(body.data.ticket.id, ticket.id);
    assert.equal(body.data.ticket.priority, 'high');
    assert.equal(body.data.event.type, 'created');
    assert.equal(body.data.event.visibility, 'public');
    assert.ok(body.data.event.actor.name);

    const [delivery] = await deliveries(id);
    assert.equal(call.headers['stageline-delivery'], delivery.id);
    assert.equal(delivery.status, 'delivered');
    assert.equal(delivery.attempts, 1);
    assert.equal(delivery.responseStatus, 200);
    assert.equal(delivery.responseBody, 'ok');
    assert.equal(delivery.requestBody, call.body);
    assert.equal(typeof delivery.latencyMs, 'number');
    const after = await getHook(id);
    assert.equal(after.lastStatus, 'delivered');
    assert.ok(after.lastDeliveryAt);
  });

  test('only the chosen events: a hook for stage.entered gets no ticket.created', async () => {
    const stages = await hook({ events: ['stage.entered'] });
    const comments = await hook({ events: ['comment.added'] });
    const ticket = await t.create.ticket({ subject: 'Filtered' });
    await t.api.post(`/api/tickets/${ticket.id}/comments`, { body: 'hello' });
    await dispatchAndRun();
    assert.deepEqual(await deliveries(stages.id), []);
    const got = await deliveries(comments.id);
    assert.deepEqual(
      got.map((d) => d.eventType),
      ['comment.added'],
    );
    assert.deepEqual(
      receiver.received.map((r) => JSON.parse(r.body).type),
      ['comment.added'],
    );
  });

  test('a disabled hook gets nothing queued', async () => {
    const { id } = await hook({ enabled: false });
    await t.create.ticket();
    await dispatchAndRun();
    assert.deepEqual(await deliveries(id), []);
  });

  test('an event is queued once per hook even when handed over twice', async () => {
    const { id } = await hook({ events: ['ticket.created'] });
    await t.create.ticket({ subject: 'Twice' });
    const [event] = await t.database.db.selectFrom('ticket_events').selectAll().orderBy('id', 'desc').limit(1).execute();
    const ticketRow = await t.database.db.selectFrom('tickets').selectAll().where('id', '=', event.ticket_id).executeTakeFirstOrThrow();
    await dispatch();
    const again = [{ kind: 'history' as const, event, ticket: ticketRow }];
    await t.database.db.transaction().execute((tx) => t.app.services.webhookEvents.handle(tx, again));
    assert.equal((await deliveries(id)).length, 1);
  });

  test('500 then 200: delivered on attempt 2 after the backoff', async () => {
    const { id } = await hook({ events: ['ticket.created'] });
    receiver.answer({ status: 500, body: 'boom' });
    await t.create.ticket();
    await dispatchAndRun();
    let [delivery] = await deliveries(id);
    assert.equal(delivery.status, 'retrying');
    assert.equal(delivery.responseStatus, 500);
    assert.equal(delivery.responseBody, 'boom');
    assert.equal(delivery.error, 'the receiver answered 500');
    // Not yet due: nothing is sent before the backoff passes.
    assert.equal(await t.app.services.outbox.runDue(), 0);
    t.clock.advance(1_000);
    await t.app.services.outbox.runDue();
    [delivery] = await deliveries(id);
    assert.equal(delivery.status, 'delivered');
    assert.equal(delivery.attempts, 2);
    assert.equal(delivery.error, null);
    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[0].headers['stageline-delivery'], receiver.received[1].headers['stageline-delivery']);
    assert.equal(receiver.received[0].body, receiver.received[1].body);
  });

  test('a timeout is retried', async () => {
    const { id } = await hook({ events: ['ticket.created'] });
    receiver.answer({ status: 200, delayMs: 2_000 });
    await t.create.ticket();
    await dispatchAndRun();
    const [delivery] = await deliveries(id);
    assert.equal(delivery.status, 'retrying');
    assert.equal(delivery.responseStatus, null);
    assert.match(delivery.error, /no answer within 300 ms/);
    t.clock.advance(1_000);
    await t.app.services.outbox.runDue();
    assert.equal((await deliveries(id))[0].status, 'delivered');
  });

  test('a refused connection is retried', async () => {
    const closed = await startReceiver();
    await closed.close();
    const { id } = await hook({ url: closed.url, events: ['ticket.created'] });
    await t.create.ticket();
    await dispatchAndRun();
    const [delivery] = await deliveries(id);
    assert.equal(delivery.status, 'retrying');
    assert.match(delivery.error, /cannot reach the receiver/);
  });

  test('410 Gone fails at once and disables the hook; its owner is mailed', async () => {
    const { id } = await hook({ events: ['ticket.created'] });
    receiver.always({ status: 410 });
    await t.create.ticket();
    await dispatchAndRun();
    const [delivery] = await deliveries(id);
    assert.equal(delivery.status, 'failed');
    assert.equal(delivery.attempts, 1);
    const disabled = await getHook(id);
    assert.equal(disabled.enabled, false);
    assert.match(disabled.disabledReason, /410 Gone/);
    const mail = await t.database.db.selectFrom('mail_deliveries').selectAll().where('subject', 'like', `%${receiver.url}%`).execute();
    assert.equal(mail.length, 1);
    assert.match(mail[0].text_body, /410 Gone/);
  });

  test('WEBHOOK_MAX_FAILURES failed deliveries in a row disable the hook and mail its owner', async () => {
    const { id } = await hook({ events: ['ticket.created'] });
    receiver.always({ status: 503 });
    const before = await t.database.db.selectFrom('mail_deliveries').select('id').execute();
    for (let i = 0; i < 2; i++) await t.create.ticket();
    await dispatch();
    await drain();
    let current = await getHook(id);
    assert.equal(current.consecutiveFailures, 2);
    assert.equal(current.enabled, true);
    assert.equal(receiver.received.length, 6, 'three attempts each');
    await t.create.ticket();
    await dispatch();
    await drain();
    current = await getHook(id);
    assert.equal(current.enabled, false);
    assert.equal(current.consecutiveFailures, 3);
    assert.match(current.disabledReason, /3 deliveries in a row failed/);
    const mail = await t.database.db
      .selectFrom('mail_deliveries')
      .selectAll()
      .where('id', 'not in', before.map((row) => row.id).concat(['-']))
      .execute();
    assert.equal(mail.length, 1);
    assert.equal(mail[0].to_address, 'admin@stageline.local');
    assert.match(mail[0].subject, /Webhook disabled/);

    // Events while disabled are not queued; enabling again forgets the failures.
    await t.create.ticket();
    await dispatchAndRun();
    assert.equal((await deliveries(id)).length, 3);
    const enabled = (await t.api.patch(`/api/webhooks/${id}`, { enabled: true })).json().data;
    assert.equal(enabled.consecutiveFailures, 0);
    assert.equal(enabled.disabledReason, null);
  });

  test('a success resets the failure count', async () => {
    const { id } = await hook({ events: ['ticket.created'] });
    receiver.always({ status: 500 });
    await t.create.ticket();
    await dispatch();
    await drain();
    assert.equal((await getHook(id)).consecutiveFailures, 1);
    receiver.always({ status: 204 });
    await t.create.ticket();
    await dispatchAndRun();
    assert.equal((await getHook(id)).consecutiveFailures, 0);
  });

  test('redeliver sends the same event again as a new delivery', async () => {
    const { id, secret } = await hook({ events: ['ticket.created'] });
    await t.create.ticket();
    await dispatchAndRun();
    const [first] = await deliveries(id);
    const res = await t.api.post(`/api/webhooks/${id}/deliveries/${first.id}/redeliver`);
    assert.equal(res.statusCode, 202, res.body);
    const redelivery = res.json().data;
    assert.notEqual(redelivery.id, first.id);
    assert.equal(redelivery.eventId, first.eventId);
    assert.equal(redelivery.trigger, 'redelivery');
    assert.equal(redelivery.status, 'queued');
    await t.app.services.outbox.runDue();
    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[1].body, receiver.received[0].body);
    assert.equal(receiver.received[1].headers['stageline-delivery'], redelivery.id);
    const now = Math.floor(t.clock.now().getTime() / 1000);
    assert.ok(verifySignature(secret, receiver.received[1].headers['stageline-signature'] as string, receiver.received[1].body, now));
    assert.equal((await deliveries(id))[0].status, 'delivered');
    assert.equal((await t.api.post(`/api/webhooks/${id}/deliveries/nope/redeliver`)).statusCode, 404);
  });

  test('ping reaches the receiver signed, even on a disabled hook', async () => {
    const { id, secret } = await hook({ enabled: false });
    const res = await t.api.post(`/api/webhooks/${id}/ping`);
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().data.eventType, 'ping');
    await t.app.services.outbox.runDue();
    assert.equal(receiver.received.length, 1);
    const body = JSON.parse(receiver.received[0].body);
    assert.equal(body.type, 'ping');
    assert.equal(body.data.event.data.webhook_id, id);
    assert.equal(receiver.received[0].headers['stageline-event'], 'ping');
    const now = Math.floor(t.clock.now().getTime() / 1000);
    assert.ok(verifySignature(secret, receiver.received[0].headers['stageline-signature'] as string, receiver.received[0].body, now));
    assert.equal((await deliveries(id))[0].status, 'delivered');
  });

  test('a failed ping is tried once and does not count against the hook', async () => {
    const { id } = await hook();
    receiver.always({ status: 500 });
    await t.api.post(`/api/webhooks/${id}/ping`);
    await t.app.services.outbox.runDue();
    const [ping] = await deliveries(id);
    assert.equal(ping.status, 'failed');
    assert.equal(ping.attempts, 1);
    assert.equal((await getHook(id)).consecutiveFailures, 0);
  });

  test('a rotated secret signs from then on', async () => {
    const { id, secret } = await hook();
    const rotated = (await t.api.patch(`/api/webhooks/${id}`, { rotateSecret: true })).json().data;
    assert.match(rotated.secret, /^whsec_/);
    assert.notEqual(rotated.secret, secret);
    await t.api.post(`/api/webhooks/${id}/ping`);
    await t.app.services.outbox.runDue();
    const [call] = receiver.received;
    const now = Math.floor(t.clock.now().getTime() / 1000);
    assert.ok(verifySignature(rotated.secret, call.headers['stageline-signature'] as string, call.body, now));
    assert.equal(verifySignature(secret, call.headers['stageline-signature'] as string, call.body, now), false);
  });

  test('a deleted ticket is announced without its ticket', async () => {
    await hook({ events: ['ticket.deleted'] });
    const ticket = await t.create.ticket();
    assert.equal((await t.api.delete(`/api/tickets/${ticket.id}`)).statusCode, 200);
    await dispatchAndRun();
    assert.equal(receiver.received.length, 1);
    const body = JSON.parse(receiver.received[0].body);
    assert.equal(body.type, 'ticket.deleted');
    assert.equal(body.data.ticket, null);
    assert.equal(body.data.event.data.ticket_id, ticket.id);
  });

  test('deliveries are counted in /metrics', async () => {
    const metrics = (await t.api.get('/metrics')).body;
    assert.match(metrics, /stageline_webhook_deliveries_total\{outcome="delivered"\} \d+/);
    assert.match(metrics, /stageline_webhook_attempts_total\{outcome="http_error"\} \d+/);
  });
});
