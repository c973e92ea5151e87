import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { legacy } from '../access/route-access.js';
import { Type } from 'typebox';
import { legacyErrors as errors, legacyListQuery, legacyListSummary, setLegacyPageHeaders } from '../../http/legacy.js';
import { IdParams, versionFromIfMatch } from '../../http/schema-helpers.js';
import { seesInternal, type Actor } from '../access/policy.js';
import { fromLegacyTicketInput, LegacyTicket, LegacyTicketInput, presentLegacyTicket } from './legacy.js';
import { ticketListOptions } from './query.js';
import { ticketFilterQuery } from './schemas.js';
import type { TicketView } from './service.js';

/** The older systems' `/tickets`: bare JSON in both vocabularies, old status codes, same service. */
export const legacyTicketRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { tickets, stages } = app.services;
  const maxLimit = app.config.legacyListLimit;
  const ListQuery = legacyListQuery(ticketFilterQuery, maxLimit);

  /** Loads every stage the tickets mention in one go, then presents each ticket. */
  const present = async (items: TicketView[], actor: Actor) => {
    const stageIds = items.flatMap((ticket) => [...ticket.stage_ids, ...(ticket.current_stage_id ? [ticket.current_stage_id] : [])]);
    const stagesById = await stages.withMajors(stageIds);
    return items.map((ticket) => presentLegacyTicket(ticket, stagesById, seesInternal(actor)));
  };

  app.get(
    '/tickets',
    {
      config: { access: legacy('ticket:read') },
      schema: {
        tags: ['legacy'],
        summary: legacyListSummary('tickets', maxLimit),
        querystring: ListQuery,
        response: { 200: Type.Array(LegacyTicket), ...errors },
      },
    },
    async (request, reply) => {
      const page = await tickets.list(request.actor, { ...ticketListOptions(request.query, request.query.limit ?? maxLimit), count: true });
      setLegacyPageHeaders(request, reply, page);
      return present(page.items, request.actor);
    },
  );

  app.post(
    '/tickets',
    {
      config: { access: legacy('ticket:create') },
      schema: {
        tags: ['legacy'],
        summary: 'Create a ticket (either vocabulary)',
        body: LegacyTicketInput,
        response: { 201: LegacyTicket, ...errors },
      },
    },
    async (request, reply) => {
      const ticket = await tickets.create(request.actor, fromLegacyTicketInput(request.body));
      const [out] = await present([ticket], request.actor);
      return reply.status(201).send(out);
    },
  );

  app.get(
    '/tickets/:id',
    {
      config: { access: legacy('ticket:read') },
      schema: {
        tags: ['legacy'],
        summary: 'A ticket with its current stage and all its stages',
        params: IdParams,
        response: { 200: LegacyTicket, ...errors },
      },
    },
    async (request) => (await present([await tickets.get(request.actor, request.params.id)], request.actor))[0],
  );

  app.put(
    '/tickets/:id',
    {
      config: { access: legacy('ticket:update') },
      schema: {
        tags: ['legacy'],
        summary: 'Change the fields present in the body (omitted fields are kept)',
        params: IdParams,
        body: LegacyTicketInput,
        response: { 200: LegacyTicket, ...errors },
      },
    },
    async (request) => {
      const ticket = await tickets.update(
        request.actor,
        request.params.id,
        fromLegacyTicketInput(request.body),
        versionFromIfMatch(request.headers['if-match']),
      );
      return (await present([ticket], request.actor))[0];
    },
  );

  app.delete(
    '/tickets/:id',
    {
      config: { access: legacy('ticket:delete') },
      schema: { tags: ['legacy'], summary: 'Delete a ticket (204, no body)', params: IdParams, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await tickets.remove(request.actor, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
