import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { keysetPage, type SortKey } from '../../db/keyset.js';
import type { MailDeliveryRow, MailDigestItemRow, MailStatus } from '../../db/types.js';

export type NewDelivery = Omit<MailDeliveryRow, 'attempts' | 'smtp_response' | 'error' | 'sent_at' | 'ticket_number' | 'updated_at'>;

export type NewDigestItem = Omit<MailDigestItemRow, 'id'>;

export type DeliveryFilters = { status?: MailStatus; to?: string };

const newestFirst = [
  { column: 'created_at', kind: 'timestamp' },
  { column: 'id', kind: 'text' },
] as const satisfies readonly SortKey[];

/** Mail kept and sent, mail waiting for a digest, addresses that want no more of it. */
export class MailRepository {
  /** Inserts the delivery with its ticket's number; undefined when this address already got this event. */
  async insertDelivery(db: Executor, delivery: NewDelivery): Promise<MailDeliveryRow | undefined> {
    return db
      .insertInto('mail_deliveries')
      .values((eb) => ({
        ...delivery,
        headers: JSON.stringify(delivery.headers),
        ticket_number: delivery.ticket_id === null ? null : eb.selectFrom('tickets').select('number').where('id', '=', delivery.ticket_id),
        updated_at: delivery.created_at,
      }))
      .onConflict((conflict) => conflict.columns(['to_address', 'dedupe_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  async findDeliveryByKey(db: Executor, address: string, dedupeKey: string): Promise<MailDeliveryRow | undefined> {
    return db
      .selectFrom('mail_deliveries')
      .selectAll()
      .where('to_address', '=', address)
      .where('dedupe_key', '=', dedupeKey)
      .executeTakeFirst();
  }

  async findDelivery(db: Executor, id: string): Promise<MailDeliveryRow | undefined> {
    return db.selectFrom('mail_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async recordAttempt(
    db: Executor,
    id: string,
    outcome: { status: MailStatus; attempts: number; smtpResponse: string | null; error: string | null; sentAt: Date | null },
    now: Date,
  ): Promise<void> {
    await db
      .updateTable('mail_deliveries')
      .set({
        status: outcome.status,
        attempts: outcome.attempts,
        smtp_response: outcome.smtpResponse,
        error: outcome.error,
        sent_at: outcome.sentAt,
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
  }

  listDeliveries(db: Executor, filters: DeliveryFilters, limit: number, cursor: string | undefined) {
    let query = db.selectFrom('mail_deliveries').selectAll();
    if (filters.status) query = query.where('status', '=', filters.status);
    if (filters.to) query = query.where('to_address', '=', filters.to);
    return keysetPage(query, newestFirst, true, limit, cursor);
  }

  async isSuppressed(db: Executor, address: string, event: string): Promise<boolean> {
    const row = await db
      .selectFrom('mail_suppressions')
      .select('event')
      .where('address', '=', address)
      .where('event', 'in', [event, '*'])
      .executeTakeFirst();
    return row !== undefined;
  }

  /** What each of these addresses turned off: event types, or '*' for all mail. */
  async suppressionsOf(db: Executor, addresses: readonly string[]): Promise<Map<string, Set<string>>> {
    const byAddress = new Map<string, Set<string>>();
    if (addresses.length === 0) return byAddress;
    const rows = await db.selectFrom('mail_suppressions').select(['address', 'event']).where('address', 'in', addresses).execute();
    for (const row of rows) byAddress.set(row.address, (byAddress.get(row.address) ?? new Set()).add(row.event));
    return byAddress;
  }

  async suppress(db: Executor, address: string, event: string, now: Date): Promise<void> {
    await db
      .insertInto('mail_suppressions')
      .values({ address, event, created_at: now })
      .onConflict((conflict) => conflict.columns(['address', 'event']).doNothing())
      .execute();
  }

  async storedSecret(db: Executor): Promise<string> {
    const row = await db.selectFrom('notification_keys').select('secret').where('name', '=', 'unsubscribe').executeTakeFirstOrThrow();
    return row.secret;
  }

  /** Adds the item unless this address already has this event waiting; true when added. */
  async insertDigestItem(db: Executor, item: NewDigestItem): Promise<boolean> {
    const row = await db
      .insertInto('mail_digest_items')
      .values(item)
      .onConflict((conflict) => conflict.columns(['to_address', 'dedupe_key']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Takes every item of the address due by `dueAt`, oldest first. */
  async takeDigestItems(db: Executor, address: string, dueAt: Date): Promise<MailDigestItemRow[]> {
    const { rows } = await sql<MailDigestItemRow>`
      with taken as (delete from mail_digest_items where to_address = ${address} and due_at <= ${dueAt} returning *)
      select * from taken order by created_at, id`.execute(db);
    return rows;
  }

  /** Holds the open outbox job until this transaction ends, so its worker cannot finish it under us; false when it is no longer open. */
  async holdOpenJob(db: Executor, jobId: number): Promise<boolean> {
    const row = await db
      .selectFrom('outbox')
      .select('id')
      .where('id', '=', jobId)
      .where('state', '=', 'pending')
      .forUpdate()
      .executeTakeFirst();
    return row !== undefined;
  }
}
