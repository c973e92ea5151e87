import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';

export type ChangeCursor = { txid: string; id: number };

export type Change = {
  id: number;
  txid: string;
  entity: string;
  op: string;
  entity_id: string;
  ticket_id: string | null;
  project_id: string | null;
  created_at: Date;
};

export type ChangeFilter = { projectId?: string | null; historyAndDeletions?: boolean };

export class ChangesRepository {
  /**
   * Changes after the cursor in commit-safe order: by (txid, id), and only from transactions older than
   * the oldest one still running — a later read can then never turn up a change that sorts before one
   * already delivered, so nothing is skipped however commits interleave. `historyAndDeletions` keeps only
   * what consumers of ticket history take (new history rows, deleted tickets).
   */
  async after(db: Executor, cursor: ChangeCursor, filter: ChangeFilter, limit: number): Promise<Change[]> {
    const { rows } = await sql<Change>`
      select c.id, c.txid::text as txid, c.entity, c.op, c.entity_id, c.ticket_id, c.project_id, c.created_at
      from change_log c
      where (c.txid, c.id) > (${cursor.txid}::xid8, ${cursor.id}::bigint)
        and c.txid < pg_snapshot_xmin(pg_current_snapshot())
        ${filter.projectId ? sql`and c.project_id = ${filter.projectId}` : sql``}
        ${filter.historyAndDeletions ? sql`and ((c.entity = 'history' and c.op = 'insert') or (c.entity = 'ticket' and c.op = 'delete'))` : sql``}
      order by c.txid, c.id
      limit ${limit}`.execute(db);
    return rows.map((row) => ({ ...row, id: Number(row.id) }));
  }

  /** Where a new stream starts: just before anything not yet final. */
  async head(db: Executor): Promise<ChangeCursor> {
    const { rows } = await sql<{ xmin: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`.execute(db);
    // (xmin, 0) precedes every change of xmin and later transactions; earlier ones are all final and old.
    return { txid: (BigInt(rows[0].xmin) - 1n).toString(), id: Number.MAX_SAFE_INTEGER };
  }

  /** Drops changes older than `before` (a resumed stream older than that starts from what is left). */
  async prune(db: Executor, before: Date): Promise<number> {
    const result = await db
      .deleteFrom('change_log')
      .where(sql<boolean>`created_at < ${before}`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
