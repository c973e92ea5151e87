import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okList } from '../../http/envelope.js';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { delayOf, judgementProperties } from '../workflow/delay.js';

const LikelyQuery = Type.Object(
  {
    project: Type.Optional(Type.String({ description: 'A project key; default: every project, each by its own threshold' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);
const probability = Nullable(Type.Number({ minimum: 0, maximum: 1 }));
const LikelyTicket = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  subject: Nullable(Type.String()),
  project: Nullable(Type.String()),
  priority: Type.String(),
  status: Type.String(),
  assigned_to: Nullable(Type.String()),
  ...judgementProperties,
  probability: Type.Number({ description: 'The larger of the stage and ticket breach probabilities' }),
  stage_breach_probability: probability,
  ticket_breach_probability: probability,
  expected_finish_at: Nullable(DateTime()),
  forecast_at: DateTime('When the forecast was made (every 2 minutes)'),
  stage: Nullable(Type.Object({ key: Nullable(Type.String()), name: Nullable(Type.String()), due_at: Nullable(DateTime()) })),
});
const iso = (value: Date | null) => (value ? value.toISOString() : null);

export const forecastRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const forecast = app.services.forecast;
  app.addHook('onClose', async () => forecast.close());

  app.get(
    '/monitor/likely',
    {
      config: { access: 'monitor:read' },
      schema: {
        tags: ['monitor'],
        summary: "Likely to breach: open tickets whose forecast breach probability reaches their project's threshold, most likely first",
        querystring: LikelyQuery,
        response: { 200: ListEnvelope(LikelyTicket), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const now = app.clock.now();
      const rows = await forecast.likely(request.query.project, limit);
      const items = rows.map((row) => ({
        id: row.id,
        number: row.number,
        subject: row.subject,
        project: row.project,
        priority: row.priority,
        status: row.status,
        assigned_to: row.assigned_to,
        ...delayOf(row, now),
        probability: row.probability,
        stage_breach_probability: row.stage_probability,
        ticket_breach_probability: row.ticket_probability,
        expected_finish_at: iso(row.expected_finish_at),
        forecast_at: row.computed_at.toISOString(),
        stage: row.stage_key || row.visit_due_at ? { key: row.stage_key, name: row.stage_name, due_at: iso(row.visit_due_at) } : null,
      }));
      return okList(items, { limit, next_cursor: null }, `${items.length} ticket(s) likely to breach`);
    },
  );

  app.post(
    '/forecast/refresh',
    {
      config: { access: 'project:write' },
      schema: {
        tags: ['projects'],
        summary: 'Rebuild every project’s forecast model from its history now (it is rebuilt every 10 minutes anyway)',
        response: { 200: Envelope(Type.Object({ projects: Type.Integer() })), 401: ErrorBody, 403: ErrorBody },
      },
    },
    async () => {
      const projects = await forecast.refresh(true);
      return ok({ projects }, `${projects} forecast model(s) rebuilt`);
    },
  );
};
