import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestApp } from '../../helpers/app.js';
import { eventually } from '../../helpers/eventually.js';
import { closedPort, events, logs, opsApp, startStub, ticketRow, type StubAnswer, type StubRequest } from './helpers.js';

// Against a fault-injecting OPS: timeouts, 5xx, refused connections, slow and late answers, lost records, races.
let stub: Awaited<ReturnType<typeof startStub>>;
let t: TestApp;
const ok: StubAnswer = { status: 201 };

before(async () => {
  stub = await startStub(() => ok);
  t = await opsApp(stub.url, { OPS_TIMEOUT_MS: '1000', OPS_WAIT_MS: '3000', OPS_MAX_ATTEMPTS: '3' });
});
after(async () => {
  await t.close();
  await stub.close();
});

const outbox = () => t.app.services.outbox;
const leaseMs = 31_000;

function sendsFor(ticketId: string): StubRequest[] {
  return stub.requests.filter((r) => r.method === 'POST' && r.body?.ticketId === ticketId);
}

/** Lets every retry come due and runs the workers once. */
async function retryNow() {
  t.clock.advance(10 * 60_000);
  await outbox().runDue();
}

async function handOffOf(ticketId: string) {
  return t.database.db.selectFrom('outbox').selectAll().where('dedupe_key', '=', ticketId).orderBy('id', 'desc').executeTakeFirstOrThrow();
}

test('OPS does not answer in time: 202 retrying, logged; the retry delivers it', async () => {
  stub.answer(() => 'hang');
  const ticket = await t.create.ticket({ subject: 'Timeout' });
  const res = await t.api.post(`/api/ops/${ticket.id}`);
  assert.equal(res.statusCode, 202, res.body);
  const handOff = res.json().data;
  assert.equal(handOff.status, 'retrying');
  assert.equal(handOff.attempts, 1);
  assert.match(handOff.last_error, /no answer from OPS within 1000 ms/);
  const delay = Date.parse(handOff.next_attempt_at) - t.clock.now().getTime();
  assert.ok(delay >= 500 && delay <= 1000, `first retry after 500–1000 ms (base 1000, jitter), got ${delay}`);
  const [entry] = await logs(t, ticket.id);
  assert.deepEqual([entry.action, entry.status, entry.attempt, entry.http_status], ['send', 'failed', 1, null]);
  assert.equal((await ticketRow(t, ticket.id)).status, 'pending');

  stub.answer(() => ok);
  await retryNow();
  const row = await ticketRow(t, ticket.id);
  assert.equal(row.status, 'sent');
  assert.ok(row.ops_id);
  assert.equal(stub.created.size > 0, true);
});

test('5xx until attempts run out: the ticket fails with the reason; sending again is a retry that succeeds', async () => {
  stub.answer(() => ({ status: 503, body: { error: 'down', message: 'maintenance' } }));
  const ticket = await t.create.ticket({ subject: 'Down' });
  const first = await t.api.post(`/api/ops/${ticket.id}`);
  assert.equal(first.statusCode, 202);
  assert.match(first.json().data.last_error, /OPS answered 503: maintenance/);
  await retryNow();
  await retryNow();
  const failed = await ticketRow(t, ticket.id);
  assert.equal(failed.status, 'failed');
  assert.match(failed.ops_error!, /503/);
  assert.equal(sendsFor(ticket.id).length, 3, 'OPS_MAX_ATTEMPTS attempts, no more');
  await retryNow();
  assert.equal(sendsFor(ticket.id).length, 3);
  assert.equal((await handOffOf(ticket.id)).state, 'dead');
  const history = await events(t, ticket.id);
  assert.deepEqual(
    history.slice(-2).map((e) => [e.type, e.data.new ?? null]),
    [
      ['status_changed', 'pending'],
      ['ops_failed', 'failed'],
    ],
    'one history event per change (issue 20)',
  );

  stub.answer(() => ok);
  const retry = await t.api.post(`/api/ops/${ticket.id}/retry`);
  assert.equal(retry.statusCode, 200, retry.body);
  const sent = await ticketRow(t, ticket.id);
  assert.equal(sent.status, 'sent');
  assert.equal(sent.ops_error, null);
  const entries = await logs(t, ticket.id);
  assert.deepEqual(
    entries.map((e) => [e.action, e.status]),
    [
      ['send', 'failed'],
      ['send', 'failed'],
      ['send', 'failed'],
      ['retry', 'success'],
    ],
  );
  assert.equal((await t.api.post(`/api/ops/${ticket.id}/retry`)).statusCode, 409, 'only a failed hand-off is retried');
});

test('OPS refuses the request itself (400): given up at once, no retries', async () => {
  stub.answer(() => ({ status: 400, body: { error: 'bad', message: 'subject too long' } }));
  const ticket = await t.create.ticket({ subject: 'Refused' });
  const res = await t.api.post(`/api/ops/${ticket.id}`);
  assert.equal(res.statusCode, 202);
  assert.equal(res.json().data.status, 'failed');
  assert.equal((await ticketRow(t, ticket.id)).status, 'failed');
  await retryNow();
  assert.equal(sendsFor(ticket.id).length, 1);
  stub.answer(() => ok);
});

