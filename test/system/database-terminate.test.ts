import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { testApp, type TestApp } from '../helpers/app.js';
import { withDatabase } from '../helpers/database.js';
import { eventually } from '../helpers/eventually.js';

// PostgreSQL closes the server's connections under it (pg_terminate_backend: what a server restart or a failover
// does to each connection) while requests are running. An unhandled 'error' event on any connection would kill
// this test process.
const adminUrl = process.env.TEST_DATABASE_URL;
const skip = adminUrl ? false : 'PostgreSQL only (set TEST_DATABASE_URL): the embedded database has no backends to terminate';

let t: TestApp;
let admin: pg.Client;
let wakes = 0;
let unsubscribe = () => {};

before(async () => {
  if (!adminUrl) return;
  t = await testApp();
  const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(t.database.db);
  // On the test's own database only, so the backends it terminates are this app's and nobody else's.
  admin = new pg.Client({ connectionString: withDatabase(adminUrl, rows[0].name) });
  await admin.connect();
  // The change feed's LISTEN connection is among the terminated ones.
  unsubscribe = await t.app.services.events.feed.subscribe(() => wakes++);
});

after(async () => {
  if (!adminUrl) return;
  unsubscribe();
  await admin.end();
  await t.close();
});

/** Terminates every backend of the test database except the admin connection; returns how many. */
async function terminateBackends(): Promise<number> {
  const { rows } = await admin.query<{ terminated: number }>(
    `select count(*)::int as terminated from (
       select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend') killed`,
  );
  return rows[0].terminated;
}

test('the server survives its connections being terminated under load: 2xx or 503, no acknowledged write lost', { skip }, async () => {
  const rounds = 6;
  const acknowledged: string[] = [];
  const statuses = new Map<number, number>();
  const unexpected: string[] = [];
  let running = true;
  const note = (method: string, res: LightMyRequestResponse) => {
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode >= 300 && res.statusCode !== 503) unexpected.push(`${method} ${res.statusCode} ${res.body}`);
    if (res.statusCode === 503 && res.json().error.code !== 'DATABASE_UNAVAILABLE') unexpected.push(`${method} 503 ${res.body}`);
  };
  const writer = async (n: number) => {
    for (let i = 0; running; i++) {
      const res = await t.api.post('/api/tickets', { subject: `Writer ${n} ticket ${i}` });
      note('POST', res);
      if (res.statusCode === 201) acknowledged.push(res.json().data.id);
    }
  };
  const reader = async () => {
    while (running) {
      const id = acknowledged[Math.floor(Math.random() * acknowledged.length)];
      const res = await (id ? t.api.get(`/api/tickets/${id}`) : t.api.get('/api/tickets?limit=5'));
      note('GET', res);
    }
  };
  const load = Promise.all([writer(1), writer(2), writer(3), reader(), reader()]);

  let terminated = 0;
  for (let round = 1; round <= rounds; round++) {
    // Writes go through again before each round: the previous round was recovered from.
    const target = acknowledged.length + 5;
    await eventually(() => acknowledged.length >= target || unexpected.length > 0, `writes succeed again before round ${round}`);
    terminated += await terminateBackends();
  }
  const target = acknowledged.length + 5;
  await eventually(() => acknowledged.length >= target || unexpected.length > 0, 'writes succeed after the last round');
  running = false;
  await load;

  assert.deepEqual(unexpected, [], 'every answer is 2xx or 503 DATABASE_UNAVAILABLE');
  assert.ok(terminated >= rounds, `backends were terminated (${terminated} in ${rounds} rounds)`);
  const { rows } = await admin.query<{ found: number }>('select count(*)::int as found from tickets where id = any($1)', [acknowledged]);
  assert.equal(rows[0].found, acknowledged.length, 'every acknowledged write is in the database');
  for (const id of acknowledged.slice(-20)) assert.equal((await t.api.get(`/api/tickets/${id}`)).statusCode, 200);

  // The LISTEN connection came back: a new change still wakes the feed's subscribers.
  const wakesBefore = wakes;
  await t.create.ticket({ subject: 'After the terminations' });
  await eventually(() => wakes > wakesBefore, 'the change feed is woken by a new change');
  assert.equal((await t.anonymous.get('/readyz')).statusCode, 200);
  console.log(`terminated ${terminated} backends in ${rounds} rounds; answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`);
});
