import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { sql } from 'kysely';
import { collectDefaultMetrics, Histogram } from 'prom-client';
import { Type } from 'typebox';
import { ErrorBody } from '../../http/envelope.js';
import { sendDatabaseUnavailable } from '../../http/error-handler.js';

const Health = Type.Object({ status: Type.String() });

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
  app.addHook('onResponse', async (request, reply) => {
    requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
});

export const systemRoutes: FastifyPluginAsyncTypebox = async (app) => {
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

  app.get('/healthz', { schema: { tags: ['system'], summary: 'The process is up', response: { 200: Health } } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    { schema: { tags: ['system'], summary: 'The database answers', response: { 200: Health, 503: ErrorBody } } },
    async (request, reply) => {
      try {
        await sql`select 1`.execute(app.database.db);
        return { status: 'ready' };
      } catch (error) {
        request.log.debug({ err: error }, 'readiness check failed');
        return sendDatabaseUnavailable(reply);
      }
    },
  );

  app.get(
    '/metrics',
    {
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

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};
