import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import type { Database } from '../../../src/db/database.js';
import { retryDelayMs } from '../../../src/modules/outbox/backoff.js';
import { Outbox, type Delivery, type OutboxHandler, type Recorded } from '../../../src/modules/outbox/outbox.js';
import { freshDatabase } from '../../helpers/database.js';
import { eventually } from '../../helpers/eventually.js';

// The outbox on its own, with a test kind: what e-mail and webhook deliveries will rely on too.
let database: Database;
const clock = new ManualClock();
const leaseMs = 30_000;

before(async () => {
  database = await freshDatabase();
});
after(() => database.close());

type Payload = { n: number };

/** A handler that records what it was asked to deliver and answers what the test says. */
function recorder(
  answer: (payload: Payload, attempt: number) => Delivery<{ echoed: number }> | Promise<Delivery<{ echoed: number }>> = (p) => ({
    ok: true,
    result: { echoed: p.n },
  }),
) {
  const delivered: { n: number; key: string; attempt: number }[] = [];
  const recorded: { n: number; state: Recorded['state'] }[] = [];
  const handler: OutboxHandler<Payload, { echoed: number }> = {
    async deliver(job) {
      delivered.push({ n: job.payload.n, key: job.idempotency_key, attempt: job.attempts });
      return answer(job.payload, job.attempts);
    },
    async record(_tx, job, _delivery, result) {
      recorded.push({ n: job.payload.n, state: result.state });
    },
    backoff: { baseMs: 1000, maxMs: 8000 },
  };
  return { handler, delivered, recorded };
}

let kinds = 0;
function outboxWith(handler: OutboxHandler<Payload, { echoed: number }>, kind = `test.kind${++kinds}`) {
  const outbox = new Outbox(database.db, clock, {
    leaseMs,
    batchSize: 50,
    defaultBackoff: { baseMs: 1000, maxMs: 8000 },
    random: () => 0.5,
  });
  outbox.register(kind, handler);
  return { outbox, kind };
}

async function enqueue(outbox: Outbox, kind: string, n: number, extra: { dedupeKey?: string; maxAttempts?: number; runAt?: Date } = {}) {
  return database.db
    .transaction()
    .execute((tx) => outbox.enqueue(tx, { kind, payload: { n }, maxAttempts: extra.maxAttempts ?? 3, ...extra }));
}

