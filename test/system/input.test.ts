import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import Fastify, { type LightMyRequestResponse } from 'fastify';
import { registerErrorHandler } from '../../src/http/error-handler.js';
import { TEST_ADMIN_TOKEN, testApp, type TestApp } from '../helpers/app.js';
import { awkwardJsonValues, awkwardUrlValues, fillPath, routeInputs, unstorableJsonValues, unstorableUrlValues } from '../helpers/fuzz.js';

// Input PostgreSQL cannot store or compare, on every route of both faces (taken from the route table), bodies of a
// type a route does not take, and bodies over the limit sent over a real socket.
let t: TestApp;
let ticketId: string;
before(async () => {
  t = await testApp({ BODY_LIMIT_BYTES: String(1024 * 1024) });
  ticketId = (await t.create.ticket({ subject: 'Fuzzed' })).id;
});
after(() => t.close());

const writes = new Set(['POST', 'PUT', 'PATCH']);
const isJson = (res: LightMyRequestResponse) => String(res.headers['content-type'] ?? '').includes('json');

function assertNamed(res: LightMyRequestResponse, field: string, where: string): void {
  assert.equal(res.statusCode, 400, `${where} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
  if (!isJson(res)) return;
  const body = res.json();
  assert.equal(body.success, false, where);
  assert.equal(body.error.code, 'VALIDATION_FAILED', where);
  const fields = (body.error.details as { field: string }[]).map((detail) => detail.field);
  assert.ok(
    fields.some((name) => name === field || name.startsWith(`${field}.`)),
    `${where}: details name ${fields.join(', ')}, not ${field}`,
  );
}

function assertNo5xx(res: LightMyRequestResponse, where: string): void {
  assert.ok(res.statusCode < 500, `${where} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
}

test('every query and path parameter of every route: unstorable text answers 400 naming it, odd values no 5xx', async () => {
  const routes = routeInputs(t.app);
  assert.ok(routes.filter((route) => route.query.length > 0).length >= 16, 'the route table lists the query parameters');
  // A real id too, in every path parameter: routes that would change it (DELETE) do so to a ticket of this test's own.
  const target = encodeURIComponent((await t.create.ticket({ subject: 'Deleted by the fuzz' })).id);
  let sent = 0;
  for (const route of routes) {
    const send = (url: string) =>
      t.api.request({
        method: route.method as 'GET',
        url,
        ...(writes.has(route.method)
          ? { payload: route.bodyType === 'application/json' ? '{}' : '', headers: { 'content-type': route.bodyType } }
          : {}),
      });
    // A made-up id: writes must not change real records, and a hostile value must be refused before any lookup.
    const path = fillPath(route.url, 'no-such-record');
    for (const name of route.query) {
      for (const value of unstorableUrlValues) {
        const url = `${path}?${name}=${value}`;
        assertNamed(await send(url), name, `${route.method} ${url}`);
        sent++;
      }
      if (route.streams) continue;
      for (const value of awkwardUrlValues) {
        const url = `${path}?${name}=${value}`;
        assertNo5xx(await send(url), `${route.method} ${url.slice(0, 200)}`);
        sent++;
      }
    }
    for (const name of route.params) {
      for (const value of unstorableUrlValues) {
        const url = fillPath(route.url, 'no-such-record', name, value);
        assertNamed(await send(url), name, `${route.method} ${url}`);
        sent++;
      }
      for (const value of [...awkwardUrlValues, target]) {
        const url = fillPath(route.url, 'no-such-record', name, value);
        assertNo5xx(await send(url), `${route.method} ${url.slice(0, 200)}`);
        sent++;
      }
    }
  }
  assert.ok(sent > 2_000, `${sent} requests`);
});

test('every JSON body field of every write route: unstorable text answers 400 naming it, odd values no 5xx', async () => {
  const routes = routeInputs(t.app).filter((route) => writes.has(route.method) && route.bodyType === 'application/json');
  assert.ok(
    routes.some((route) => route.url === '/tickets' && route.body.includes('subject')),
    'open bodies take their fields from the answer',
  );
  for (const route of routes) {
    // The real ticket: the fields are checked before it is looked up, so it is never changed.
    const url = fillPath(route.url, ticketId);
    const send = (field: string, value: string) =>
      t.api.request({
        method: route.method as 'POST',
        url,
        payload: `{${JSON.stringify(field)}:${value}}`,
        headers: { 'content-type': 'application/json' },
      });
    for (const field of route.body) {
      for (const value of unstorableJsonValues) assertNamed(await send(field, value), field, `${route.method} ${url} ${field}=${value}`);
      for (const value of awkwardJsonValues) assertNo5xx(await send(field, value), `${route.method} ${url} ${field}=${value.slice(0, 40)}`);
    }
  }
  const ticket = await t.api.get(`/api/tickets/${ticketId}`);
  assert.equal(ticket.json().data?.subject, 'Fuzzed', ticket.body);
});

test('a header or a JSON body that is not UTF-8 answers 400 naming it', async () => {
  const badHeader = await t.api.request({
    method: 'PATCH',
    url: `/api/tickets/${ticketId}`,
    payload: {},
    headers: { 'if-match': '"1\u0000"' },
  });
  assertNamed(badHeader, 'header if-match', 'If-Match with NUL');
  const latin1 = Buffer.concat([Buffer.from('{"subject":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
  for (const url of ['/api/tickets', '/tickets']) {
    const res = await t.api.request({ method: 'POST', url, payload: latin1, headers: { 'content-type': 'application/json' } });
    assertNamed(res, 'body', `POST ${url} with a Latin-1 body`);
  }
});

test('a body of a media type the route does not take answers 415 naming content-type, on both faces', async () => {
  const body = 'subject=Printer+on+fire';
  const types = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml'];
  for (const [method, url] of [
    ['POST', '/api/tickets'],
    ['PATCH', `/api/tickets/${ticketId}`],
    ['POST', '/tickets'],
    ['PUT', `/tickets/${ticketId}`],
    ['POST', '/stages'],
    ['PUT', '/api/me/notifications'],
  ] as const) {
    for (const type of types) {
      const res = await t.api.request({ method, url, payload: body, headers: { 'content-type': type } });
      assert.equal(res.statusCode, 415, `${method} ${url} as ${type}: ${res.body}`);
      assert.equal(res.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.deepEqual(
        res.json().error.details.map((detail: { field: string }) => detail.field),
        ['header content-type'],
      );
    }
  }
  // What is still taken: JSON with a charset, the import's own types, an empty DELETE labelled JSON.
  const json = await t.api.request({
    method: 'POST',
    url: '/tickets',
    payload: JSON.stringify({ subject: 'Charset' }),
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
  assert.equal(json.statusCode, 201);
  for (const type of ['text/csv', 'application/x-ndjson', 'text/plain']) {
    const res = await t.api.request({ method: 'POST', url: '/api/import', payload: '', headers: { 'content-type': type } });
    assert.equal(res.statusCode, 200, `import as ${type}: ${res.body}`);
  }
  const imported = await t.api.request({
    method: 'POST',
    url: '/api/import',
    payload: '{}',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(imported.statusCode, 415);
  const deleted = await t.api.delete(`/tickets/${json.json().id}`, { 'content-type': 'application/json' });
  assert.equal(deleted.statusCode, 204);
});

// The client runs in a worker: its own event loop sends while the server answers, as a separate client would.
const oversizedClient = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const body = JSON.stringify({ subject: 'x'.repeat(5 * 1024 * 1024) });
  const answers = [];
  for (let i = 0; i < workerData.rounds; i++) {
    try {
      const init = { method: 'POST', headers: { 'content-type': 'application/json', authorization: workerData.authorization } };
      if (workerData.chunked) Object.assign(init, { duplex: 'half', body: new Blob([body]).stream() });
      else init.body = body;
      const res = await fetch(workerData.url, init);
      const text = await res.text();
      answers.push(res.status + ' ' + (JSON.parse(text).error?.code ?? ''));
    } catch (error) {
      answers.push('failed: ' + error.message + ' ' + (error.cause?.code ?? error.cause?.message ?? ''));
    }
  }
  parentPort.postMessage(answers);
})();`;

test('a 5 MB body over the limit always gets a readable 413 over a real socket (both faces, sized and chunked)', async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as { port: number };
  for (const path of ['/api/tickets', '/tickets']) {
    for (const chunked of [false, true]) {
      const worker = new Worker(oversizedClient, {
        eval: true,
        workerData: { url: `http://127.0.0.1:${port}${path}`, authorization: `Bearer ${TEST_ADMIN_TOKEN}`, chunked, rounds: 20 },
      });
      const answers = await new Promise<string[]>((resolve, reject) => worker.once('message', resolve).once('error', reject));
      await worker.terminate();
      assert.deepEqual(answers, Array(20).fill('413 PAYLOAD_TOO_LARGE'), `${path} ${chunked ? 'chunked' : 'with Content-Length'}`);
    }
  }
  // The server is still there for the next client.
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200);
});

test('PostgreSQL errors such input can still cause answer 400, not 500', async () => {
  const app = Fastify();
  registerErrorHandler(app);
  app.get('/fails/:code', async (request) => {
    throw Object.assign(new Error('from the database'), { code: (request.params as { code: string }).code });
  });
  for (const code of ['22003', '22021', '22P05', '54000']) {
    const res = await app.inject({ url: `/fails/${code}` });
    assert.equal(res.statusCode, 400, code);
    assert.equal(res.json().error.code, 'VALIDATION_FAILED');
  }
  await app.close();
});
