import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startOpsSim } from '../../../src/ops-sim/server.js';
import type { TestApp } from '../../helpers/app.js';
import { CALLBACK_SECRET, events, logs, opsApp, ticketRow } from './helpers.js';

// Against the simulator with a fixed seed and no random failures: the happy paths and the rules.
let sim: Awaited<ReturnType<typeof startOpsSim>>;
let t: TestApp;

before(async () => {
  sim = await startOpsSim({ seed: 1234, sendFailureRate: 0, queryFailureRate: 0 });
  t = await opsApp(sim.url);
});
after(async () => {
  await t.close();
  await sim.close();
});

async function sent(fields: Record<string, unknown> = {}) {
  const ticket = await t.create.ticket({ subject: 'Printer on fire', customer_email: 'ann@example.com', ...fields });
  const res = await t.api.post(`/api/ops/${ticket.id}`);
  assert.equal(res.statusCode, 200, res.body);
  return { ticket, opsId: res.json().data.opsId as string };
}

test('POST /api/ops/:id delivers within the wait: 200 with the old shape, ticket sent with its OPS id', async () => {
  const ticket = await t.create.ticket({ subject: 'Printer on fire' });
  const res = await t.api.post(`/api/ops/${ticket.id}`);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.success, true);
  assert.equal(body.data.ticketId, ticket.id);
  assert.match(body.data.opsId, /^OPS-[A-Z0-9]{8}$/);
  assert.ok(!Number.isNaN(Date.parse(body.data.timestamp)));
  const row = await ticketRow(t, ticket.id);
  assert.equal(row.status, 'sent');
  assert.equal(row.ops_id, body.data.opsId);
  assert.equal(row.ops_error, null);
  const history = await events(t, ticket.id);
  assert.deepEqual(
    history.map((e) => [e.type, e.data.old ?? null, e.data.new ?? null]),
    [
      ['created', null, null],
      ['status_changed', 'new', 'pending'],
      ['ops_sent', 'pending', 'sent'],
    ],
    'one history event per change (issue 20)',
  );
  assert.equal(history[2].visibility, 'internal');
  const state = (await t.api.get(`/api/tickets/${ticket.id}/ops`)).json().data;
  assert.deepEqual([state.state, state.send, state.hand_off, state.ops_id], ['with_ops', 'resend', null, body.data.opsId]);
  assert.equal(state.last_exchange.action, 'send');
  const [entry] = await logs(t, ticket.id);
  assert.equal(entry.action, 'send');
  assert.equal(entry.status, 'success');
  assert.equal(entry.attempt, 1);
  assert.equal(entry.http_status, 201);
  assert.equal(entry.ops_id, body.data.opsId);
  assert.equal((entry.request as any).headers.authorization, 'Bearer [redacted]');
  assert.ok(!JSON.stringify(entry).includes('ops-secret-token'), 'the token never reaches the log');
});

test('the sequential number finds the ticket too; an unknown ticket is 404 with the old message', async () => {
  const ticket = await t.create.ticket({ subject: 'By number' });
  const res = await t.api.post(`/api/ops/${ticket.number}`);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().data.ticketId, ticket.id);
  for (const id of ['no-such-ticket', '999999', 'bad%20id']) {
    const missing = await t.api.post(`/api/ops/${id}`);
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().success, false);
    assert.equal(missing.json().message, 'Ticket not found');
    const status = await t.api.get(`/api/status/${id}`);
    assert.equal(status.statusCode, 404);
    assert.equal(status.json().message, 'Ticket not found');
  }
});

test('a ticket already with OPS → 409; ?force=true sends it again as a new OPS ticket', async () => {
  const { ticket, opsId } = await sent();
  const again = await t.api.post(`/api/ops/${ticket.id}`);
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().error.code, 'CONFLICT');
  assert.match(again.json().message, /force=true/);
  assert.match(again.json().message, new RegExp(`^Ticket #${ticket.number} is already with OPS \\(${opsId}, status sent\\)`));
  assert.ok(!again.json().message.includes(ticket.id), 'no raw id in the message');
  const forced = await t.api.post(`/api/ops/${ticket.id}?force=true`);
  assert.equal(forced.statusCode, 200, forced.body);
  assert.notEqual(forced.json().data.opsId, opsId);
  assert.equal((await ticketRow(t, ticket.id)).ops_id, forced.json().data.opsId);
});

