import compress from '@fastify/compress';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyReply, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import { constants as zlibConstants } from 'node:zlib';
import { Registry } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { ErrorBodySchema } from './http/envelope.js';
import { errorBody, registerErrorHandler } from './http/error-handler.js';
import { openApiOptions } from './http/openapi.js';
import { registerInputGuard, undecodablePathDetails } from './http/input-guard.js';
import { registerRequestBodies } from './http/request-body.js';
import { registerReadYourWrites } from './http/read-your-writes.js';
import { schemaController } from './http/serializer.js';
import { registerValidators } from './http/validators.js';
import { loggerOptions } from './logging.js';
import type { Actor } from './modules/access/policy.js';
import { auditRoutes } from './modules/audit/routes.js';
import { withAccess } from './modules/access/route-access.js';
import { authPlugin } from './modules/auth/plugin.js';
import { authRoutes } from './modules/auth/routes.js';
import { importRoutes } from './modules/import/routes.js';
import { opsRoutes } from './modules/ops/routes.js';
import { projectRoutes } from './modules/projects/routes.js';
import { fieldRoutes } from './modules/fields/routes.js';
import { workflowRoutes } from './modules/workflow/routes.js';
import { forecastRoutes } from './modules/forecast/routes.js';
import { monitorRoutes } from './modules/monitor/routes.js';
import { eventRoutes } from './modules/events/routes.js';
import { searchRoutes } from './modules/search/routes.js';
import { viewRoutes } from './modules/views/routes.js';
import { notificationRoutes } from './modules/notifications/routes.js';
import { webhookRoutes } from './modules/webhooks/routes.js';
import { exportRoutes } from './modules/export/routes.js';
import { legacyStageRoutes } from './modules/stages/legacy-routes.js';
import { stageRoutes } from './modules/stages/routes.js';
import { requestMetrics, systemRoutes } from './modules/system/routes.js';
import { legacyTicketRoutes } from './modules/tickets/legacy-routes.js';
import { ticketRoutes } from './modules/tickets/routes.js';
import { userRoutes } from './modules/users/routes.js';
import { dashboardPlugin } from './modules/web/plugin.js';
import { boardRoutes } from './modules/board/routes.js';
import { createServices, type Services } from './services.js';
import { backgroundJobs, Jobs } from './jobs/index.js';
import { LegacyStageSchema } from './modules/stages/legacy.js';
import { StageSchema } from './modules/stages/schemas.js';
import { LegacyTicketSchema } from './modules/tickets/legacy.js';
import { TicketSchema } from './modules/tickets/schemas.js';

/** Answers in memory smaller than this are sent uncompressed (see the compress plugin below). */
const COMPRESS_THRESHOLD_BYTES = 4096;

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    database: Database;
    clock: Clock;
    services: Services;
    metrics: Registry;
    /** The background jobs (src/jobs/): the server starts them; a test may start those it names. */
    jobs: Jobs;
  }
  interface FastifyRequest {
    actor: Actor;
  }
}

export type AppOptions = {
  config: Config;
  database: Database;
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
  /** Start the background jobs (src/jobs/) once ready; the server sets it, tests drive the work by hand. */
  backgroundJobs?: boolean;
};

