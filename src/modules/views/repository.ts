import { sql } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import { keysetPage } from '../../db/keyset.js';
import type { SavedViewRow, SavedViewsTable } from '../../db/types.js';
import type { Insertable, Updateable } from 'kysely';

export class ViewsRepository {
  findById(db: Executor, id: string): Promise<SavedViewRow | undefined> {
    return db.selectFrom('saved_views').selectAll().where('id', '=', id).executeTakeFirst();
  }

  lock(tx: Tx, id: string): Promise<SavedViewRow | undefined> {
    return tx.selectFrom('saved_views').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  }

  insert(tx: Tx, row: Insertable<SavedViewsTable>): Promise<SavedViewRow> {
    return tx.insertInto('saved_views').values(row).returningAll().executeTakeFirstOrThrow();
  }

  update(tx: Tx, id: string, changes: Updateable<SavedViewsTable>): Promise<SavedViewRow> {
    return tx
      .updateTable('saved_views')
      .set({ ...changes, version: sql`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.deleteFrom('saved_views').where('id', '=', id).execute();
  }

  /** The caller's own views and everybody's shared ones, oldest first. */
  listVisible(db: Executor, ownerId: string | null, limit: number, cursor: string | undefined) {
    const query = db
      .selectFrom('saved_views')
      .selectAll()
      .where((eb) => (ownerId === null ? eb('shared', '=', true) : eb.or([eb('owner_id', '=', ownerId), eb('shared', '=', true)])));
    return keysetPage<SavedViewRow>(
      query,
      [
        { column: 'created_at', kind: 'timestamp' },
        { column: 'id', kind: 'text' },
      ],
      false,
      limit,
      cursor,
    );
  }
}
