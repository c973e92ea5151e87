import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { OpsLogAction } from '../../db/types.js';
import type { Exchange } from './client.js';

const breakerValues = { closed: 0, half_open: 1, open: 2 } as const;

/** The OPS connector's Prometheus metrics, registered on the app's registry. */
export function opsMetrics(
  registry: Registry,
  sources: {
    queueDepth: () => Promise<{ kind: string; count: number }[]>;
    breakerState: () => keyof typeof breakerValues;
  },
) {
  const requests = new Counter({
    name: 'stageline_ops_requests_total',
    help: 'Exchanges with OPS by action (send, retry, query, poll, callback) and outcome (success, or the kind of failure)',
    labelNames: ['action', 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'stageline_ops_request_duration_seconds',
    help: 'Time OPS took to answer, by action',
    labelNames: ['action'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'stageline_outbox_depth',
    help: 'Jobs waiting in the outbox (not yet delivered or given up), by kind',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { kind, count } of await sources.queueDepth()) this.set({ kind }, count);
    },
  });
  new Gauge({
    name: 'stageline_ops_breaker_state',
    help: 'The OPS circuit breaker: 0 closed, 1 half open, 2 open',
    registers: [registry],
    collect() {
      this.set(breakerValues[sources.breakerState()]);
    },
  });
  return {
    observe(action: OpsLogAction, exchange: Pick<Exchange, 'failure' | 'latencyMs'> | null) {
      requests.inc({ action, outcome: exchange?.failure ?? 'success' });
      if (exchange?.latencyMs != null) latency.observe({ action }, exchange.latencyMs / 1000);
    },
  };
}

export type OpsMetrics = ReturnType<typeof opsMetrics>;
