import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { nextStatus, newOpsId, queryFails, seededRandom, sendSucceeds, transitions, defaultRates } from '../../../src/ops-sim/decisions.js';
import { startOpsSim } from '../../../src/ops-sim/server.js';
import type { OpsStatus } from '../../../src/modules/ops/contract.js';

const trials = 10_000;
// Four standard deviations of a binomial share at p = 0.5 over 10,000 trials is 0.02: a fixed seed
// makes the run repeatable, the tolerance keeps it honest if the generator ever changes.
const tolerance = 0.02;

function share(count: number): number {
  return count / trials;
}

test('sends are accepted about 80% of the time', () => {
  const random = seededRandom(1);
  let accepted = 0;
  for (let i = 0; i < trials; i++) if (sendSucceeds(random, defaultRates)) accepted++;
  assert.ok(Math.abs(share(accepted) - 0.8) < tolerance, `accepted ${share(accepted)}`);
});

test('status queries fail about 10% of the time', () => {
  const random = seededRandom(2);
  let failed = 0;
  for (let i = 0; i < trials; i++) if (queryFails(random, defaultRates)) failed++;
  assert.ok(Math.abs(share(failed) - 0.1) < tolerance, `failed ${share(failed)}`);
});

for (const from of ['sent', 'in_progress', 'delayed'] as const) {
  test(`state moves from ${from} with the old backend's probabilities`, () => {
    const random = seededRandom(3);
    const counts = new Map<OpsStatus, number>();
    for (let i = 0; i < trials; i++) {
      const next = nextStatus(random, from);
      counts.set(next, (counts.get(next) ?? 0) + 1);
    }
    for (const [to, probability] of transitions[from]) {
      const observed = share(counts.get(to) ?? 0);
      assert.ok(Math.abs(observed - probability) < tolerance, `${from} → ${to}: ${observed}, expected ${probability}`);
    }
    assert.deepEqual(new Set(counts.keys()), new Set(transitions[from].map(([to]) => to)));
  });
}

test('closed and failed are final', () => {
  const random = seededRandom(4);
  for (let i = 0; i < 100; i++) {
    assert.equal(nextStatus(random, 'closed'), 'closed');
    assert.equal(nextStatus(random, 'failed'), 'failed');
  }
});

test('settable rates: 0 never fails, 1 always does', () => {
  const random = seededRandom(5);
  for (let i = 0; i < 1000; i++) {
    assert.equal(sendSucceeds(random, { sendFailureRate: 0, queryFailureRate: 1 }), true);
    assert.equal(queryFails(random, { sendFailureRate: 0, queryFailureRate: 1 }), true);
  }
});

test('the same seed gives the same run; OPS ids are OPS- and 8 characters', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const idsA = Array.from({ length: 50 }, () => newOpsId(a));
  const idsB = Array.from({ length: 50 }, () => newOpsId(b));
  assert.deepEqual(idsA, idsB);
  for (const id of idsA) assert.match(id, /^OPS-[A-Z0-9]{8}$/);
});

const sim = await startOpsSim({
  seed: 9,
  sendFailureRate: 0,
  queryFailureRate: 0,
  token: 'sim-token',
});
after(() => sim.close());

const ticket = {
  ticketId: 'T-1',
  subject: 'Printer',
  description: null,
  priority: 'high',
  category: null,
  customer: { name: 'Ann', email: null, phone: null },
};
const headers = {
  'content-type': 'application/json',
  authorization: 'Bearer sim-token',
};

test('simulator: a repeated idempotency key answers the first ticket, never a second one', async () => {
  const first = await fetch(`${sim.url}/tickets`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': 'k-1' },
    body: JSON.stringify(ticket),
  });
  assert.equal(first.status, 201);
  const accepted = (await first.json()) as any;
  assert.match(accepted.opsId, /^OPS-[A-Z0-9]{8}$/);
  const again = await fetch(`${sim.url}/tickets`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': 'k-1' },
    body: JSON.stringify(ticket),
  });
  assert.equal(again.status, 200);
  assert.equal(((await again.json()) as any).opsId, accepted.opsId);
  assert.equal(sim.state.tickets.size, 1);

  const status = await fetch(`${sim.url}/tickets/${accepted.opsId}`, {
    headers,
  });
  assert.equal(status.status, 200);
  const body = (await status.json()) as any;
  assert.ok(['in_progress', 'delayed', 'failed'].includes(body.status));
  assert.equal(typeof body.details, 'string');
});

test('simulator: wrong token → 401, missing idempotency key → 400, unknown OPS id → 404', async () => {
  const noToken = await fetch(`${sim.url}/tickets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'x' },
    body: JSON.stringify(ticket),
  });
  assert.equal(noToken.status, 401);
  const noKey = await fetch(`${sim.url}/tickets`, {
    method: 'POST',
    headers,
    body: JSON.stringify(ticket),
  });
  assert.equal(noKey.status, 400);
  const unknown = await fetch(`${sim.url}/tickets/OPS-NOTHERE`, { headers });
  assert.equal(unknown.status, 404);
});

test('simulator: its contract is published as OpenAPI', async () => {
  const res = await fetch(`${sim.url}/openapi.json`);
  assert.equal(res.status, 200);
  const spec = (await res.json()) as any;
  assert.equal(spec.openapi, '3.1.0');
  assert.ok(spec.paths['/tickets'].post);
  assert.ok(spec.paths['/tickets/{opsId}'].get);
});
