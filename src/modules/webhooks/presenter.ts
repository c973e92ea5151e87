import type { WebhookDeliveryRow, WebhookRow } from '../../db/types.js';
import type { WebhookDeliveryOut, WebhookOut } from './schemas.js';

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** A hook without its secret: the secret is added only to the answers that create or rotate it. */
export function presentWebhook(hook: WebhookRow): WebhookOut {
  return {
    id: hook.id,
    url: hook.url,
    events: hook.events as WebhookOut['events'],
    description: hook.description,
    enabled: hook.enabled,
    disabledReason: hook.disabled_reason,
    consecutiveFailures: hook.consecutive_failures,
    ownerId: hook.owner_id,
    createdAt: hook.created_at.toISOString(),
    updatedAt: hook.updated_at.toISOString(),
    lastDeliveryAt: iso(hook.last_delivery_at),
    lastStatus: hook.last_status as WebhookOut['lastStatus'],
  };
}

export function presentDelivery(delivery: WebhookDeliveryRow): WebhookDeliveryOut {
  return {
    id: delivery.id,
    eventId: delivery.event_id,
    eventType: delivery.event_type,
    trigger: delivery.trigger,
    status: delivery.status,
    attempts: delivery.attempts,
    responseStatus: delivery.response_status,
    latencyMs: delivery.latency_ms,
    error: delivery.error,
    requestBody: delivery.request_body,
    responseBody: delivery.response_body,
    createdAt: delivery.created_at.toISOString(),
    deliveredAt: iso(delivery.delivered_at),
  };
}
