import { sql, type Insertable, type Updateable } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import { keysetPage } from '../../db/keyset.js';
import type { WebhookDeliveriesTable, WebhookDeliveryRow, WebhookRow, WebhooksTable } from '../../db/types.js';

const byCreation = [
  { column: 'created_at', kind: 'timestamp' },
  { column: 'id', kind: 'text' },
] as const;

export class WebhooksRepository {
  find(db: Executor, id: string): Promise<WebhookRow | undefined> {
    return db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  lock(tx: Tx, id: string): Promise<WebhookRow | undefined> {
    return tx.selectFrom('webhooks').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  }

  insert(tx: Tx, row: Insertable<WebhooksTable>): Promise<WebhookRow> {
    return tx.insertInto('webhooks').values(row).returningAll().executeTakeFirstOrThrow();
  }

  update(tx: Tx, id: string, changes: Updateable<WebhooksTable>): Promise<WebhookRow> {
    return tx.updateTable('webhooks').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.deleteFrom('webhooks').where('id', '=', id).execute();
  }

  /** Oldest first, so a new hook lands at the end of the admin's list. */
  list(db: Executor, limit: number, cursor: string | undefined) {
    return keysetPage<WebhookRow>(db.selectFrom('webhooks').selectAll(), byCreation, false, limit, cursor);
  }

  /** The hooks events go to now; the table holds a handful of rows, read once per dispatched batch. */
  enabled(db: Executor): Promise<WebhookRow[]> {
    return db.selectFrom('webhooks').selectAll().where('enabled', '=', true).execute();
  }

  /** Inserts the deliveries; an event already queued for a hook is skipped (unique index). Returns the new rows. */
  async insertDeliveries(tx: Tx, rows: Insertable<WebhookDeliveriesTable>[]): Promise<WebhookDeliveryRow[]> {
    if (rows.length === 0) return [];
    return tx
      .insertInto('webhook_deliveries')
      .values(rows)
      .onConflict((conflict) => conflict.columns(['webhook_id', 'event_id']).where('trigger', '=', 'event').doNothing())
      .returningAll()
      .execute();
  }

  findDelivery(db: Executor, webhookId: string, id: string): Promise<WebhookDeliveryRow | undefined> {
    return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).where('webhook_id', '=', webhookId).executeTakeFirst();
  }

  /** A delivery with its hook, for an attempt. */
  async deliveryWithHook(db: Executor, id: string): Promise<{ delivery: WebhookDeliveryRow; hook: WebhookRow } | undefined> {
    const delivery = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    if (!delivery) return undefined;
    const hook = await this.find(db, delivery.webhook_id);
    return hook && { delivery, hook };
  }

  async updateDelivery(tx: Tx, id: string, changes: Updateable<WebhookDeliveriesTable>): Promise<void> {
    await tx.updateTable('webhook_deliveries').set(changes).where('id', '=', id).execute();
  }

  /** A hook's deliveries, newest first. */
  deliveries(db: Executor, webhookId: string, limit: number, cursor: string | undefined) {
    const query = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
    return keysetPage<WebhookDeliveryRow>(query, byCreation, true, limit, cursor);
  }

  /** Counts a failed delivery against the hook; returns the new count. */
  async countFailure(tx: Tx, id: string, now: Date, lastStatus: string): Promise<number> {
    const row = await tx
      .updateTable('webhooks')
      .set({ consecutive_failures: sql`consecutive_failures + 1`, last_delivery_at: now, last_status: lastStatus })
      .where('id', '=', id)
      .returning('consecutive_failures')
      .executeTakeFirst();
    return row?.consecutive_failures ?? 0;
  }

  ownerEmail(db: Executor, ownerId: string): Promise<{ id: string; email: string; name: string } | undefined> {
    return db.selectFrom('users').select(['id', 'email', 'name']).where('id', '=', ownerId).executeTakeFirst();
  }
}
