import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.close());

test('healthz and readyz answer without credentials', async () => {
  const health = await t.anonymous.get('/healthz');
  assert.equal(health.statusCode, 200);
  assert.deepEqual(health.json(), { status: 'ok' });
  const ready = await t.anonymous.get('/readyz');
  assert.equal(ready.statusCode, 200);
  assert.equal(ready.json().status, 'ready');
});

test('every answer carries a request id; a given one is echoed', async () => {
  const res = await t.anonymous.get('/healthz', { 'x-request-id': 'trace-me-42' });
  assert.equal(res.headers['x-request-id'], 'trace-me-42');
  assert.ok((await t.anonymous.get('/healthz')).headers['x-request-id']);
});

test('metrics in Prometheus text, with request durations', async () => {
  await t.api.get('/api/tickets');
  const res = await t.api.get('/metrics');
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /text\/plain/);
  assert.match(res.body, /stageline_http_request_duration_seconds_bucket\{.*route="\/api\/tickets"/);
  assert.match(res.body, /stageline_process_resident_memory_bytes/);
});

test('OpenAPI document and docs UI', async () => {
  const res = await t.anonymous.get('/openapi.json');
  assert.equal(res.statusCode, 200);
  const document = res.json();
  assert.equal(document.openapi, '3.1.0');
  for (const path of [
    '/api/tickets',
    '/api/tickets/{id}',
    '/api/stages',
    '/api/stages/{id}',
    '/tickets',
    '/tickets/{id}',
    '/stages',
    '/stages/{id}',
  ]) {
    assert.ok(document.paths[path], `documents ${path}`);
  }
  assert.ok(document.components.schemas.ErrorBody);
  const docs = await t.anonymous.get('/docs/');
  assert.equal(docs.statusCode, 200);
  assert.match(docs.body, /swagger/i);
});

test('CORS lets any origin read, as the OPS backend did', async () => {
  const res = await t.api.get('/tickets', { origin: 'https://elsewhere.example' });
  assert.equal(res.headers['access-control-allow-origin'], '*');
});