async function stateOf(id: number) {
  return database.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

test('retry delays: exponential from the base, capped, jittered within the upper half', () => {
  const policy = { baseMs: 1000, maxMs: 10_000 };
  const cases: [attempt: number, random: number, expected: number][] = [
    [1, 0, 500],
    [1, 0.999999, 1000],
    [2, 0, 1000],
    [3, 0.5, 3000],
    [4, 1, 8000],
    [5, 0, 5000],
    [5, 1, 10_000],
    [50, 1, 10_000],
    [0, 0, 500],
  ];
  for (const [attempt, random, expected] of cases) {
    assert.equal(
      retryDelayMs(attempt, policy, () => random),
      expected,
      `attempt ${attempt}, random ${random}`,
    );
  }
});

test('a job enqueued in a transaction that rolls back never exists', async () => {
  const { outbox, kind } = outboxWith(recorder().handler);
  await assert.rejects(
    database.db.transaction().execute(async (tx) => {
      await outbox.enqueue(tx, { kind, payload: { n: 1 }, maxAttempts: 3 });
      throw new Error('the change that asked for it failed');
    }),
  );
  const rows = await database.db.selectFrom('outbox').select('id').where('kind', '=', kind).execute();
  assert.equal(rows.length, 0);
});

test('dedupe key: one open job per key; after it finishes a new one may start', async () => {
  const { handler, delivered } = recorder();
  const { outbox, kind } = outboxWith(handler);
  const first = await enqueue(outbox, kind, 1, { dedupeKey: 'ticket-1' });
  const second = await enqueue(outbox, kind, 2, { dedupeKey: 'ticket-1' });
  assert.equal(first.created, true);
  assert.equal(second.created, false);
  assert.equal(second.job.id, first.job.id);
  await outbox.runDue();
  assert.deepEqual(
    delivered.map((d) => d.n),
    [1],
  );
  const third = await enqueue(outbox, kind, 3, { dedupeKey: 'ticket-1' });
  assert.equal(third.created, true);
  assert.notEqual(third.job.idempotency_key, first.job.idempotency_key);
});

test('only due jobs are claimed; a later runAt waits', async () => {
  const { handler, delivered } = recorder();
  const { outbox, kind } = outboxWith(handler);
  await enqueue(outbox, kind, 1, { runAt: new Date(clock.now().getTime() + 60_000) });
  assert.equal(await outbox.runDue(), 0);
  clock.advance(60_000);
  assert.equal(await outbox.runDue(), 1);
  assert.deepEqual(
    delivered.map((d) => d.n),
    [1],
  );
});

test('failures back off and give up after max attempts; the result is kept on success', async () => {
  const { handler, delivered, recorded } = recorder((p, attempt) =>
    attempt < 3 ? { ok: false, error: `boom ${attempt}`, retryable: true } : { ok: true, result: { echoed: p.n } },
  );
  const { outbox, kind } = outboxWith(handler);
  const { job } = await enqueue(outbox, kind, 7, { maxAttempts: 3 });
  await outbox.runDue();
  let row = await stateOf(job.id);
  assert.deepEqual([row.state, row.attempts, row.last_error], ['pending', 1, 'boom 1']);
  assert.equal(row.next_attempt_at.getTime() - clock.now().getTime(), 750, 'base 1000 ms, jitter 0.5 → 750 ms');
  assert.equal(await outbox.runDue(), 0, 'not due yet');
  clock.advance(750);
  await outbox.runDue();
  row = await stateOf(job.id);
  assert.equal(row.next_attempt_at.getTime() - clock.now().getTime(), 1500, 'doubles');
  clock.advance(1500);
  await outbox.runDue();
  row = await stateOf(job.id);
  assert.deepEqual([row.state, row.attempts, row.last_error, row.result], ['done', 3, null, { echoed: 7 }]);
  assert.equal(delivered.length, 3);
  assert.deepEqual(
    recorded.map((r) => r.state),
    ['retrying', 'retrying', 'done'],
  );
  assert.equal(new Set(delivered.map((d) => d.key)).size, 1, 'every attempt carries the same idempotency key');

  const dead = outboxWith(recorder(() => ({ ok: false, error: 'never', retryable: true })).handler);
  const doomed = await enqueue(dead.outbox, dead.kind, 8, { maxAttempts: 2 });
  await dead.outbox.runDue();
  clock.advance(60_000);
  await dead.outbox.runDue();
  clock.advance(60_000);
  assert.equal(await dead.outbox.runDue(), 0);
  const gone = await stateOf(doomed.job.id);
  assert.deepEqual([gone.state, gone.attempts, gone.last_error], ['dead', 2, 'never']);
});

test('a handler that throws costs an attempt, not the job', async () => {
  let calls = 0;
  const { handler } = recorder(() => {
    if (calls++ === 0) throw new Error('bug');
    return { ok: true, result: { echoed: 0 } };
  });
  const { outbox, kind } = outboxWith(handler);
  const { job } = await enqueue(outbox, kind, 1);
  await outbox.runDue();
  assert.match((await stateOf(job.id)).last_error!, /internal error: bug/);
  clock.advance(60_000);
  await outbox.runDue();
  assert.equal((await stateOf(job.id)).state, 'done');
});

test('held back (circuit open): nothing is claimed and no attempt is used', async () => {
  let heldUntil: Date | null = new Date(clock.now().getTime() + 5000);
  const { handler, delivered } = recorder();
  const { outbox, kind } = outboxWith({ ...handler, heldUntil: () => heldUntil });
  const { job } = await enqueue(outbox, kind, 1);
  assert.equal(await outbox.runDue(), 0);
  assert.equal(await outbox.runJob(job.id), undefined);
  assert.equal((await stateOf(job.id)).attempts, 0);
  heldUntil = null;
  await outbox.runDue();
  assert.equal(delivered.length, 1);
});

test('a worker that dies after claiming: the job comes back after the lease; its late record is dropped', async () => {
  const { handler, delivered, recorded } = recorder();
  const { outbox, kind } = outboxWith(handler);
  const { job } = await enqueue(outbox, kind, 5);
  const now = clock.now();
  const [claimed] = await outbox.repository.claim(database.db, {
    kinds: [kind],
    limit: 1,
    now,
    leaseUntil: new Date(now.getTime() + leaseMs),
    token: 'dead-worker',
  });
  assert.equal(claimed.id, job.id);
  assert.equal(await outbox.runDue(), 0, 'held while the lease runs');
  clock.advance(leaseMs);
  assert.equal(await outbox.runDue(), 1);
  assert.deepEqual(
    delivered.map((d) => [d.n, d.attempt]),
    [[5, 2]],
  );
  assert.deepEqual(
    recorded.map((r) => r.state),
    ['done'],
  );
  const late = await outbox.repository.finishClaim(database.db, job.id, 'dead-worker', { state: 'dead', lastError: 'late' }, clock.now());
  assert.equal(late, false, 'the dead worker no longer owns the job');
  assert.equal((await stateOf(job.id)).state, 'done');
});

test('workers racing: three outboxes on one database deliver each of 30 jobs exactly once', async () => {
  const kind = `test.race${++kinds}`;
  const seen: number[] = [];
  const handler: OutboxHandler<Payload, { echoed: number }> = {
    async deliver(job) {
      seen.push(job.payload.n);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { ok: true, result: { echoed: job.payload.n } };
    },
    async record() {},
  };
  const workers = [1, 2, 3].map(() => outboxWith(handler, kind).outbox);
  for (let n = 0; n < 30; n++) await enqueue(workers[0], kind, n);
  await Promise.all(workers.flatMap((w) => [w.runDue(), w.runDue()]));
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 30 }, (_, n) => n),
  );
  const open = await database.db.selectFrom('outbox').select('id').where('kind', '=', kind).where('state', '=', 'pending').execute();
  assert.equal(open.length, 0);
});

test('start/stop: the loop delivers on its own and stop waits for attempts in flight', async () => {
  const { handler, delivered } = recorder(async (p) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { ok: true, result: { echoed: p.n } };
  });
  const { outbox, kind } = outboxWith(handler);
  outbox.start(20);
  await enqueue(outbox, kind, 1);
  outbox.nudge();
  await eventually(() => delivered.length > 0, 'the loop delivers the job');
  await outbox.stop();
  assert.equal(delivered.length, 1);
  const row = await database.db.selectFrom('outbox').selectAll().where('kind', '=', kind).executeTakeFirstOrThrow();
  assert.equal(row.state, 'done', 'recorded before stop returned');
});

test('finished jobs are purged by age; open ones never', async () => {
  const { handler } = recorder();
  const { outbox, kind } = outboxWith(handler);
  const { job: finished } = await enqueue(outbox, kind, 1);
  await outbox.runDue();
  const { job: open } = await enqueue(outbox, kind, 2, { runAt: new Date(clock.now().getTime() + 3_600_000) });
  clock.advance(86_400_000);
  await outbox.repository.purgeFinished(database.db, clock.now(), 1000);
  assert.equal(await outbox.repository.find(database.db, finished.id), undefined);
  assert.ok(await outbox.repository.find(database.db, open.id));
});
