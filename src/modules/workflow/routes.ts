import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okList } from '../../http/envelope.js';
import { IdParams } from '../../http/schema-helpers.js';
import { presentTicket } from '../tickets/presenter.js';
import { presentHistoryEvent } from './presenter.js';
import { CommentInput, HistoryEvent, HistoryQuery, Timeline, TransitionInput, TransitionResult } from './schemas.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export const workflowRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const workflow = app.services.workflow;

  app.post(
    '/tickets/:id/transitions',
    {
      config: { access: 'ticket:transition' },
      schema: {
        tags: ['workflow'],
        summary: 'Move a ticket to another stage of its workflow (409 lists the allowed stages)',
        params: IdParams,
        body: TransitionInput,
        response: { 200: Envelope(TransitionResult), ...errors },
      },
    },
    async (request) => {
      const outcome = await workflow.transition(request.actor, request.params.id, request.body);
      const stage = outcome.entered.at(-1)!;
      return ok(
        { ticket: presentTicket(outcome.ticket, request.actor), left: outcome.left, entered: outcome.entered },
        `ticket ${outcome.ticket.number} entered ${stage.name}`,
      );
    },
  );

  app.get(
    '/tickets/:id/timeline',
    {
      config: { access: 'ticket:read' },
      schema: {
        tags: ['workflow'],
        summary: "A ticket's stage visits: planned vs actual, wall and business time, pauses, lateness (Gantt-ready)",
        params: IdParams,
        response: { 200: Envelope(Timeline), ...errors },
      },
    },
    async (request) => ok(await workflow.timeline(request.actor, request.params.id)),
  );

  app.get(
    '/tickets/:id/history',
    {
      config: { access: 'ticket:read' },
      schema: {
        tags: ['workflow'],
        summary: "A ticket's history, oldest first (customers see public entries only)",
        params: IdParams,
        querystring: HistoryQuery,
        response: { 200: ListEnvelope(HistoryEvent), ...errors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const page = await workflow.history(request.actor, request.params.id, limit, request.query.cursor);
      return okList(page.rows.map(presentHistoryEvent), { limit, next_cursor: page.nextCursor }, `${page.rows.length} event(s)`);
    },
  );

  app.post(
    '/tickets/:id/comments',
    {
      config: { access: 'ticket:comment' },
      schema: {
        tags: ['workflow'],
        summary: 'Comment on a ticket (internal comments are hidden from customers)',
        params: IdParams,
        body: CommentInput,
        response: { 201: Envelope(HistoryEvent), ...errors },
      },
    },
    async (request, reply) => {
      const event = await workflow.comment(request.actor, request.params.id, request.body);
      return reply.status(201).send(ok(presentHistoryEvent(event), 'comment added'));
    },
  );
};
