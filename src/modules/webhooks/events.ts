import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Tx } from '../../db/database.js';
import type { WebhookDeliveriesTable } from '../../db/types.js';
import type { ServiceContext } from '../../service-context.js';
import { systemActor } from '../access/policy.js';
import { publicTypeOf } from '../dispatch/catalogue.js';
import type { DomainEvent, EventConsumer } from '../dispatch/dispatcher.js';
import type { Outbox } from '../outbox/outbox.js';
import { presentTicket } from '../tickets/presenter.js';
import type { TicketsService } from '../tickets/service.js';
import { eventBody, eventIdOf } from './payload.js';
import { WebhooksRepository } from './repository.js';
import { queueDelivery } from './sender.js';

/** Rows per insert: far below PostgreSQL's 65,535 parameters however many hooks a batch fans out to. */
const insertChunk = 1000;

/** A hook listening to `*` gets every event. */
export const isWildcard = (events: readonly string[]) => events.includes('*');

/**
 * From ticket history to webhook deliveries: every matching event becomes one signed delivery per enabled hook, queued
 * in the dispatcher's transaction (registered with the dispatcher in src/services.ts).
 */
export class WebhookEvents implements EventConsumer {
  readonly name = 'webhooks';
  readonly #clock: Clock;
  readonly #maxAttempts: number;
  readonly #hooks = new WebhooksRepository();
  readonly #outbox: Outbox;
  readonly #tickets: Pick<TicketsService, 'stageIdsOf'>;

  constructor(context: ServiceContext, deps: { outbox: Outbox; tickets: Pick<TicketsService, 'stageIdsOf'> }) {
    ({ outbox: this.#outbox, tickets: this.#tickets } = deps);
    this.#clock = context.clock;
    this.#maxAttempts = context.config.webhooks.maxAttempts;
  }

  /** Queues one delivery per (matching hook, event), in the dispatcher's transaction. */
  async handle(tx: Tx, events: readonly DomainEvent[]): Promise<void> {
    const hooks = await this.#hooks.enabled(tx);
    if (hooks.length === 0) return;
    const wanted = events.flatMap((event) => {
      const type = publicTypeOf(event);
      const to = type === null ? [] : hooks.filter((hook) => isWildcard(hook.events) || hook.events.includes(type));
      return to.length > 0 ? [{ event, type: type!, to }] : [];
    });
    if (wanted.length === 0) return;
    const ticketIds = [...new Set(wanted.flatMap(({ event }) => (event.kind === 'history' ? [event.ticket.id] : [])))];
    const stageIds = await this.#tickets.stageIdsOf(tx, ticketIds);
    const now = this.#clock.now();
    const rows = wanted.flatMap(({ event, type, to }) => {
      const body = JSON.stringify(eventBody(event, type, this.#presentTicket(event, stageIds, now)));
      return to.map((hook): Insertable<WebhookDeliveriesTable> => ({
        id: randomUUID(),
        webhook_id: hook.id,
        event_id: eventIdOf(event),
        event_type: type,
        trigger: 'event',
        request_body: body,
        created_at: now,
        updated_at: now,
      }));
    });
    for (let start = 0; start < rows.length; start += insertChunk) {
      for (const row of await this.#hooks.insertDeliveries(tx, rows.slice(start, start + insertChunk))) {
        await queueDelivery(this.#outbox, tx, row, this.#maxAttempts);
      }
    }
  }

  /** The ticket as the /api face shows it to an admin (webhooks receive internal fields too; `visibility` says which events are). */
  #presentTicket(event: DomainEvent, stageIds: Map<string, string[]>, now: Date) {
    if (event.kind !== 'history') return null;
    return presentTicket({ ...event.ticket, stage_ids: stageIds.get(event.ticket.id) ?? [], evaluated_at: now }, systemActor);
  }
}
