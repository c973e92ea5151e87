import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Clock } from '../../clock.js';
import type { WebhooksConfig } from '../../config.js';
import type { Db, Tx } from '../../db/database.js';
import type { WebhookDeliveriesTable, WebhookDeliveryRow, WebhookRow } from '../../db/types.js';
import { invalid, notFound, type ErrorDetail } from '../../errors.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, systemActor, type Actor } from '../access/policy.js';
import type { AuditLog } from '../audit/service.js';
import { escapeHtml } from '../notifications/html.js';
import type { Mailer } from '../notifications/mailer.js';
import { randomSecret } from '../auth/secrets.js';
import { publicTypeOf } from '../dispatch/catalogue.js';
import type { DomainEvent, EventConsumer } from '../dispatch/dispatcher.js';
import type { Delivery, Outbox, OutboxJob, Recorded } from '../outbox/outbox.js';
import { presentTicket } from '../tickets/presenter.js';
import type { TicketsService } from '../tickets/service.js';
import { urlProblem } from './address.js';
import { WebhookClient, type Call } from './client.js';
import { webhookMetrics, type AttemptOutcome, type WebhookMetrics } from './metrics.js';
import { eventBody, eventIdOf, pingBody } from './payload.js';
import { WebhooksRepository } from './repository.js';
import type { WebhookCreateBody, WebhookPatchBody } from './schemas.js';
import { signatureHeader, signPayload } from './signature.js';

export const webhookKind = 'webhook';

type DeliveryJob = { deliveryId: string; webhookId: string };
/** What an attempt learnt, for `record`: the HTTP exchange (null when none was made) and how it ended. */
type AttemptContext = { call: Call | null; outcome: AttemptOutcome; trigger: WebhookDeliveryRow['trigger'] };

/** Rows per insert: far below PostgreSQL's 65,535 parameters however many hooks a batch fans out to. */
const insertChunk = 1000;

/** Pings and redeliveries are an admin trying something now: one attempt, and its failure does not count against the hook. */
const manualAttempts = 1;

const isWildcard = (events: readonly string[]) => events.includes('*');

/**
 * Outgoing webhooks: admins register URLs for event types; every matching ticket event becomes one signed
 * delivery per hook, queued in the dispatcher's transaction and sent through the outbox with retries.
 */
export class WebhooksService implements EventConsumer {
  readonly name = 'webhooks';
  readonly client: WebhookClient;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #config: WebhooksConfig;
  readonly #hooks = new WebhooksRepository();
  readonly #metrics: WebhookMetrics;

  private readonly outbox: Outbox;
  private readonly audit: AuditLog;
  private readonly mailer: Mailer;
  private readonly tickets: Pick<TicketsService, 'stageIdsOf'>;