test('connection refused: retrying with the reason; delivered once OPS is back', async () => {
  const ticket = await t.create.ticket({ subject: 'Refused connection' });
  t.app.services.opsLink.client.useBaseUrl(await closedPort());
  try {
    const res = await t.api.post(`/api/ops/${ticket.id}`);
    assert.equal(res.statusCode, 202);
    assert.match(res.json().data.last_error, /cannot reach OPS/);
    const status = await t.api.get(`/api/status/${ticket.id}`);
    assert.equal(status.statusCode, 400, "a pending ticket has no OPS state to ask for (the old backend's rule)");
  } finally {
    t.app.services.opsLink.client.useBaseUrl(stub.url);
  }
  await retryNow();
  assert.equal((await ticketRow(t, ticket.id)).status, 'sent');
});

test('a slow answer beyond the wait: 202 queued at once, recorded when it arrives', async () => {
  const slow = await opsApp(stub.url, { OPS_TIMEOUT_MS: '5000', OPS_WAIT_MS: '100' });
  try {
    stub.answer(() => ({ status: 201, delayMs: 600 }));
    const ticket = await slow.create.ticket({ subject: 'Slow' });
    const res = await slow.api.post(`/api/ops/${ticket.id}`);
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().data.status, 'queued');
    // The delivery goes on after the answer; stopping the workers waits for it to be recorded.
    await slow.app.services.outbox.stop();
    assert.equal((await ticketRow(slow, ticket.id)).status, 'sent');
  } finally {
    stub.answer(() => ok);
    await slow.close();
  }
});

test('OPS answers after our timeout: the retry carries the same idempotency key, so OPS keeps one ticket', async () => {
  stub.answer(() => ({ status: 201, delayMs: 1500 }));
  const ticket = await t.create.ticket({ subject: 'Late answer' });
  const res = await t.api.post(`/api/ops/${ticket.id}`);
  assert.equal(res.statusCode, 202);
  // The stub finishes the first (abandoned) request and creates its ticket.
  await eventually(() => {
    const [first] = sendsFor(ticket.id);
    return first !== undefined && stub.created.has(first.headers['idempotency-key'] as string);
  }, 'OPS has created the ticket of the abandoned request');
  stub.answer(() => ok);
  await retryNow();
  const sends = sendsFor(ticket.id);
  assert.equal(sends.length, 2);
  assert.equal(sends[0].headers['idempotency-key'], sends[1].headers['idempotency-key']);
  assert.equal(stub.created.has(sends[0].headers['idempotency-key'] as string), true);
  const opsIds = new Set([...stub.created].filter(([key]) => key === sends[0].headers['idempotency-key']).map(([, id]) => id));
  assert.equal(opsIds.size, 1, 'one OPS ticket');
  assert.equal((await ticketRow(t, ticket.id)).ops_id, [...opsIds][0]);
});

test('the process dies between delivering and recording: redelivered after the lease, not lost, not duplicated', async () => {
  const ticket = await t.create.ticket({ subject: 'Crash' });
  assert.equal((await t.api.post(`/api/ops/${ticket.id}?wait=false`)).statusCode, 202);
  const job = await handOffOf(ticket.id);
  // A worker claims the job and delivers it — then the process is killed before it records anything.
  const now = t.clock.now();
  const [claimed] = await outbox().repository.claim(t.database.db, {
    kinds: ['ops.send'],
    limit: 1,
    now,
    leaseUntil: new Date(now.getTime() + leaseMs),
    token: 'worker-that-dies',
    onlyId: job.id,
  });
  assert.equal(claimed.id, job.id);
  const delivered = await t.app.services.opsLink.client.send(
    {
      ticketId: ticket.id,
      subject: 'Crash',
      description: null,
      priority: 'medium',
      category: null,
      customer: { name: null, email: null, phone: null },
    },
    claimed.idempotency_key,
  );
  assert.ok(delivered.data);

  await outbox().runDue();
  assert.equal(sendsFor(ticket.id).length, 1, 'the claim holds while its lease runs');
  assert.equal((await ticketRow(t, ticket.id)).status, 'pending');

  t.clock.advance(leaseMs);
  await outbox().runDue();
  const sends = sendsFor(ticket.id);
  assert.equal(sends.length, 2, 'delivered again once the lease ran out');
  assert.equal(sends[1].headers['idempotency-key'], claimed.idempotency_key);
  const row = await ticketRow(t, ticket.id);
  assert.equal(row.status, 'sent');
  assert.equal(row.ops_id, delivered.data!.opsId, 'the same OPS ticket, not a second one');
  const done = await handOffOf(ticket.id);
  assert.equal(done.state, 'done');
  assert.equal(done.attempts, 2);
});

