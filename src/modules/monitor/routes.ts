import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okList } from '../../http/envelope.js';
import {
  AgingBucket,
  DelayedQuery,
  DelayedTicket,
  Flow,
  MonitorQuery,
  Overview,
  StageStats,
  ThroughputBucket,
  ThroughputQuery,
} from './schemas.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };
const tags = ['monitor'];
const config = { access: 'monitor:read' as const };

export const monitorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const monitor = app.services.monitor;

  app.get(
    '/monitor/overview',
    {
      config,
      schema: {
        tags,
        summary: 'Open tickets by status and stage, on track / at risk / overdue, oldest open, created and closed today',
        querystring: MonitorQuery,
        response: { 200: Envelope(Overview), ...errors },
      },
    },
    async (request) => ok(await monitor.overview(request.actor, request.query)),
  );

  app.get(
    '/monitor/delayed',
    {
      config,
      schema: {
        tags,
        summary: 'Overdue and at-risk tickets, most late first',
        querystring: DelayedQuery,
        response: { 200: ListEnvelope(DelayedTicket), ...errors },
      },
    },
    async (request) => {
      const { limit = 50, sort, cursor, ...query } = request.query;
      const { items, total, nextCursor } = await monitor.delayed(request.actor, query, limit, sort, cursor);
      return okList(items, { limit, next_cursor: nextCursor, total }, `${total} delayed ticket(s)`);
    },
  );

  app.get(
    '/monitor/stages',
    {
      config,
      schema: {
        tags,
        summary: 'Per stage: tickets in it now, p50/p90/mean time in stage over the window, share within target, overdue now',
        querystring: MonitorQuery,
        response: { 200: Envelope(Type.Array(StageStats)), ...errors },
      },
    },
    async (request) => ok(await monitor.stages(request.actor, request.query)),
  );

  app.get(
    '/monitor/throughput',
    {
      config,
      schema: {
        tags,
        summary: 'Tickets created and closed per day or week',
        querystring: ThroughputQuery,
        response: { 200: Envelope(Type.Array(ThroughputBucket)), ...errors },
      },
    },
    async (request) => ok(await monitor.throughput(request.actor, request.query, request.query.interval ?? 'day')),
  );

  app.get(
    '/monitor/flow',
    {
      config,
      schema: {
        tags,
        summary: 'Cumulative flow: tickets in each stage at the end of each day (UTC), for one project',
        querystring: MonitorQuery,
        response: { 200: Envelope(Flow), ...errors },
      },
    },
    async (request) => ok(await monitor.flow(request.actor, request.query)),
  );

  app.get(
    '/monitor/aging',
    {
      config,
      schema: {
        tags,
        summary: 'Open tickets bucketed by age',
        querystring: MonitorQuery,
        response: { 200: Envelope(Type.Array(AgingBucket)), ...errors },
      },
    },
    async (request) => ok(await monitor.aging(request.actor, request.query)),
  );
};
