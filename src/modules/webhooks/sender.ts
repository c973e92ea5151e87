import type { Clock } from '../../clock.js';
import type { WebhooksConfig } from '../../config.js';
import type { Db, Executor, Tx } from '../../db/database.js';
import type { WebhookDeliveryRow, WebhookRow } from '../../db/types.js';
import type { ServiceContext } from '../../service-context.js';
import { systemActor } from '../access/policy.js';
import type { AuditLog } from '../audit/service.js';
import { escapeHtml } from '../notifications/html.js';
import type { Mailer } from '../notifications/mailer.js';
import type { Delivery, Outbox, OutboxHandler, OutboxJob, Recorded } from '../outbox/outbox.js';
import { WebhookClient, type Call } from './client.js';
import { webhookMetrics, type AttemptOutcome, type WebhookMetrics } from './metrics.js';
import { WebhooksRepository } from './repository.js';
import { signatureHeader, signPayload } from './signature.js';

export const webhookKind = 'webhook';

type DeliveryJob = { deliveryId: string; webhookId: string };
/** What an attempt learnt, for `record`: the HTTP exchange (null when none was made) and how it ended. */
type AttemptContext = { call: Call | null; outcome: AttemptOutcome; trigger: WebhookDeliveryRow['trigger'] };

/** Queues a delivery row for the sender, in the caller's transaction (an event's fan-out, a ping, a redelivery). */
export async function queueDelivery(outbox: Outbox, tx: Executor, delivery: WebhookDeliveryRow, maxAttempts: number): Promise<void> {
  await outbox.enqueue<DeliveryJob>(tx, {
    kind: webhookKind,
    payload: { deliveryId: delivery.id, webhookId: delivery.webhook_id },
    dedupeKey: delivery.id,
    maxAttempts,
  });
}

/**
 * The outbox's handler of webhook deliveries: one signed attempt, its outcome on the delivery row and the hook, and a
 * hook that keeps failing disabled (audited, its owner mailed). Registered with the outbox in src/services.ts.
 */
export class WebhookSender implements OutboxHandler<DeliveryJob, { status: number }, AttemptContext> {
  readonly client: WebhookClient;
  readonly backoff: { baseMs: number; maxMs: number };
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #config: WebhooksConfig;
  readonly #hooks = new WebhooksRepository();
  readonly #metrics: WebhookMetrics;
  readonly #audit: AuditLog;
  readonly #mailer: Mailer;

  constructor(context: ServiceContext, deps: { audit: AuditLog; mailer: Mailer }) {
    ({ audit: this.#audit, mailer: this.#mailer } = deps);
    this.#db = context.database.db;
    this.#clock = context.clock;
    this.#config = context.config.webhooks;
    this.#metrics = webhookMetrics(context.metrics);
    this.client = new WebhookClient(this.#config.timeoutMs, this.#config.allowPrivate);
    this.backoff = { baseMs: this.#config.retryBaseMs, maxMs: this.#config.retryMaxMs };
  }

  /**
   * One attempt. 2xx is delivered; 410 Gone fails at once and disables the hook; every other answer, a
   * timeout or a refused connection is retried (as Stripe does: a receiver's 401 or 404 is often a deploy
   * or configuration fixed within the hour). A name resolving to a blocked address is not retried.
   */
  async deliver(job: OutboxJob<DeliveryJob>): Promise<Delivery<{ status: number }, AttemptContext>> {
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

  async record(
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
    await this.#audit.record(tx, {
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
    await this.#mailer.queue(tx, {
      to: owner.email,
      subject: `Webhook disabled: ${hook.url}`,
      text,
      html: `<p>${escapeHtml(text).replace(/\n\n/g, '</p><p>')}</p>`,
      reason: 'you created this webhook',
      userId: owner.id,
      dedupeKey: `webhook-disabled:${hook.id}:${this.#clock.now().toISOString()}`,
    });
  }

  /** The client's connections; the background jobs (src/jobs/) are stopped before this. */
  async close(): Promise<void> {
    await this.client.close();
  }
}