  constructor(
    context: ServiceContext,
    deps: { outbox: Outbox; audit: AuditLog; mailer: Mailer; tickets: Pick<TicketsService, 'stageIdsOf'> },
  ) {
    ({ outbox: this.outbox, audit: this.audit, mailer: this.mailer, tickets: this.tickets } = deps);
    this.#db = context.database.db;
    this.#clock = context.clock;
    this.#config = context.config.webhooks;
    this.#metrics = webhookMetrics(context.metrics);
    this.client = new WebhookClient(this.#config.timeoutMs, this.#config.allowPrivate);
    this.outbox.register<DeliveryJob, { status: number }, AttemptContext>(webhookKind, {
      deliver: (job) => this.#deliver(job),
      record: (tx, job, delivery, recorded) => this.#record(tx, job, delivery, recorded),
      backoff: { baseMs: this.#config.retryBaseMs, maxMs: this.#config.retryMaxMs },
    });
  }

  // ── Administration ──────────────────────────────────────────────────────────────────────────

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
      await this.audit.record(tx, { actor, action: 'webhook.created', target: { type: 'webhook', id: hook.id }, details: auditable(hook) });
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
      await this.audit.record(tx, {
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
      await this.audit.record(tx, { actor, action: 'webhook.deleted', target: { type: 'webhook', id }, details: auditable(hook) });
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
      await this.#enqueue(tx, row, manualAttempts);
      await this.audit.record(tx, {
        actor,
        action: trigger === 'ping' ? 'webhook.pinged' : 'webhook.redelivered',
        target: { type: 'webhook', id: hook.id },
        details: { delivery: row.id, event: eventId },
      });
      return row;
    });
    this.outbox.nudge();
    return delivery;
  }

  // ── From ticket history to deliveries ───────────────────────────────────────────────────────

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
    const stageIds = await this.tickets.stageIdsOf(tx, ticketIds);
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
        await this.#enqueue(tx, row, this.#config.maxAttempts);
      }
    }
  }

  /** The ticket as the /api face shows it to an admin (webhooks receive internal fields too; `visibility` says which events are). */
  #presentTicket(event: DomainEvent, stageIds: Map<string, string[]>, now: Date) {
    if (event.kind !== 'history') return null;
    return presentTicket({ ...event.ticket, stage_ids: stageIds.get(event.ticket.id) ?? [], evaluated_at: now }, systemActor);
  }

  async #enqueue(tx: Tx, delivery: WebhookDeliveryRow, maxAttempts: number): Promise<void> {
    await this.outbox.enqueue<DeliveryJob>(tx, {
      kind: webhookKind,
      payload: { deliveryId: delivery.id, webhookId: delivery.webhook_id },
      dedupeKey: delivery.id,
      maxAttempts,
    });
  }

  // ── Sending ─────────────────────────────────────────────────────────────────────────────────

  /**
   * One attempt. 2xx is delivered; 410 Gone fails at once and disables the hook; every other answer, a
   * timeout or a refused connection is retried (as Stripe does: a receiver's 401 or 404 is often a deploy
   * or configuration fixed within the hour). A name resolving to a blocked address is not retried.
   */
  async #deliver(job: OutboxJob<DeliveryJob>): Promise<Delivery<{ status: number }, AttemptContext>> {
    const found = await this.#hooks.deliveryWithHook(this.#db, job.payload.deliveryId);
    if (!found) return { ok: false, error: 'the webhook was deleted', retryable: false };
    const { delivery, hook } = found;
    if (!hook.enabled && delivery.trigger === 'event') {
      return {
        ok: false,
        error: 'the webhook is disabled',
        retryable: false,
        context: { call: null, outcome: 'disabled', trigger: 'event' },
      };
    }
    const timestamp = Math.floor(this.#clock.now().getTime() / 1000);
    const call = await this.client.post(hook.url, delivery.request_body, {
      'content-type': 'application/json',
      'user-agent': 'Stageline-Webhooks/1',
      [signatureHeader]: signPayload(hook.secret, timestamp, delivery.request_body),
      'stageline-event': delivery.event_type,
      'stageline-delivery': delivery.id,
    });
    const context = (outcome: AttemptOutcome): AttemptContext => ({ call, outcome, trigger: delivery.trigger });
    if (call.failure) {
      return { ok: false, error: call.error ?? call.failure, retryable: call.failure !== 'blocked', context: context(call.failure) };
    }
    const status = call.status!;
    if (status >= 200 && status < 300) return { ok: true, result: { status }, context: context('delivered') };
    if (status === 410) return { ok: false, error: 'the receiver answered 410 Gone', retryable: false, context: context('gone') };
    return { ok: false, error: `the receiver answered ${status}`, retryable: true, context: context('http_error') };
  }

  async #record(
    tx: Tx,
    job: OutboxJob<DeliveryJob>,
    delivery: Delivery<{ status: number }, AttemptContext>,
    recorded: Recorded,
  ): Promise<void> {
    // No context: the attempt never got as far as the receiver (the hook is gone, or the handler failed).
    const context = delivery.context;
    const now = this.#clock.now();
    const status = recorded.state === 'done' ? 'delivered' : recorded.state === 'retrying' ? 'retrying' : 'failed';
    if (context) this.#metrics.attempt(context.outcome);
    if (status !== 'retrying') this.#metrics.finished(status);
    await this.#hooks.updateDelivery(tx, job.payload.deliveryId, {
      status,
      attempts: job.attempts,
      response_status: context?.call?.status ?? null,
      response_body: context?.call?.body ?? null,
      latency_ms: context?.call?.latencyMs ?? null,
      error: delivery.ok ? null : delivery.error,
      updated_at: now,
      ...(status === 'delivered' ? { delivered_at: now } : {}),
    });
    if (!context || context.outcome === 'disabled') return;
    const hook = await this.#hooks.lock(tx, job.payload.webhookId);
    if (!hook) return;
    const seen = { last_delivery_at: now, last_status: status };
    if (status === 'delivered') {
      await this.#hooks.update(tx, hook.id, { ...seen, consecutive_failures: 0 });
    } else if (context.outcome === 'gone') {
      await this.#disable(tx, hook, `the receiver answered 410 Gone at ${now.toISOString()}`, seen);
    } else if (status === 'failed' && context.trigger === 'event') {
      const failures = await this.#hooks.countFailure(tx, hook.id, now, status);
      if (failures >= this.#config.maxFailures && hook.enabled) {
        await this.#disable(tx, hook, `${failures} deliveries in a row failed (WEBHOOK_MAX_FAILURES=${this.#config.maxFailures})`, seen);
      }
    } else {
      await this.#hooks.update(tx, hook.id, seen);
    }
  }

  async #disable(tx: Tx, hook: WebhookRow, reason: string, seen: { last_delivery_at: Date; last_status: string }): Promise<void> {
    if (!hook.enabled) {
      await this.#hooks.update(tx, hook.id, seen);
      return;
    }
    await this.#hooks.update(tx, hook.id, { ...seen, enabled: false, disabled_reason: reason, updated_at: this.#clock.now() });
    await this.audit.record(tx, {
      actor: systemActor,
      action: 'webhook.disabled',
      target: { type: 'webhook', id: hook.id },
      details: { url: hook.url, reason },
    });
    await this.#tellOwner(tx, hook, reason);
  }

  /** Mails the admin who created the hook; a hook whose owner is gone is only in the audit log. */
  async #tellOwner(tx: Tx, hook: WebhookRow, reason: string): Promise<void> {
    const owner = hook.owner_id === null ? undefined : await this.#hooks.ownerEmail(tx, hook.owner_id);
    if (!owner) return;
    const text =
      `Stageline stopped sending events to the webhook ${hook.url} because ${reason}.\n\n` +
      'Events that happen while it is disabled are not queued for it. Fix the receiver, send a ping to check it, ' +
      `then enable the hook again (PATCH /api/webhooks/${hook.id} with {"enabled": true}) and redeliver what it missed.`;
    await this.mailer.queue(tx, {
      to: owner.email,
      subject: `Webhook disabled: ${hook.url}`,
      text,
      html: `<p>${escapeHtml(text).replace(/\n\n/g, '</p><p>')}</p>`,
      reason: 'you created this webhook',
      userId: owner.id,
      dedupeKey: `webhook-disabled:${hook.id}:${this.#clock.now().toISOString()}`,
    });
  }
}

function newSecret(): string {
  return `whsec_${randomSecret(24)}`;
}

/** What the audit log keeps of a hook: never its secret. */
function auditable(hook: WebhookRow): Record<string, unknown> {
  return { url: hook.url, events: hook.events, enabled: hook.enabled };
}
