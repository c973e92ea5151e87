import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventTypes } from '../../../src/modules/dispatch/catalogue.js';
import { fuzzRoute, randomId } from '../../helpers/fuzz.js';
import { testApp, type TestApp } from '../../helpers/app.js';

// Administration only: no outbox runs here, so hooks may point anywhere without a call being made.
let t: TestApp;

before(async () => {
  t = await testApp({ WEBHOOK_ALLOW_PRIVATE: 'false' });
});
after(() => t.close());

const url = 'https://hooks.example.com/stageline';

describe('webhook administration', () => {
  test('the secret is shown once: on create, and after rotation', async () => {
    const created = await t.api.post('/api/webhooks', { url, events: ['ticket.created', 'stage.entered'], description: 'CRM' });
    assert.equal(created.statusCode, 201, created.body);
    const hook = created.json().data;
    assert.match(hook.secret, /^whsec_[A-Za-z0-9_-]{32}$/);
    assert.deepEqual(hook.events, ['ticket.created', 'stage.entered']);
    assert.equal(hook.enabled, true);
    assert.equal(hook.consecutiveFailures, 0);
    assert.equal(hook.disabledReason, null);
    assert.equal(hook.lastStatus, null);
    assert.ok(hook.ownerId);
    assert.equal(created.headers.location, `/api/webhooks/${hook.id}`);

    const read = (await t.api.get(`/api/webhooks/${hook.id}`)).json().data;
    assert.equal('secret' in read, false);
    const listed = (await t.api.get('/api/webhooks')).json();
    assert.ok(listed.data.some((item: { id: string }) => item.id === hook.id));
    assert.ok(listed.data.every((item: object) => !('secret' in item)));
    assert.equal(listed.page.next_cursor, null);

    const patched = (await t.api.patch(`/api/webhooks/${hook.id}`, { description: 'CRM (new)' })).json().data;
    assert.equal('secret' in patched, false);
    assert.equal(patched.description, 'CRM (new)');
    const rotated = (await t.api.patch(`/api/webhooks/${hook.id}`, { rotateSecret: true })).json().data;
    assert.match(rotated.secret, /^whsec_/);
    assert.notEqual(rotated.secret, hook.secret);

    const own = (await t.api.post('/api/webhooks', { url, events: ['*'], secret: 'my-own-secret-of-enough-length' })).json().data;
    assert.equal(own.secret, 'my-own-secret-of-enough-length');

    const audit = (await t.api.get('/api/audit?action=webhook.created')).body;
    assert.doesNotMatch(audit, /whsec_|my-own-secret/, 'the audit log never holds a secret');
  });

  test('lists page by cursor', async () => {
    for (let i = 0; i < 3; i++) await t.api.post('/api/webhooks', { url: `${url}/${i}`, events: ['*'] });
    const first = (await t.api.get('/api/webhooks?limit=2')).json();
    assert.equal(first.data.length, 2);
    assert.ok(first.page.next_cursor);
    const second = (await t.api.get(`/api/webhooks?limit=2&cursor=${first.page.next_cursor}`)).json();
    assert.ok(second.data.length >= 1);
    assert.equal(
      second.data.some((item: { id: string }) => item.id === first.data[0].id),
      false,
    );
  });

  test('delete removes the hook', async () => {
    const hook = (await t.api.post('/api/webhooks', { url, events: ['*'] })).json().data;
    const res = await t.api.delete(`/api/webhooks/${hook.id}`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().data.id, hook.id);
    assert.equal((await t.api.get(`/api/webhooks/${hook.id}`)).statusCode, 404);
    assert.equal((await t.api.delete(`/api/webhooks/${hook.id}`)).statusCode, 404);
    assert.equal((await t.api.get(`/api/webhooks/${hook.id}/deliveries`)).statusCode, 404);
    assert.equal((await t.api.post(`/api/webhooks/${hook.id}/ping`)).statusCode, 404);
  });

  const refused: [string, Record<string, unknown>, string][] = [
    ['ftp URL', { url: 'ftp://example.com/x', events: ['*'] }, 'url'],
    ['relative URL', { url: '/hook', events: ['*'] }, 'url'],
    ['credentials in the URL', { url: 'https://user:pw@example.com/x', events: ['*'] }, 'url'],
    ['loopback', { url: 'http://127.0.0.1:8080/x', events: ['*'] }, 'url'],
    ['localhost', { url: 'http://localhost/x', events: ['*'] }, 'url'],
    ['sub.localhost', { url: 'http://api.localhost/x', events: ['*'] }, 'url'],
    ['private network', { url: 'http://10.1.2.3/x', events: ['*'] }, 'url'],
    ['192.168', { url: 'https://192.168.0.10/x', events: ['*'] }, 'url'],
    ['link-local (cloud metadata)', { url: 'http://169.254.169.254/latest/meta-data', events: ['*'] }, 'url'],
    ['IPv6 loopback', { url: 'http://[::1]/x', events: ['*'] }, 'url'],
    ['IPv4-mapped IPv6 loopback', { url: 'http://[::ffff:127.0.0.1]/x', events: ['*'] }, 'url'],
    ['IPv6 unique local', { url: 'http://[fd00::1]/x', events: ['*'] }, 'url'],
    ['0.0.0.0', { url: 'http://0.0.0.0/x', events: ['*'] }, 'url'],
    ['decimal loopback', { url: 'http://2130706433/x', events: ['*'] }, 'url'],
    ['no events', { url, events: [] }, 'events'],
    ['unknown event', { url, events: ['ticket.exploded'] }, 'events.0'],
    ['wildcard with others', { url, events: ['*', 'ticket.created'] }, 'events'],
    ['repeated event', { url, events: ['ticket.created', 'ticket.created'] }, 'events'],
    ['short secret', { url, events: ['*'], secret: 'short' }, 'secret'],
    ['unknown field', { url, events: ['*'], colour: 'red' }, 'colour'],
    ['missing url', { events: ['*'] }, 'url'],
  ];
  for (const [name, body, field] of refused) {
    test(`refused: ${name}`, async () => {
      const res = await t.api.post('/api/webhooks', body);
      assert.equal(res.statusCode, 400, res.body);
      assert.ok(
        res.json().error.details.some((detail: { field: string }) => detail.field === field),
        `expected a problem with ${field}: ${res.body}`,
      );
    });
  }

  test('PATCH checks the URL the same way', async () => {
    const hook = (await t.api.post('/api/webhooks', { url, events: ['*'] })).json().data;
    const res = await t.api.patch(`/api/webhooks/${hook.id}`, { url: 'http://127.0.0.1/' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.details[0].field, 'url');
    assert.equal((await t.api.patch(`/api/webhooks/${hook.id}`, { rotateSecret: false })).statusCode, 400);
  });

  test('every event type of the catalogue may be chosen', async () => {
    const res = await t.api.post('/api/webhooks', { url, events: [...eventTypes] });
    assert.equal(res.statusCode, 201, res.body);
  });
});

describe('webhook access', () => {
  test('admins only', async () => {
    const hook = (await t.api.post('/api/webhooks', { url, events: ['*'] })).json().data;
    for (const role of ['agent', 'viewer', 'customer'] as const) {
      const client = await t.userClient(role);
      for (const res of [
        await client.get('/api/webhooks'),
        await client.get(`/api/webhooks/${hook.id}`),
        await client.post('/api/webhooks', { url, events: ['*'] }),
        await client.patch(`/api/webhooks/${hook.id}`, { enabled: false }),
        await client.delete(`/api/webhooks/${hook.id}`),
        await client.get(`/api/webhooks/${hook.id}/deliveries`),
        await client.post(`/api/webhooks/${hook.id}/ping`),
      ]) {
        assert.equal(res.statusCode, 403, `${role}: ${res.body}`);
      }
    }
    assert.equal((await t.anonymous.get('/api/webhooks')).statusCode, 401);
  });
});

describe('webhook routes under fuzz', () => {
  const fields = ['url', 'events', 'description', 'enabled', 'secret', 'rotateSecret'];
  let ids: string[] = [];
  before(async () => {
    const hook = (await t.api.post('/api/webhooks', { url, events: ['*'] })).json().data;
    // A real delivery to redeliver (never sent: nothing runs the outbox here).
    await t.api.post(`/api/webhooks/${hook.id}/ping`);
    ids = [hook.id];
  });
  const path =
    (suffix = '') =>
    (random: () => number) =>
      `/api/webhooks/${randomId(random, ids)}${suffix}`;

  test('POST /api/webhooks', async () => {
    await fuzzRoute(t.api, { method: 'POST', path: () => '/api/webhooks', fields, rounds: 250, seed: 901 });
  });
  test('PATCH /api/webhooks/:id', async () => {
    await fuzzRoute(t.api, { method: 'PATCH', path: path(), fields, rounds: 250, seed: 902 });
  });
  test('POST /api/webhooks/:id/ping', async () => {
    await fuzzRoute(t.api, { method: 'POST', path: path('/ping'), fields, rounds: 60, seed: 903 });
  });
  test('POST /api/webhooks/:id/deliveries/:delivery/redeliver', async () => {
    const [delivery] = (await t.api.get(`/api/webhooks/${ids[0]}/deliveries`)).json().data;
    await fuzzRoute(t.api, {
      method: 'POST',
      path: (random) => `/api/webhooks/${randomId(random, ids)}/deliveries/${randomId(random, [delivery.id])}/redeliver`,
      fields,
      rounds: 60,
      seed: 904,
    });
  });
  test('DELETE /api/webhooks/:id', async () => {
    await fuzzRoute(t.api, { method: 'DELETE', path: path(), fields, rounds: 60, seed: 905 });
  });
});

describe('OpenAPI', () => {
  test('the webhooks section describes every event type, its body and the signature header', async () => {
    const document = (await t.anonymous.get('/openapi.json')).json();
    assert.deepEqual(Object.keys(document.webhooks).sort(), [...eventTypes, 'ping'].sort());
    for (const type of eventTypes) {
      const post = document.webhooks[type].post;
      assert.ok(post.parameters.some((p: { name: string }) => p.name === 'stageline-signature'));
      assert.deepEqual(post.requestBody.content['application/json'].schema.allOf[0], { $ref: '#/components/schemas/WebhookEvent' });
    }
    const event = document.components.schemas.WebhookEvent;
    assert.deepEqual(event.properties.data.properties.ticket.anyOf[0], { $ref: '#/components/schemas/Ticket' });
    assert.ok(document.components.schemas.Ticket);
  });
});
