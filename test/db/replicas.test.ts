import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { formatLsn, parseLsn } from '../../src/db/replicas.js';
import { testApp, type TestApp } from '../helpers/app.js';

// Replica routing without a replica running: the settings, WAL positions, and a replica that never answers
// (test/system/replica.test.ts runs against a real one).
const postgres = Boolean(process.env.TEST_DATABASE_URL);

test('DATABASE_READ_URL: postgres URLs, comma-separated, and only with DATABASE_URL', () => {
  const primary = 'postgres://app@db1:5432/stageline';
  const config = loadConfig({
    DATABASE_URL: primary,
    DATABASE_READ_URL: ' postgres://app@db2:5432/stageline, postgresql://app@db3/stageline ',
    DATABASE_READ_MAX_LAG_MS: '2000',
  });
  assert.deepEqual(config.databaseReadUrls, ['postgres://app@db2:5432/stageline', 'postgresql://app@db3/stageline']);
  assert.equal(config.databaseReadMaxLagMs, 2000);
  assert.deepEqual(loadConfig({}).databaseReadUrls, []);
  assert.equal(loadConfig({}).databaseReadMaxLagMs, 5000);
  assert.throws(
    () => loadConfig({ DATABASE_READ_URL: 'postgres://app@db2/stageline' }),
    /DATABASE_READ_URL needs DATABASE_URL: the embedded database \(PGlite\) has no read replicas/,
  );
  assert.throws(
    () => loadConfig({ DATABASE_URL: primary, DATABASE_READ_URL: `${primary},mysql://x` }),
    /DATABASE_READ_URL must be postgres:\/\/ URLs separated by commas; entry 2 is not one/,
  );
});

test('WAL positions compare as numbers and print as PostgreSQL does', () => {
  assert.equal(parseLsn('0/16B3748'), 0x16b3748n);
  assert.ok(parseLsn('1/0')! > parseLsn('0/FFFFFFFF')!);
  assert.equal(formatLsn(parseLsn('16/B374D848')!), '16/B374D848');
  for (const bad of ['', 'x/1', '1', '1/2/3', '123456789/0', null, undefined]) assert.equal(parseLsn(bad), null);
});

let t: TestApp;
before(async () => {
  // A replica on a port nothing listens on: down from the start.
  t = await testApp({}, postgres ? { replicaUrl: 'postgres://postgres@127.0.0.1:1/postgres' } : {});
});
after(() => t.close());

test('without a replica that answers, every read runs on the primary and nothing fails', async () => {
  await t.create.ticket({ subject: 'Only the primary' });
  const viewer = await t.userClient('viewer');
  for (const url of ['/api/tickets?q=primary', '/api/monitor/overview', '/api/stages', '/api/monitor/stages']) {
    const res = await viewer.get(url);
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  }
  const ready = await t.anonymous.get('/readyz');
  assert.equal(ready.statusCode, 200);
  if (!postgres) {
    assert.equal(t.database.replication(), null);
    assert.equal(ready.json().replicas, undefined);
    return;
  }
  const [replica] = ready.json().replicas;
  assert.match(replica.name, /^127\.0\.0\.1:1\/stageline_test_/);
  assert.deepEqual({ up: replica.up, serving: replica.serving, lag_ms: replica.lag_ms }, { up: false, serving: false, lag_ms: null });
  assert.match(replica.error, /ECONNREFUSED|connect/);
  const reads = t.database.replication()!.reads;
  assert.equal(reads.replica, 0);
  assert.ok(reads.primary > 0);
  const metrics = await t.api.get('/metrics');
  assert.match(metrics.body, /stageline_database_replica_up\{replica="127\.0\.0\.1:1\/[^"]+"\} 0/);
});
