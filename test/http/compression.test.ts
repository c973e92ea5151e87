import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { TEST_ADMIN_TOKEN, testApp, type TestApp } from '../helpers/app.js';
import { eventually } from '../helpers/eventually.js';

let t: TestApp;
before(async () => {
  t = await testApp();
  for (let i = 0; i < 12; i++) await t.create.ticket({ subject: `Compressible ticket number ${i} with a long enough subject` });
});
after(() => t.close());

const decoders: Record<string, (buffer: Buffer) => Buffer> = { br: zlib.brotliDecompressSync, gzip: zlib.gunzipSync };

for (const encoding of ['br', 'gzip']) {
  test(`a JSON answer from 4 KB comes back as ${encoding} and decodes to the same answer`, async () => {
    const plain = await t.api.get('/api/tickets?limit=12');
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: sent as is');
    assert.ok(plain.rawPayload.length >= 4096, `the list is ${plain.rawPayload.length} bytes`);

    const packed = await t.api.get('/api/tickets?limit=12', { 'accept-encoding': `${encoding}, identity;q=0.5` });
    assert.equal(packed.statusCode, 200);
    assert.equal(packed.headers['content-encoding'], encoding);
    assert.match(String(packed.headers.vary), /accept-encoding/i);
    assert.ok(packed.rawPayload.length < plain.rawPayload.length / 2, `${packed.rawPayload.length} < ${plain.rawPayload.length} / 2`);
    const decoded = JSON.parse(decoders[encoding](packed.rawPayload).toString('utf8'));
    assert.deepEqual(decoded.data, plain.json().data);
  });
}

test('the browser preference "gzip, deflate, br" gets brotli', async () => {
  const res = await t.api.get('/api/tickets?limit=12', { 'accept-encoding': 'gzip, deflate, br' });
  assert.equal(res.headers['content-encoding'], 'br');
});

test('small answers are not compressed', async () => {
  const res = await t.api.get('/healthz', { 'accept-encoding': 'gzip, br' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-encoding'], undefined);
  assert.deepEqual(res.json(), { status: 'ok' });
});

test('streamed CSV and NDJSON exports are compressed too', async () => {
  const csv = await t.api.get('/api/tickets/export?format=csv', { 'accept-encoding': 'gzip' });
  assert.equal(csv.statusCode, 200);
  assert.equal(csv.headers['content-encoding'], 'gzip');
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  const rows = zlib.gunzipSync(csv.rawPayload).toString('utf8').trim().split('\n');
  assert.equal(rows.length, 13, 'a header row and 12 tickets');

  const ndjson = await t.api.get('/api/tickets/export?format=ndjson', { 'accept-encoding': 'br' });
  assert.equal(ndjson.headers['content-encoding'], 'br');
  assert.match(String(ndjson.headers['content-type']), /^application\/x-ndjson/);
  const lines = zlib.brotliDecompressSync(ndjson.rawPayload).toString('utf8').trim().split('\n');
  assert.equal(lines.length, 12);
  assert.match(JSON.parse(lines[0]).subject, /^Compressible ticket/);
});

test("the older systems' routes answer uncompressed, without a Vary header, to clients that accept no encoding", async () => {
  const res = await t.api.get('/tickets');
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-encoding'], undefined);
  assert.equal(res.headers.vary, undefined);
  assert.ok(Array.isArray(res.json()));
});

test('Server-Sent Events keep streaming, uncompressed, to a client that accepts gzip and br', async () => {
  const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  let received = '';
  let headers: http.IncomingHttpHeaders = {};
  const request = http.get(
    `${base}/api/events`,
    { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'accept-encoding': 'gzip, br' } },
    (response) => {
      headers = response.headers;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (received += chunk));
    },
  );
  try {
    await eventually(() => received.includes('retry:'), 'the stream to open');
    assert.equal(headers['content-encoding'], undefined);
    assert.match(String(headers['content-type']), /^text\/event-stream/);
    const ticket = await t.create.ticket({ subject: 'Seen live' });
    await eventually(() => received.includes(ticket.id), 'the new ticket to arrive as an event');
    assert.match(received, /event: ticket/);
  } finally {
    request.destroy();
  }
});

test('one ticket (under 4 KB) is sent as it is: compressing it costs more CPU than the lookup', async () => {
  const first = await t.create.ticket({ subject: 'A ticket of about two kilobytes', description: 'Steps to reproduce. '.repeat(24) });
  const res = await t.api.get(`/api/tickets/${first.id}`, { 'accept-encoding': 'gzip, br' });
  assert.equal(res.statusCode, 200);
  assert.ok(res.rawPayload.length > 1024 && res.rawPayload.length < 4096, `the ticket is ${res.rawPayload.length} bytes`);
  assert.equal(res.headers['content-encoding'], undefined);
  assert.equal(res.json().data.id, first.id);
});
