import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okList } from '../../http/envelope.js';
import { IdParams, versionFromIfMatch } from '../../http/schema-helpers.js';
import type { ForecastInput } from '../forecast/service.js';
import { presentTicket } from './presenter.js';
import { ticketListOptions } from './query.js';
import { Ticket, TicketCreate, TicketListQuery, TicketPatch } from './schemas.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 412: ErrorBody };
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'The version you read, e.g. "3"' })) });

export const ticketRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tickets = app.services.tickets;

  app.get(
    '/tickets',
    {
      config: { access: 'ticket:read' },
      schema: {
        tags: ['tickets'],
        summary: 'List tickets (filters, sort, cursor paging)',
        querystring: TicketListQuery,
        response: { 200: ListEnvelope(Ticket), ...errors },
      },
    },
    async (request) => {
      const page = await tickets.list(request.actor, ticketListOptions(request.query, request.query.limit ?? 50, true));
      const forecasts = request.query.forecast ? await app.services.forecast.forTickets(page.items) : undefined;
      return okList(
        page.items.map((ticket) => presentTicket(ticket, request.actor, forecasts?.get(ticket.id))),
        { limit: request.query.limit ?? 50, next_cursor: page.nextCursor, ...(page.total !== undefined ? { total: page.total } : {}) },
        `${page.items.length} ticket(s)`,
      );
    },
  );

  app.post(
    '/tickets',
    {
      config: { access: 'ticket:create' },
      schema: { tags: ['tickets'], summary: 'Create a ticket', body: TicketCreate, response: { 201: Envelope(Ticket), ...errors } },
    },
    async (request, reply) => {
      const ticket = await tickets.create(request.actor, request.body, { firstStage: true });
      reply.header('etag', `"${ticket.version}"`).header('location', `/api/tickets/${ticket.id}`);
      return reply.status(201).send(ok(presentTicket(ticket, request.actor), `ticket ${ticket.number} created`));
    },
  );

  app.get(
    '/tickets/:id',
    {
      config: { access: 'ticket:read' },
      schema: {
        tags: ['tickets'],
        summary: 'Get a ticket by id or number',
        params: IdParams,
        response: { 200: Envelope(Ticket), ...errors },
      },
    },
    async (request, reply) => {
      // The forecast's inputs come with the row: one statement for the whole answer.
      const { forecast } = app.services;
      const ticket = await tickets.get<{ forecast_input: ForecastInput | null }>(request.actor, request.params.id, undefined, [
        forecast.inputColumn,
      ]);
      reply.header('etag', `"${ticket.version}"`);
      return ok(presentTicket(ticket, request.actor, await forecast.forTicket(ticket)));
    },
  );

  for (const method of ['put', 'patch'] as const) {
    app[method](
      '/tickets/:id',
      {
        config: { access: 'ticket:update' },
        schema: {
          tags: ['tickets'],
          summary: `Change the fields present in the body (${method.toUpperCase()}); null clears a field`,
          params: IdParams,
          headers: IfMatch,
          body: TicketPatch,
          response: { 200: Envelope(Ticket), ...errors },
        },
      },
      async (request, reply) => {
        const ticket = await tickets.update(
          request.actor,
          request.params.id,
          request.body,
          versionFromIfMatch(request.headers['if-match']),
        );
        reply.header('etag', `"${ticket.version}"`);
        return ok(presentTicket(ticket, request.actor), `ticket ${ticket.number} updated`);
      },
    );
  }

  app.delete(
    '/tickets/:id',
    {
      config: { access: 'ticket:delete' },
      schema: {
        tags: ['tickets'],
        summary: 'Delete a ticket with its stage links and history',
        params: IdParams,
        response: { 200: Envelope(Ticket), ...errors },
      },
    },
    async (request) => {
      const ticket = await tickets.remove(request.actor, request.params.id);
      return ok(presentTicket(ticket, request.actor), `ticket ${ticket.number} deleted`);
    },
  );
};
