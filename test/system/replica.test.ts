import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { testApp, type TestApp, type UserClient } from '../helpers/app.js';
import { withDatabase } from '../helpers/database.js';
import { eventually } from '../helpers/eventually.js';

// A real streaming replica of the test server (scripts/ci-replica.sh, which .ci/run starts for the PostgreSQL pass):
// reads land on it, a client reads its own writes, and stopping it fails no request.
const primaryUrl = process.env.TEST_DATABASE_URL;
const replicaUrl = process.env.TEST_DATABASE_READ_URL;
const skip =
  primaryUrl && replicaUrl
    ? false
    : 'needs TEST_DATABASE_URL and TEST_DATABASE_READ_URL (a streaming replica of it: scripts/ci-replica.sh starts one on port 5433)';
const replicaControl = path.resolve(import.meta.dirname, '../../scripts/ci-replica.sh');
const run = promisify(execFile);

let t: TestApp;
let viewer: UserClient;
let stats: pg.Client;

/** Scans of `tickets` counted by the replica itself (its own statistics, not the app's). */
async function replicaTicketScans(): Promise<number> {
  await stats.query('select pg_stat_clear_snapshot()');
  const { rows } = await stats.query<{ scans: string }>(
    `select coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) as scans from pg_stat_user_tables where relname = 'tickets'`,
  );
  return Number(rows[0]!.scans);
}

const serving = () => t.database.replication()?.replicas[0]?.serving === true;

before(async () => {
  if (skip) return;
  t = await testApp({}, { replicaUrl, maxReadLagMs: 10_000 });
  viewer = await t.userClient('viewer');
  // The test database was made on the primary a moment ago: wait until the replica has it and serves.
  await eventually(serving, 'the replica serves reads', 60_000);
  const database = (await t.database.db.selectNoFrom((eb) => eb.fn<string>('current_database', []).as('name')).executeTakeFirstOrThrow())
    .name;
  stats = new pg.Client({ connectionString: withDatabase(replicaUrl!, database) });
  // Stopping the replica (last test) closes this connection: not an error of the test.
  stats.on('error', () => {});
  await stats.connect();
});

after(async () => {
  if (skip) return;
  await stats?.end();
  await t.close();
});

