import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { WebhooksConfig } from '../../config.js';
import type { Db } from '../../db/database.js';
import type { WebhookDeliveryRow, WebhookRow } from '../../db/types.js';
import { invalid, notFound, type ErrorDetail } from '../../errors.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, type Actor } from '../access/policy.js';
import type { AuditLog } from '../audit/service.js';
import { randomSecret } from '../auth/secrets.js';
import type { Outbox } from '../outbox/outbox.js';
import { urlProblem } from './address.js';
import { isWildcard } from './events.js';
import { pingBody } from './payload.js';
import { WebhooksRepository } from './repository.js';
import type { WebhookCreateBody, WebhookPatchBody } from './schemas.js';
import { queueDelivery } from './sender.js';

/** Pings and redeliveries are an admin trying something now: one attempt, and its failure does not count against the hook. */
const manualAttempts = 1;

/**
 * Outgoing webhooks, administered: admins register URLs for event types, read each delivery's exchange, redeliver
 * and ping. Ticket events become deliveries in `WebhookEvents` (events.ts); `WebhookSender` (sender.ts) sends them.
 */
export class WebhooksService {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #config: WebhooksConfig;
  readonly #hooks = new WebhooksRepository();
  readonly #outbox: Outbox;
  readonly #audit: AuditLog;

  constructor(context: ServiceContext, deps: { outbox: Outbox; audit: AuditLog }) {
    ({ outbox: this.#outbox, audit: this.#audit } = deps);
    this.#db = context.database.db;
    this.#clock = context.clock;
    this.#config = context.config.webhooks;
  }

  list(actor: Actor, limit: number, cursor: string | undefined) {
    assertCan(actor, 'webhook:read');
    return this.#hooks.list(this.#db, limit, cursor);
  }

  async get(actor: Actor, id: string): Promise<WebhookRow> {
    assertCan(actor, 'webhook:read');
    return (await this.#hooks.find(this.#db, id)) ?? notFound('webhook', id);
  }

  #check(fields: { url?: string; events?: readonly string[] }): void {
    const problems: ErrorDetail[] = [];
    const urlWrong = fields.url === undefined ? null : urlProblem(fields.url, this.#config.allowPrivate);
    if (urlWrong) problems.push({ field: 'url', problem: urlWrong });
    if (fields.events && isWildcard(fields.events) && fields.events.length > 1) {
      problems.push({ field: 'events', problem: "'*' means every event and stands alone" });
    }
    if (problems.length > 0) invalid(problems);
  }

  /** Returns the hook and its secret: the one time the secret is shown. */
  async create(actor: Actor, body: WebhookCreateBody): Promise<{ hook: WebhookRow; secret: string }> {
    assertCan(actor, 'webhook:manage');
    this.#check(body);
    const secret = body.secret ?? newSecret();
    const now = this.#clock.now();
    const hook = await this.#db.transaction().execute(async (tx) => {
      const hook = await this.#hooks.insert(tx, {
        id: randomUUID(),
        url: body.url,
        events: [...body.events],
        description: body.description ?? '',
        enabled: body.enabled ?? true,
        secret,
        owner_id: actor.id,
        created_at: now,
        updated_at: now,
      });
      await this.#audit.record(tx, {
        actor,
        action: 'webhook.created',
        target: { type: 'webhook', id: hook.id },
        details: auditable(hook),
      });
      return hook;
    });
    return { hook, secret };
  }

  /** Returns the new secret only when it was rotated. Enabling a hook again also forgets its failures. */
  async update(actor: Actor, id: string, body: WebhookPatchBody): Promise<{ hook: WebhookRow; secret?: string }> {
    assertCan(actor, 'webhook:manage');
    this.#check(body);
    const secret = body.rotateSecret ? newSecret() : undefined;
    const hook = await this.#db.transaction().execute(async (tx) => {
      const current = (await this.#hooks.lock(tx, id)) ?? notFound('webhook', id);
      const enabling = body.enabled === true && !current.enabled;
      const hook = await this.#hooks.update(tx, id, {
        ...(body.url !== undefined ? { url: body.url } : {}),
        ...(body.events !== undefined ? { events: [...body.events] } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
        ...(enabling ? { consecutive_failures: 0, disabled_reason: null } : {}),
        ...(secret ? { secret } : {}),
        updated_at: this.#clock.now(),
      });
      await this.#audit.record(tx, {
        actor,
        action: 'webhook.updated',
        target: { type: 'webhook', id },
        details: { ...auditable(hook), secretRotated: secret !== undefined },
      });
      return hook;
    });
    return secret ? { hook, secret } : { hook };
  }

  async remove(actor: Actor, id: string): Promise<WebhookRow> {
    assertCan(actor, 'webhook:manage');
    return this.#db.transaction().execute(async (tx) => {
      const hook = (await this.#hooks.lock(tx, id)) ?? notFound('webhook', id);
      // Its deliveries go with it; their queued jobs find nothing to send and end.
      await this.#hooks.delete(tx, id);
      await this.#audit.record(tx, { actor, action: 'webhook.deleted', target: { type: 'webhook', id }, details: auditable(hook) });
      return hook;
    });
  }

  async deliveries(actor: Actor, id: string, limit: number, cursor: string | undefined) {
    await this.get(actor, id);
    return this.#hooks.deliveries(this.#db, id, limit, cursor);
  }

  /** Sends a delivery's event again, as a new delivery with the same event id and body. */
  async redeliver(actor: Actor, id: string, deliveryId: string): Promise<WebhookDeliveryRow> {
    assertCan(actor, 'webhook:manage');
    const hook = await this.get(actor, id);
    const original = (await this.#hooks.findDelivery(this.#db, id, deliveryId)) ?? notFound('delivery', deliveryId);
    return this.#queueManual(actor, hook, 'redelivery', original.event_id, original.event_type, original.request_body);
  }

  /** Sends a `ping` event (even to a disabled hook: that is how an admin checks it before enabling it again). */
  async ping(actor: Actor, id: string): Promise<WebhookDeliveryRow> {
    assertCan(actor, 'webhook:manage');
    const hook = await this.get(actor, id);
    const eventId = `evt_ping_${randomUUID()}`;
    const body = JSON.stringify(pingBody(eventId, hook, { id: actor.id, name: actor.name }, this.#clock.now()));
    return this.#queueManual(actor, hook, 'ping', eventId, 'ping', body);
  }

  async #queueManual(
    actor: Actor,
    hook: WebhookRow,
    trigger: 'ping' | 'redelivery',
    eventId: string,
    eventType: string,
    body: string,
  ): Promise<WebhookDeliveryRow> {
    const now = this.#clock.now();
    const delivery = await this.#db.transaction().execute(async (tx) => {
      const [row] = await this.#hooks.insertDeliveries(tx, [
        {
          id: randomUUID(),
          webhook_id: hook.id,
          event_id: eventId,
          event_type: eventType,
          trigger,
          request_body: body,
          created_at: now,
          updated_at: now,
        },
      ]);
      await queueDelivery(this.#outbox, tx, row, manualAttempts);
      await this.#audit.record(tx, {
        actor,
        action: trigger === 'ping' ? 'webhook.pinged' : 'webhook.redelivered',
        target: { type: 'webhook', id: hook.id },
        details: { delivery: row.id, event: eventId },
      });
      return row;
    });
    this.#outbox.nudge();
    return delivery;
  }
}

function newSecret(): string {
  return `whsec_${randomSecret(24)}`;
}

/** What the audit log keeps of a hook: never its secret. */
function auditable(hook: WebhookRow): Record<string, unknown> {
  return { url: hook.url, events: hook.events, enabled: hook.enabled };
}