test('?wait=false answers 202 with the queued hand-off; the queue lists it until a worker delivers it', async () => {
  const ticket = await t.create.ticket({ subject: 'Later' });
  const res = await t.api.post(`/api/ops/${ticket.id}?wait=false`);
  assert.equal(res.statusCode, 202, res.body);
  const handOff = res.json().data;
  assert.equal(handOff.status, 'queued');
  assert.equal(handOff.attempts, 0);
  assert.equal(handOff.ticket_id, ticket.id);
  assert.equal(handOff.next_attempt_at, t.clock.now().toISOString());
  assert.equal((await ticketRow(t, ticket.id)).status, 'pending');

  const waiting = (await t.api.get(`/api/tickets/${ticket.id}/ops`)).json().data;
  assert.deepEqual([waiting.state, waiting.send, waiting.hand_off.status], ['on_its_way', 'none', 'queued']);
  const queued = await t.api.post(`/api/ops/${ticket.id}`);
  assert.equal(queued.statusCode, 409, 'a second send while one is under way');
  assert.equal(queued.json().data.status, 'queued', 'the 409 shows the hand-off under way');
  assert.equal(queued.json().data.idempotency_key, undefined);
  const queue = await t.api.get('/api/ops/queue');
  assert.equal(queue.statusCode, 200);
  assert.ok(queue.json().data.some((h: any) => h.ticket_id === ticket.id));

  await t.app.services.outbox.runDue();
  assert.equal((await ticketRow(t, ticket.id)).status, 'sent');
  const delivered = (await t.api.get(`/api/tickets/${ticket.id}/ops`)).json().data;
  assert.deepEqual([delivered.state, delivered.hand_off], ['with_ops', null], 'no stale "queued" once OPS took it');
  const after = await t.api.get('/api/ops/queue');
  assert.ok(!after.json().data.some((h: any) => h.ticket_id === ticket.id));
});

