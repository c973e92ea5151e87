import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { sql } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';
import { Type } from 'typebox';
import { ErrorBody } from '../../http/envelope.js';
import { sendDatabaseUnavailable } from '../../http/error-handler.js';

const Health = Type.Object({ status: Type.String() });
const Readiness = Type.Object({
  status: Type.String(),
  replicas: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String({ description: 'host:port/database' }),
        up: Type.Boolean(),
        serving: Type.Boolean({ description: 'up and within DATABASE_READ_MAX_LAG_MS: it takes reads' }),
        lag_ms: Type.Union([Type.Integer(), Type.Null()]),
        replay_lsn: Type.Union([Type.String(), Type.Null()]),
        error: Type.Union([Type.String(), Type.Null()]),
      }),
      {
        description:
          'With DATABASE_READ_URL: each read replica. One that is down or behind does not make the server unready (reads go to the primary)',
      },
    ),
  ),
});

/** Process metrics and a duration histogram of every request; not encapsulated, so it sees all routes. */
export const requestMetrics = fp(async (app: FastifyInstance) => {
  collectDefaultMetrics({ register: app.metrics, prefix: 'stageline_' });
  const requestDuration = new Histogram({
    name: 'stageline_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [app.metrics],
  });
  // One bound series per method, route pattern and status (a bounded set), found by a flat key: the labels object
  // is not built again for every request.
  const series = new Map<string, (seconds: number) => void>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let observe = series.get(key);
    if (!observe) {
      observe = requestDuration.labels({ method: request.method, route, status: String(reply.statusCode) }).observe;
      series.set(key, observe);
    }
    observe(reply.elapsedTime / 1000);
    done();
  });
});

/** With read replicas: each one's state and lag, and where reads went. */
function replicationMetrics(app: FastifyInstance): void {
  if (!app.database.replication()) return;
  const replicas = () => app.database.replication()?.replicas ?? [];
  new Gauge({
    name: 'stageline_database_replica_up',
    help: 'Whether a read replica answers (1) or not (0)',
    labelNames: ['replica'],
    registers: [app.metrics],
    collect() {
      for (const replica of replicas()) this.set({ replica: replica.name }, replica.up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'stageline_database_replica_lag_seconds',
    help: 'How far a read replica is behind the primary (absent while it is down)',
    labelNames: ['replica'],
    registers: [app.metrics],
    collect() {
      this.reset();
      for (const replica of replicas()) if (replica.lagMs !== null) this.set({ replica: replica.name }, replica.lagMs / 1000);
    },
  });
  new Counter({
    name: 'stageline_database_reads_total',
    help: 'Reads that could use a replica, by where they ran (fallback: a replica failed and the primary answered)',
    labelNames: ['target'],
    registers: [app.metrics],
    collect() {
      const reads = app.database.replication()?.reads;
      if (!reads) return;
      this.reset();
      this.inc({ target: 'replica' }, reads.replica);
      this.inc({ target: 'primary' }, reads.primary);
      this.inc({ target: 'fallback' }, reads.fallback);
    },
  });
}

export const systemRoutes: FastifyPluginAsyncTypebox = async (app) => {
  replicationMetrics(app);
  // One warning when the database goes away and one line when it is back, however many requests fail between.
  const stopWatching = app.database.availability.onChange((change) => {
    if (change.state === 'lost')
      app.log.warn(
        { err: { message: change.error.message, code: (change.error as { code?: string }).code } },
        'database unreachable; answering 503 until it is back',
      );
    else app.log.info({ down_ms: change.downMs }, 'database reachable again');
  });
  app.addHook('onClose', async () => stopWatching());

  app.get(
    '/healthz',
    { config: { access: 'public' }, schema: { tags: ['system'], summary: 'The process is up', response: { 200: Health } } },
    async () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: { tags: ['system'], summary: 'The database answers', response: { 200: Readiness, 503: ErrorBody } },
    },
    async (request, reply) => {
      try {
        await sql`select 1`.execute(app.database.db);
        const replication = app.database.replication();
        if (!replication) return { status: 'ready' };
        return {
          status: 'ready',
          replicas: replication.replicas.map((replica) => ({
            name: replica.name,
            up: replica.up,
            serving: replica.serving,
            lag_ms: replica.lagMs,
            replay_lsn: replica.replayLsn,
            error: replica.error,
          })),
        };
      } catch (error) {
        request.log.debug({ err: error }, 'readiness check failed');
        return sendDatabaseUnavailable(reply);
      }
    },
  );

  app.get(
    '/metrics',
    {
      config: { access: 'metrics:read' },
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics (public when METRICS_PUBLIC=true)',
        response: {
          200: { description: 'The Prometheus text format', content: { 'text/plain': { schema: Type.String() } } },
          401: ErrorBody,
          403: ErrorBody,
        },
      },
    },
    async (_request, reply) => {
      reply.header('content-type', app.metrics.contentType);
      return app.metrics.metrics();
    },
  );

  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
};
