import { sql } from 'kysely';
import { setTimeout as pause } from 'node:timers/promises';
import type { TestApp } from '../../helpers/app.js';

/**
 * Waits until every committed change is visible to the dispatcher, which reads only below the oldest
 * running transaction (pg_snapshot_xmin). On a shared PostgreSQL server another database's long
 * transaction (a bulk load) holds that back for a while; on PGlite it never waits.
 */
export async function settled(t: TestApp): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const { rows } = await sql<{ visible: boolean }>`
      select coalesce(max(txid) < pg_snapshot_xmin(pg_current_snapshot()), true) as visible from change_log`.execute(t.database.db);
    if (rows[0].visible) return;
    await pause(20);
  }
  throw new Error('the change log did not settle within a minute');
}

/** Hands the history to its consumers and delivers every due mail. */
export async function deliver(t: TestApp): Promise<void> {
  await settled(t);
  await t.app.services.dispatcher.dispatch();
  while ((await t.app.services.outbox.runDue()) > 0);
}