export async function buildApp(options: AppOptions) {
  const { config, database } = options;
  const clock = options.clock ?? systemClock;
  const app = Fastify({
    logger: options.logger ?? (await loggerOptions(config)),
    bodyLimit: config.bodyLimitBytes,
    // Fastify accepts a hop count at run time though its types list only boolean and strings.
    trustProxy: config.trustProxy as boolean | string,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    forceCloseConnections: 'idle',
    // Long ids must reach the services (which answer 404), not die in the router with a 414.
    routerOptions: { maxParamLength: 2048 },
    // Response serializers that need no validator to write a nullable field (src/http/serializer.ts).
    schemaController,
    frameworkErrors: (error, request, reply) => {
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 400;
      const details = error.code === 'FST_ERR_BAD_URL' ? undecodablePathDetails(request) : [{ field: 'url', problem: error.message }];
      void (reply as FastifyReply)
        .status(status === 414 ? 404 : status)
        .send(errorBody(status === 414 ? 'NOT_FOUND' : 'VALIDATION_FAILED', error.message, details));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  registerValidators(app);

  const metrics = new Registry();
  app.decorate('config', config);
  app.decorate('database', database);
  app.decorate('clock', clock);
  app.decorate('metrics', metrics);
  app.decorate('services', createServices({ config, database, clock, metrics }));
  app.decorateRequest('actor', null as unknown as Actor);
  // Hooks that never wait are written with a callback: an async hook costs a promise and a microtask per request.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  registerRequestBodies(app);
  registerInputGuard(app);

  registerErrorHandler(app);
  // A successful write through this process retires the dashboard's kept aggregates at once (writes made by another
  // process, and the passing of time, within MONITOR_CACHE_SECONDS).
  app.addHook('onResponse', (request, reply, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 300) app.services.monitor.forgetAnswers();
    done();
  });
  registerReadYourWrites(app);
  for (const schema of [ErrorBodySchema, TicketSchema, StageSchema, LegacyStageSchema, LegacyTicketSchema]) app.addSchema(schema);

  // The exposed headers as one string: the plugin joins a list again on every request.
  await app.register(cors, { origin: '*', exposedHeaders: 'x-total-count, link, x-request-id, etag, stageline-lsn' });
  // Before every route and the static files: JSON, CSV and NDJSON from 4 KB in br or gzip as the client accepts
  // (never without Accept-Encoding, so the older clients get the same bytes). Event streams stay uncompressed:
  // a compressor would hold events back until its buffer fills. Smaller answers go as they are: one ticket
  // (~1.4 KB) took ~87 µs of CPU to brotli to ~640 bytes, as much as the whole naive lookup of issue 19, to save
  // ~750 bytes that fit in the same few packets anyway (streamed exports and static files are always compressed).
  await app.register(compress, {
    threshold: COMPRESS_THRESHOLD_BYTES,
    encodings: ['br', 'gzip', 'deflate'],
    customTypes: /^text\/(?!event-stream)|[+/](?:json|x-ndjson)(?:;|$)/,
    brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } },
    // An answer already in memory (a list page of 50 tickets is ~65 KB) is compressed in one call: the plugin's
    // default on two cores (8 KB) sent larger ones through a stream, which cost ~3 ms more CPU per page than the
    // compression itself (~0.4 ms). Streams (exports) still stream.
    syncThreshold: 1_048_576,
    globalDecompression: false,
  });
  await app.register(swagger, openApiOptions(config));
  await app.register(withAccess('public', (docs) => docs.register(swaggerUi, { routePrefix: '/docs' })));

  // Before every route: each one is authenticated and checked against its access rule.
  await app.register(authPlugin);
  await app.services.auth.bootstrap(app.log);
  await app.services.tokens.ensureAdminToken(app.log);

  await app.register(requestMetrics);
  await app.register(systemRoutes);
  await app.register(authRoutes, { prefix: '/api' });
  await app.register(userRoutes, { prefix: '/api' });
  await app.register(auditRoutes, { prefix: '/api' });
  await app.register(ticketRoutes, { prefix: '/api' });
  await app.register(stageRoutes, { prefix: '/api' });
  await app.register(projectRoutes, { prefix: '/api' });
  await app.register(fieldRoutes, { prefix: '/api' });
  await app.register(workflowRoutes, { prefix: '/api' });
  await app.register(monitorRoutes, { prefix: '/api' });
  await app.register(forecastRoutes, { prefix: '/api' });
  await app.register(eventRoutes, { prefix: '/api' });
  await app.register(searchRoutes, { prefix: '/api' });
  await app.register(viewRoutes, { prefix: '/api' });
  await app.register(exportRoutes, { prefix: '/api' });
  await app.register(opsRoutes, { prefix: '/api' });
  await app.register(importRoutes, { prefix: '/api' });
  await app.register(notificationRoutes, { prefix: '/api' });
  await app.register(webhookRoutes, { prefix: '/api' });
  await app.register(legacyTicketRoutes);
  await app.register(legacyStageRoutes);
  await app.register(boardRoutes, { prefix: '/api' });
  await app.register(dashboardPlugin);

  // Every periodic job and consumer, one lifecycle: started once the server is ready, stopped before it closes.
  const jobs = new Jobs(backgroundJobs({ config, database, clock, services: app.services, log: app.log }), app.log);
  app.decorate('jobs', jobs);
  if (options.backgroundJobs) app.addHook('onReady', async () => jobs.start());
  app.addHook('preClose', async () => jobs.stop());

  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
