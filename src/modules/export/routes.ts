import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody } from '../../http/envelope.js';
import { ticketListOptions } from '../tickets/query.js';
import { ticketFilterQuery } from '../tickets/schemas.js';
import { exportColumns, exportTickets } from './tickets.js';

const { cursor: _omitCursor, count: _omitCount, ...filters } = ticketFilterQuery;

const TicketExportQuery = Type.Object(
  {
    ...filters,
    format: Type.Optional(Type.Enum(['csv', 'ndjson'], { default: 'csv' })),
    columns: Type.Optional(Type.String({ description: `Comma-separated, in order; default all. One of ${exportColumns.join(', ')}` })),
    time_zone: Type.Optional(Type.String({ description: 'IANA zone for the times (default UTC), e.g. Europe/Berlin' })),
    bom: Type.Optional(Type.Boolean({ description: 'Start the CSV with a UTF-8 byte order mark (for spreadsheets)' })),
  },
  { additionalProperties: false },
);

export const exportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/tickets/export',
    {
      config: { access: 'ticket:read' },
      schema: {
        tags: ['tickets'],
        summary: 'Every matching ticket as CSV or NDJSON, streamed (same filters, q and view as the list)',
        querystring: TicketExportQuery,
        response: { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const { format = 'csv', columns, time_zone, bom, ...query } = request.query;
      const { limit: _limit, cursor: _cursor, count: _count, ...list } = ticketListOptions(query, 1);
      const stream = await exportTickets(app.services.tickets, request.actor, {
        format,
        columns,
        timeZone: time_zone,
        bom,
        list,
      });
      const stamp = app.clock.now().toISOString().slice(0, 10);
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="tickets-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`)
        .send(stream as never);
    },
  );
};
