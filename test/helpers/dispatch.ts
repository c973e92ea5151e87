import { sql } from 'kysely';
import type { TestApp } from './app.js';
import { eventually } from './eventually.js';

/**
 * Waits until every committed change is visible to the dispatcher, which reads only below the oldest
 * running transaction of the whole server (pg_snapshot_xmin). On a shared PostgreSQL server another
 * database's long transaction (a bulk load, a parallel test file) holds that back for a while; on PGlite
 * it never waits. Waits for the database, not for time: the tests' clock is their own.
 */
export async function settled(t: Pick<TestApp, 'database'>): Promise<void> {
  await eventually(
    async () => {
      const { rows } = await sql<{ visible: boolean }>`
        select coalesce(max(txid) < pg_snapshot_xmin(pg_current_snapshot()), true) as visible from change_log`.execute(t.database.db);
      return rows[0].visible;
    },
    'the change log settled',
    60_000,
  );
}

/** Hands every change written so far to the consumers of ticket history. */
export async function dispatchAll(t: TestApp): Promise<number> {
  await settled(t);
  return t.app.services.dispatcher.dispatch();
}
