import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, test } from 'node:test';
import type { Database } from '../../src/db/database.js';
import { freshDatabase } from '../helpers/database.js';

let database: Database;
before(async () => {
  database = await freshDatabase();
});
after(() => database.close());

const columns = [
  ['a', 'text'],
  ['b', 'timestamptz'],
  ['c', 'text[]'],
  ['d', 'jsonb'],
  ['e', 'bigint'],
  ['f', 'boolean'],
] as const;

test('stageRows loads text, times, arrays, JSON, numbers and booleans as given (COPY escapes what it must)', async () => {
  const odd = 'tab\there, line\nbreak, \\N back\\slash, "quoted", {braced}';
  const rows = await database.db.transaction().execute(async (tx) => {
    await database.stageRows(tx, 'staging_test', columns, [
      [odd, new Date('2026-01-02T03:04:05.678Z'), ['x"y', 'z\\w', null, odd], { k: odd }, 9_007_199_254_740_991, true],
      [null, null, [], {}, 0, false],
    ]);
    return (await sql<Record<string, unknown>>`select * from staging_test order by a nulls last`.execute(tx)).rows;
  });
  assert.equal(rows[0]!.a, odd);
  assert.equal((rows[0]!.b as Date).toISOString(), '2026-01-02T03:04:05.678Z');
  assert.deepEqual(rows[0]!.c, ['x"y', 'z\\w', null, odd]);
  assert.deepEqual(rows[0]!.d, { k: odd });
  assert.equal(rows[0]!.e, 9_007_199_254_740_991);
  assert.equal(rows[0]!.f, true);
  assert.deepEqual({ ...rows[1] }, { a: null, b: null, c: [], d: {}, e: 0, f: false });
});

test('a refused load rolls its transaction back and leaves the connection usable; the table is gone at commit', async () => {
  await assert.rejects(
    database.db.transaction().execute((tx) => database.stageRows(tx, 'staging_test', [['b', 'timestamptz']], [['not a time']])),
  );
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_tables where tablename = 'staging_test'`.execute(database.db);
  assert.equal(rows[0]!.n, 0);
});
