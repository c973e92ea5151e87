import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { operationIds } from '../../src/http/operation-ids.js';
import { testApp, type TestApp } from '../helpers/app.js';

type Operation = { operationId?: string; security?: Record<string, string[]>[]; responses: Record<string, any> };

let t: TestApp;
let document: Record<string, any>;
let operations: { key: string; method: string; path: string; operation: Operation }[];
before(async () => {
  t = await testApp();
  document = (await t.anonymous.get('/openapi.json')).json();
  operations = Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      key: `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
      method: method.toUpperCase(),
      path,
      operation,
    })),
  );
});
after(() => t.close());

test('every documented route has an operationId from the table, each used once, and no entry is left over', () => {
  const missing = operations.filter(({ operation }) => !operation.operationId).map(({ key }) => key);
  assert.deepEqual(missing, [], 'add these to src/http/operation-ids.ts');
  const ids = operations.map(({ operation }) => operation.operationId);
  const webhookIds = Object.values(document.webhooks as Record<string, { post: Operation }>).map(({ post }) => post.operationId);
  const all = [...ids, ...webhookIds];
  assert.deepEqual(
    all.filter((id, index) => all.indexOf(id) !== index),
    [],
    'duplicated operationIds',
  );
  for (const { key, operation } of operations) assert.equal(operation.operationId, operationIds[key], key);
  const documented = new Set(operations.map(({ key }) => key));
  assert.deepEqual(
    Object.keys(operationIds).filter((key) => !documented.has(key)),
    [],
    'table entries without a route',
  );
  assert.ok(webhookIds.every((id) => typeof id === 'string' && id.endsWith('Event')));
  assert.equal(document.paths['/api/tickets/{id}/transitions'].post.operationId, 'transitionTicket');
  assert.equal(document.paths['/tickets'].post.operationId, 'legacyCreateTicket');
});

test('security follows each access rule: public routes none, others a token or the session (+ CSRF on writes)', () => {
  assert.deepEqual(Object.keys(document.components.securitySchemes).sort(), ['apiToken', 'csrf', 'session', 'webhookSignature']);
  assert.deepEqual(document.components.securitySchemes.apiToken, {
    type: 'http',
    scheme: 'bearer',
    description: document.components.securitySchemes.apiToken.description,
  });
  assert.equal(document.components.securitySchemes.session.name, 'stageline_session');
  assert.equal(document.components.securitySchemes.csrf.name, 'X-CSRF-Token');
  const publicRoutes = [
    'GET /healthz',
    'GET /readyz',
    'POST /api/auth/login',
    'POST /api/ops/callback',
    'GET /api/notifications/unsubscribe',
    'POST /api/notifications/unsubscribe',
  ];
  for (const { key, method, operation } of operations) {
    assert.ok(Array.isArray(operation.security), `${key} declares its security`);
    if (publicRoutes.includes(key)) {
      assert.deepEqual(operation.security, [], key);
      continue;
    }
    const write = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method);
    assert.deepEqual(operation.security, [{ apiToken: [] }, write ? { session: [], csrf: [] } : { session: [] }], key);
  }
});

test('the security of a protected route is what the server enforces', async () => {
  assert.equal((await t.anonymous.get('/api/tickets')).statusCode, 401);
  assert.equal((await t.anonymous.get('/healthz')).statusCode, 200);
});

test("ANONYMOUS_ROLE makes credentials optional on the older systems' routes only, and METRICS_PUBLIC on /metrics", async () => {
  const open = await testApp({ ANONYMOUS_ROLE: 'viewer', METRICS_PUBLIC: 'true' });
  try {
    const paths = (await open.anonymous.get('/openapi.json')).json().paths;
    assert.deepEqual(paths['/tickets'].get.security, [{ apiToken: [] }, { session: [] }, {}]);
    assert.deepEqual(paths['/api/tickets'].get.security, [{ apiToken: [] }, { session: [] }]);
    assert.deepEqual(paths['/metrics'].get.security, []);
  } finally {
    await open.close();
  }
});

test('servers, license, non-JSON answers and webhook signatures are declared', () => {
  assert.deepEqual(document.servers, [{ url: '/', description: document.servers[0].description }]);
  assert.equal(document.info.license.identifier, 'MIT');
  const contentOf = (path: string, status = '200') => Object.keys(document.paths[path].get.responses[status].content);
  assert.deepEqual(contentOf('/api/tickets/export'), ['text/csv', 'application/x-ndjson']);
  assert.deepEqual(contentOf('/api/stages/export'), ['text/csv', 'application/x-ndjson']);
  assert.deepEqual(contentOf('/api/events'), ['text/event-stream']);
  assert.deepEqual(contentOf('/metrics'), ['text/plain']);
  assert.deepEqual(contentOf('/api/notifications/unsubscribe'), ['text/html']);
  for (const [type, { post }] of Object.entries(document.webhooks as Record<string, { post: Operation }>)) {
    assert.deepEqual(post.security, [{ webhookSignature: [] }], type);
  }
  assert.equal(document.components.securitySchemes.webhookSignature.name, 'stageline-signature');
});

test('every operation but the health probes documents a 2xx and a 4xx answer', () => {
  for (const { key, operation } of operations) {
    const statuses = Object.keys(operation.responses);
    assert.ok(
      statuses.some((status) => status.startsWith('2')),
      `${key} has a 2xx`,
    );
    if (key === 'GET /healthz' || key === 'GET /readyz') continue;
    assert.ok(
      statuses.some((status) => status.startsWith('4')),
      `${key} has a 4xx`,
    );
  }
});