test('an attempt cut off by a crash shows in the OPS log as interrupted, before the attempt that takes it up again', async () => {
  const ticket = await t.create.ticket({ subject: 'Cut off' });
  assert.equal((await t.api.post(`/api/ops/${ticket.id}?wait=false`)).statusCode, 202);
  const job = await handOffOf(ticket.id);
  const claimedAt = t.clock.now();
  // The worker that claimed attempt 1 dies mid-call: nothing is recorded, the lease runs out.
  await outbox().repository.claim(t.database.db, {
    kinds: ['ops.send'],
    limit: 1,
    now: claimedAt,
    leaseUntil: new Date(claimedAt.getTime() + leaseMs),
    token: 'worker-that-dies',
    onlyId: job.id,
  });
  t.clock.advance(leaseMs);
  await outbox().runDue();

  const entries = await logs(t, ticket.id);
  assert.deepEqual(
    entries.map((entry) => [entry.action, entry.attempt, entry.status]),
    [
      ['interrupted', 1, 'failed'],
      ['send', 2, 'success'],
    ],
  );
  assert.match(entries[0].error!, new RegExp(`attempt 1 \\(send\\), begun ${claimedAt.toISOString().replace(/\./g, '\\.')}, was cut off`));
  const listed = await t.api.get(`/api/logs?ticket_id=${ticket.id}&action=interrupted`);
  assert.equal(listed.statusCode, 200, listed.body);
  assert.equal(listed.json().data.length, 1);
  assert.equal(listed.json().data[0].action, 'interrupted');
});

test('a finished or released attempt is not reported as interrupted', async () => {
  const ticket = await t.create.ticket({ subject: 'Retried normally' });
  stub.answer(() => ({ status: 503 }));
  assert.equal((await t.api.post(`/api/ops/${ticket.id}?wait=false`)).statusCode, 202);
  await outbox().runDue();
  stub.answer(() => ok);
  await retryNow();
  assert.deepEqual(
    (await logs(t, ticket.id)).map((entry) => [entry.action, entry.attempt]),
    [
      ['send', 1],
      ['send', 2],
    ],
  );
});

test('workers racing for the same hand-off: one delivery', async () => {
  const ticket = await t.create.ticket({ subject: 'Race' });
  assert.equal((await t.api.post(`/api/ops/${ticket.id}?wait=false`)).statusCode, 202);
  const job = await handOffOf(ticket.id);
  const results = await Promise.all([outbox().runDue(), outbox().runJob(job.id), outbox().runDue(), outbox().runJob(job.id)]);
  assert.ok(results.length === 4);
  assert.equal(sendsFor(ticket.id).length, 1);
  assert.equal((await ticketRow(t, ticket.id)).status, 'sent');
  assert.equal((await logs(t, ticket.id)).length, 1);
});

test('OPS unreachable on a status query: 503 with the last known status', async () => {
  stub.answer(() => ok);
  const ticket = await t.create.ticket({ subject: 'Status outage' });
  assert.equal((await t.api.post(`/api/ops/${ticket.id}`)).statusCode, 200);
  stub.answer(() => ({ status: 503, body: { error: 'unavailable', message: 'OPS system unavailable' } }));
  const res = await t.api.get(`/api/status/${ticket.id}`);
  assert.equal(res.statusCode, 503);
  const body = res.json();
  assert.equal(body.success, false);
  assert.match(body.message, /^OPS system unavailable/);
  assert.equal(body.data.ticketId, ticket.id);
  assert.equal(body.data.status, 'sent');
  const query = (await logs(t, ticket.id)).find((e) => e.action === 'query')!;
  assert.deepEqual([query.status, query.http_status], ['failed', 503]);

  stub.answer(() => ({ status: 200, body: { opsId: 'x', ticketId: ticket.id, status: 'exploded' } }));
  const odd = await t.api.get(`/api/status/${ticket.id}`);
  assert.equal(odd.statusCode, 503, 'an answer outside the contract is not believed');
  assert.match(odd.json().message, /does not follow the contract/);
  stub.answer(() => ok);
});

test('a ticket deleted before delivery: OPS is not called, the hand-off fails and the log keeps the reason', async () => {
  const ticket = await t.create.ticket({ subject: 'Deleted' });
  assert.equal((await t.api.post(`/api/ops/${ticket.id}?wait=false`)).statusCode, 202);
  assert.equal((await t.api.delete(`/api/tickets/${ticket.id}`)).statusCode, 200);
  await outbox().runDue();
  assert.equal(sendsFor(ticket.id).length, 0);
  assert.equal((await handOffOf(ticket.id)).state, 'dead');
  const [entry] = await logs(t, ticket.id);
  assert.deepEqual([entry.action, entry.status], ['send', 'failed']);
  assert.match(entry.error!, /deleted/);
});