test('reads from a client without writes land on the replica (its own statistics count them)', { skip }, async () => {
  await t.create.ticket({ subject: 'Replicated printer' });
  const before = await replicaTicketScans();
  const counts = t.database.replication()!.reads;
  await eventually(async () => {
    const res = await viewer.get('/api/tickets?limit=50');
    assert.equal(res.statusCode, 200, res.body);
    return res.json().data.some((ticket: { subject: string }) => ticket.subject === 'Replicated printer');
  }, 'the viewer sees the ticket through the replica');
  for (const url of ['/api/monitor/overview', '/api/tickets?q=printer', '/api/stages?limit=5']) {
    const res = await viewer.get(url);
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  }
  assert.ok(t.database.replication()!.reads.replica > counts.replica, 'the routing sent reads to the replica');
  await eventually(async () => (await replicaTicketScans()) > before, "the replica's pg_stat_user_tables counts the scans");

  const ready = await t.anonymous.get('/readyz');
  assert.equal(ready.statusCode, 200);
  const [replica] = ready.json().replicas;
  assert.equal(replica.up, true);
  assert.equal(typeof replica.lag_ms, 'number');
  const metrics = await t.api.get('/metrics');
  assert.match(metrics.body, /stageline_database_replica_lag_seconds\{replica="127\.0\.0\.1:\d+\/stageline_test_[^"]+"\} \d/);
  assert.match(metrics.body, /stageline_database_reads_total\{target="replica"\} [1-9]/);
});

test('a client reads its own writes at once, under concurrent writes by others', { skip }, async () => {
  const writers = await Promise.all([1, 2, 3, 4].map(() => t.userClient('agent')));
  const primaryBefore = t.database.replication()!.reads.primary;
  await Promise.all(
    writers.map(async (writer, w) => {
      for (let round = 0; round < 8; round++) {
        const subject = `ryw-${w}-${round}`;
        const created = await writer.post('/api/tickets', { subject, customer_email: `ryw${w}@example.com` });
        assert.equal(created.statusCode, 201, created.body);
        assert.match(String(created.headers['stageline-lsn']), /^[0-9A-F]+\/[0-9A-F]+$/);
        const id = created.json().data.id;
        // Immediately after its own write: the list and the timeline must show it, wherever they are read from.
        const list = await writer.get(`/api/tickets?customer=ryw${w}@example.com&limit=100`);
        assert.equal(list.statusCode, 200, list.body);
        assert.ok(
          list.json().data.some((ticket: { subject: string }) => ticket.subject === subject),
          `writer ${w} sees ${subject} right after creating it`,
        );
        const patched = await writer.patch(`/api/tickets/${id}`, { priority: 'high' });
        assert.equal(patched.statusCode, 200, patched.body);
        const again = await writer.get(`/api/tickets?customer=ryw${w}@example.com&limit=100`);
        assert.equal(again.json().data.find((ticket: { id: string }) => ticket.id === id)?.priority, 'high');
        const history = await writer.get(`/api/tickets/${id}/history`);
        assert.equal(history.statusCode, 200, history.body);
      }
    }),
  );
  assert.ok(t.database.replication()!.reads.primary > primaryBefore, 'reads right after a write went to the primary');
});

test('the Stageline-LSN header carries read-your-writes to a process that did not see the write', { skip }, async () => {
  const created = await t.api.post('/api/tickets', { subject: 'Seen elsewhere' });
  const lsn = String(created.headers['stageline-lsn']);
  // The viewer made no write here; with the position it was handed, its read waits for a replica past it.
  const res = await viewer.get('/api/tickets?q=elsewhere', { 'stageline-lsn': lsn });
  assert.equal(res.statusCode, 200);
  assert.ok(res.json().data.some((ticket: { subject: string }) => ticket.subject === 'Seen elsewhere'));
  // A value that is no WAL position is ignored, never an error.
  assert.equal((await viewer.get('/api/tickets', { 'stageline-lsn': 'nonsense' })).statusCode, 200);
});

test('stopping the replica fails no request: reads fall back to the primary, and return when it is back', { skip }, async () => {
  await eventually(serving, 'the replica serves reads');
  let stopped = false;
  const failures: string[] = [];
  let reads = 0;
  const reader = (async () => {
    // Reads keep coming while the replica stops, until the routing has noticed it is gone.
    while (!stopped || t.database.replication()!.replicas[0]!.up) {
      for (const url of ['/api/tickets?limit=20', '/api/monitor/overview', '/api/stages?limit=5']) {
        const res = await viewer.get(url);
        reads++;
        if (res.statusCode !== 200) failures.push(`${url} ${res.statusCode} ${res.body}`);
      }
    }
  })();
  try {
    await eventually(() => reads > 5, 'reads are flowing');
    await run(replicaControl, ['stop']);
    stopped = true;
    await reader;
    assert.deepEqual(failures, []);
    const ready = await t.anonymous.get('/readyz');
    assert.equal(ready.statusCode, 200, 'a replica down leaves the server ready');
    assert.equal(ready.json().replicas[0].up, false);
    assert.equal((await viewer.get('/api/tickets?limit=5')).statusCode, 200);
  } finally {
    stopped = true;
    await reader.catch(() => {});
    await run(replicaControl, ['start'], { timeout: 180_000 });
  }
  await eventually(serving, 'the restarted replica serves reads again', 60_000);
  const before = t.database.replication()!.reads.replica;
  assert.equal((await viewer.get('/api/tickets?limit=5')).statusCode, 200);
  assert.ok(t.database.replication()!.reads.replica > before);
});
