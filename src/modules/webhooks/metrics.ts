import { Counter, type Registry } from 'prom-client';

export type AttemptOutcome = 'delivered' | 'http_error' | 'gone' | 'timeout' | 'connection' | 'blocked' | 'disabled';

/** Webhook metrics on the app's registry: finished deliveries by outcome, and every attempt by result. */
export function webhookMetrics(registry: Registry) {
  const deliveries = new Counter({
    name: 'stageline_webhook_deliveries_total',
    help: 'Webhook deliveries finished, by outcome (delivered, failed)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'stageline_webhook_attempts_total',
    help: 'Webhook delivery attempts, by result (delivered, http_error, gone, timeout, connection, blocked, disabled)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return {
    attempt(outcome: AttemptOutcome) {
      attempts.inc({ outcome });
    },
    finished(outcome: 'delivered' | 'failed') {
      deliveries.inc({ outcome });
    },
  };
}

export type WebhookMetrics = ReturnType<typeof webhookMetrics>;