test('the queue pages with a cursor', async () => {
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const ticket = await t.create.ticket({ subject: `Queued ${i}` });
    assert.equal((await t.api.post(`/api/ops/${ticket.id}?wait=false`)).statusCode, 202);
    ids.push(ticket.id);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await t.api.get(`/api/ops/queue?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(page.statusCode, 200, page.body);
    seen.push(...page.json().data.map((h: any) => h.ticket_id));
    cursor = page.json().page.next_cursor;
  } while (cursor);
  for (const id of ids) assert.ok(seen.includes(id));
  assert.equal(new Set(seen).size, seen.length);
  assert.equal((await t.api.get('/api/ops/queue?cursor=garbage')).statusCode, 400);
  await t.app.services.outbox.runDue();
});

test('GET /api/status/:id: a ticket never sent → 400 with the old message', async () => {
  const ticket = await t.create.ticket({ subject: 'Never sent' });
  const res = await t.api.get(`/api/status/${ticket.id}`);
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().message, "Cannot query status for ticket in 'new' state");
});

test('GET /api/status/:id asks OPS, moves the ticket on and writes history and the log', async () => {
  const { ticket, opsId } = await sent();
  const res = await t.api.get(`/api/status/${ticket.id}`);
  assert.equal(res.statusCode, 200, res.body);
  const data = res.json().data;
  assert.equal(data.ticketId, ticket.id);
  assert.ok(['in_progress', 'delayed', 'failed'].includes(data.status), data.status);
  assert.equal(typeof data.details, 'string');
  assert.equal((await ticketRow(t, ticket.id)).status, data.status);
  const history = await events(t, ticket.id);
  const last = history.at(-1)!;
  assert.equal(last.type, 'ops_status_changed');
  assert.deepEqual([(last.data as any).old, (last.data as any).new, (last.data as any).source], ['sent', data.status, 'query']);
  assert.equal(history.filter((e) => e.type === 'status_changed' && (e.data as any).old === 'sent').length, 0, 'written once');
  const query = (await logs(t, ticket.id)).find((e) => e.action === 'query')!;
  assert.equal(query.status, 'success');
  assert.equal(query.ops_id, opsId);
});

test('the poller asks OPS about every open hand-off', async () => {
  const { ticket } = await sent();
  const result = await t.app.services.opsStatus.pollOnce();
  assert.ok(result.checked >= 1);
  const polled = (await logs(t, ticket.id)).filter((e) => e.action === 'poll');
  assert.equal(polled.length, 1);
  assert.notEqual((await ticketRow(t, ticket.id)).status, 'sent', 'the seeded simulator moves a sent ticket on its first query');
});

function signed(body: unknown, at = Math.floor(t.clock.now().getTime() / 1000), secret = CALLBACK_SECRET) {
  const raw = JSON.stringify(body);
  const signature = createHmac('sha256', secret).update(`${at}.${raw}`).digest('hex');
  return {
    method: 'POST' as const,
    url: '/api/ops/callback',
    payload: raw,
    headers: { 'content-type': 'application/json', 'x-ops-timestamp': String(at), 'x-ops-signature': `sha256=${signature}` },
  };
}

test('POST /api/ops/callback applies a signed state change; replays, old, bad and missing signatures → 401', async () => {
  const { ticket, opsId } = await sent();
  const request = signed({ opsId, status: 'in_progress', details: 'picked up' });
  const res = await t.anonymous.request(request);
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.json().data, { ticketId: ticket.id, opsId, status: 'in_progress' });
  assert.equal((await ticketRow(t, ticket.id)).status, 'in_progress');
  assert.ok((await logs(t, ticket.id)).some((e) => e.action === 'callback' && e.status === 'success'));

  const replay = await t.anonymous.request(request);
  assert.equal(replay.statusCode, 401);
  assert.match(replay.json().message, /replay/);

  const old = await t.anonymous.request(signed({ opsId, status: 'closed' }, Math.floor(t.clock.now().getTime() / 1000) - 600));
  assert.equal(old.statusCode, 401);
  const wrongKey = await t.anonymous.request(signed({ opsId, status: 'closed' }, undefined, 'another-secret-123456'));
  assert.equal(wrongKey.statusCode, 401);
  const tampered = signed({ opsId, status: 'closed' });
  tampered.payload = JSON.stringify({ opsId, status: 'failed' });
  assert.equal((await t.anonymous.request(tampered)).statusCode, 401);
  const unsigned = await t.anonymous.post('/api/ops/callback', { opsId, status: 'closed' });
  assert.equal(unsigned.statusCode, 401);
  assert.equal(unsigned.json().error.code, 'UNAUTHENTICATED');
  assert.equal((await ticketRow(t, ticket.id)).status, 'in_progress', 'nothing refused was applied');

  const unknown = await t.anonymous.request(signed({ opsId: 'OPS-UNKNOWN1', status: 'closed' }));
  assert.equal(unknown.statusCode, 404);
  const badBody = await t.anonymous.request(signed({ opsId, status: 'exploded' }));
  assert.equal(badBody.statusCode, 400);
  assert.equal(badBody.json().error.details[0].field, 'status');
});

test('the log: GET /api/logs filters and pages; GET /api/tickets/:id/logs outlives the ticket', async () => {
  const { ticket } = await sent();
  t.clock.advance(1000);
  await t.api.get(`/api/status/${ticket.id}`);
  const mine = await t.api.get(`/api/logs?ticket_id=${ticket.id}`);
  assert.equal(mine.statusCode, 200, mine.body);
  assert.deepEqual(
    mine.json().data.map((e: any) => e.action),
    ['query', 'send'],
    'newest first',
  );
  const onlySends = await t.api.get(`/api/logs?ticket_id=${ticket.id}&action=send,retry&status=success`);
  assert.deepEqual(
    onlySends.json().data.map((e: any) => e.action),
    ['send'],
  );
  const paged = await t.api.get(`/api/logs?ticket_id=${ticket.id}&limit=1`);
  assert.equal(paged.json().data.length, 1);
  const next = await t.api.get(`/api/logs?ticket_id=${ticket.id}&limit=1&cursor=${paged.json().page.next_cursor}`);
  assert.equal(next.json().data[0].action, 'send');
  assert.equal(next.json().page.next_cursor, null);
  const later = await t.api.get(`/api/logs?ticket_id=${ticket.id}&from=2100-01-01T00:00:00Z`);
  assert.equal(later.json().data.length, 0);
  assert.equal((await t.api.get('/api/logs?action=explode')).statusCode, 400);
  assert.equal((await t.api.get('/api/logs?unknown=1')).statusCode, 400);

  assert.equal((await t.api.delete(`/api/tickets/${ticket.id}`)).statusCode, 200);
  const kept = await t.api.get(`/api/tickets/${ticket.id}/logs`);
  assert.equal(kept.statusCode, 200);
  assert.equal(kept.json().data.length, 2, 'the log rows stay after the ticket is deleted');
  assert.equal((await t.api.get(`/api/tickets/${ticket.number}/logs`)).statusCode, 404, 'its number names no ticket any more');
});

test('who may: agents send, viewers read, customers see no OPS log', async () => {
  const ticket = await t.create.ticket({ subject: 'Access', customer_email: 'cust@example.com' });
  const viewer = await t.userClient('viewer');
  const customer = await t.userClient('customer', { customerEmails: ['cust@example.com'] });
  const agent = await t.userClient('agent');
  assert.equal((await viewer.post(`/api/ops/${ticket.id}`)).statusCode, 403);
  assert.equal((await customer.post(`/api/ops/${ticket.id}`)).statusCode, 403);
  assert.equal((await customer.get('/api/logs')).statusCode, 403);
  assert.equal((await customer.get(`/api/tickets/${ticket.id}/logs`)).statusCode, 403);
  assert.equal((await customer.get('/api/ops/queue')).statusCode, 403);
  assert.equal((await viewer.get('/api/logs')).statusCode, 200);
  assert.equal((await viewer.get('/api/ops/queue')).statusCode, 200);
  assert.equal((await agent.post(`/api/ops/${ticket.id}`)).statusCode, 200);
});

test('metrics: requests by action and outcome, latency, queue depth, breaker state', async () => {
  await sent();
  const res = await t.api.get('/metrics');
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /stageline_ops_requests_total\{action="send",outcome="success"\} \d+/);
  assert.match(res.body, /stageline_ops_request_duration_seconds_bucket\{le="[^"]+",action="send"\}/);
  assert.match(res.body, /stageline_ops_breaker_state 0/);
  assert.match(res.body, /# TYPE stageline_outbox_depth gauge/);
});

test('fuzz: random ids, bodies, query strings and headers on the write routes → only 2xx/4xx with the error shape', async () => {
  const ticket = await t.create.ticket({ subject: 'Fuzz' });
  const ids = [ticket.id, String(ticket.number), '', '%00', 'a'.repeat(300), '../../etc', '-1', '1e9', 'ü', '0'];
  const bodies: unknown[] = [undefined, '{', '[]', 'null', '{"force":true}', '{"x":1}', '"str"', '{"opsId":1}', 'x'.repeat(5000)];
  const queries = ['', '?wait=maybe', '?force=1', '?force=true&wait=false', '?wait=', '?limit=5', '?force[]=x'];
  const random = (n: number) => Math.floor(Math.random() * n);
  for (let i = 0; i < 120; i++) {
    const id = ids[random(ids.length)];
    const body = bodies[random(bodies.length)];
    const route = [`/api/ops/${id}`, `/api/ops/${id}/retry`, '/api/ops/callback'][random(3)];
    const res = await t.api.request({
      method: 'POST',
      url: `${route}${queries[random(queries.length)]}`,
      ...(body === undefined ? {} : { payload: body as string }),
      headers: {
        'content-type': ['application/json', 'text/plain', 'application/json; charset=utf-8'][random(3)],
        ...(random(2) ? { 'x-ops-signature': 'sha256=' + 'ab'.repeat(32), 'x-ops-timestamp': String(random(2e9)) } : {}),
      },
    });
    assert.ok(res.statusCode < 500, `${route} → ${res.statusCode}: ${res.body}`);
    if (res.statusCode >= 400) {
      const error = res.json();
      assert.equal(error.success, false);
      assert.equal(typeof error.message, 'string');
      assert.equal(typeof error.error.code, 'string');
    }
  }
  await t.app.services.outbox.runDue();
});

test('the OPS routes are in the OpenAPI document', async () => {
  const res = await t.api.get('/openapi.json');
  assert.equal(res.statusCode, 200);
  const paths = res.json().paths;
  for (const path of [
    '/api/ops/{id}',
    '/api/ops/{id}/retry',
    '/api/status/{id}',
    '/api/ops/queue',
    '/api/ops/callback',
    '/api/logs',
    '/api/tickets/{id}/logs',
  ]) {
    assert.ok(paths[path], `${path} is documented`);
  }
  assert.ok(paths['/api/ops/{id}'].post.responses['202']);
});

test("with the old backend's failure rates (fixed seed), every hand-off ends delivered once or failed — none lost, none doubled", async () => {
  const lossy = await startOpsSim({ seed: 20260302 });
  t.app.services.opsLink.client.useBaseUrl(lossy.url);
  try {
    const tickets = [];
    for (let i = 0; i < 12; i++) {
      const ticket = await t.create.ticket({ subject: `Lossy ${i}` });
      assert.equal((await t.api.post(`/api/ops/${ticket.id}?wait=false`)).statusCode, 202);
      tickets.push(ticket);
    }
    for (let round = 0; round < 5; round++) {
      await t.app.services.outbox.runDue();
      t.clock.advance(10 * 60_000);
    }
    const opsTickets = [...lossy.state.tickets.values()];
    let attempts = 0;
    for (const ticket of tickets) {
      const row = await ticketRow(t, ticket.id);
      const entries = (await logs(t, ticket.id)).filter((e) => e.action === 'send');
      attempts += entries.length;
      const mine = opsTickets.filter((o) => o.ticketId === ticket.id);
      if (row.status === 'sent') {
        assert.equal(mine.length, 1, 'one OPS ticket per delivered hand-off');
        assert.equal(row.ops_id, mine[0].opsId);
        assert.equal(entries.filter((e) => e.status === 'success').length, 1);
      } else {
        assert.equal(row.status, 'failed', `${ticket.id} is ${row.status}`);
        assert.equal(mine.length, 0);
        assert.equal(entries.length, 3, 'all attempts used');
      }
    }
    assert.equal(lossy.state.requests.send, attempts, 'every attempt is in the log');
    assert.ok(attempts > tickets.length, 'some sends failed and were retried (20 % failure rate)');
  } finally {
    t.app.services.opsLink.client.useBaseUrl(sim.url);
    await lossy.close();
  }
});

test("OPS closing a ticket moves it into its project's final stage in the same transaction, one event per change", async () => {
  const project = {
    key: 'OPSWF',
    name: 'OPS workflow',
    stages: [
      { key: 'intake', name: 'Intake', target_minutes: 60 },
      { key: 'fix', name: 'Fix', target_minutes: 600 },
      { key: 'closed', name: 'Closed', final: true },
    ],
  };
  assert.equal((await t.api.post('/api/projects', project)).statusCode, 201);
  const { ticket, opsId } = await sent({ project: 'OPSWF' }); // a new /api ticket enters intake at once
  for (const status of ['in_progress', 'closed']) {
    const res = await t.anonymous.request(signed({ opsId, status, details: `now ${status}` }));
    assert.equal(res.statusCode, 200, res.body);
  }
  const shown = (await t.api.get(`/api/tickets/${ticket.id}`)).json().data;
  assert.equal(shown.status, 'closed');
  assert.equal(shown.stage.key, 'closed');
  assert.deepEqual([shown.delay_state, shown.stage_state, shown.ticket_state], [null, null, null]);
  const timeline = (await t.api.get(`/api/tickets/${ticket.id}/timeline`)).json().data;
  assert.deepEqual(
    timeline.visits.map((v: any) => [v.key, v.state]),
    [
      ['intake', 'done'],
      ['closed', 'done'],
    ],
  );
  const history = (await events(t, ticket.id)).map((e) => [e.type, (e.data as any).old ?? (e.data as any).key ?? null]);
  assert.deepEqual(history.slice(-4), [
    ['ops_status_changed', 'sent'],
    ['ops_status_changed', 'in_progress'],
    ['stage_left', 'intake'],
    ['stage_entered', 'closed'],
  ]);
  assert.equal((await t.api.get(`/api/tickets/${ticket.id}/ops`)).json().data.state, 'closed_by_ops');
  // A poll or callback that repeats the state changes nothing.
  const again = await t.anonymous.request(signed({ opsId, status: 'closed', details: 'still closed' }));
  assert.equal(again.statusCode, 200);
  assert.equal((await events(t, ticket.id)).length, history.length);
});
