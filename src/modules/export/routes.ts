import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { ErrorBody } from '../../http/envelope.js';
import { stageListOptions } from '../stages/query.js';
import { stageFilterQuery } from '../stages/schemas.js';
import { ticketListOptions } from '../tickets/query.js';
import { apiListSort, fieldFilterParams, ticketFilterQuery } from '../tickets/schemas.js';
import { exportStages, stageExportColumns } from './stages.js';
import type { ExportFormat } from './stream.js';
import { exportTickets, ticketExportColumns } from './tickets.js';

const settings = (columns: readonly string[]) => ({
  format: Type.Optional(Type.Enum(['csv', 'ndjson'], { default: 'csv' })),
  columns: Type.Optional(Type.String({ description: `Comma-separated, in order; default all. One of ${columns.join(', ')}` })),
  time_zone: Type.Optional(Type.String({ description: 'IANA zone for the times (default UTC), e.g. Europe/Berlin' })),
  bom: Type.Optional(Type.Boolean({ description: 'Start the CSV with a UTF-8 byte order mark (for spreadsheets)' })),
});

const { cursor: _ticketCursor, count: _ticketCount, ...ticketFilters } = ticketFilterQuery;
const { cursor: _stageCursor, count: _stageCount, ...stageFilters } = stageFilterQuery;
const TicketExportQuery = Type.Object(
  { ...ticketFilters, sort: apiListSort, ...settings([...ticketExportColumns, 'field.<key>']) },
  fieldFilterParams,
);
const StageExportQuery = Type.Object({ ...stageFilters, ...settings(stageExportColumns) }, { additionalProperties: false });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
/** A stream, never serialised by Fastify: the schemas only tell the contract (and its clients) what comes back. */
const download200 = (what: string) => ({
  description: `${what}: CSV with a header row (format=csv, the default) or one JSON object a line (format=ndjson)`,
  content: { 'text/csv': { schema: Type.String() }, 'application/x-ndjson': { schema: Type.String() } },
});

function download(reply: FastifyReply, name: string, format: ExportFormat, date: Date, stream: Readable) {
  return reply
    .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}-${date.toISOString().slice(0, 10)}.${format}"`)
    .send(stream);
}

export const exportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/tickets/export',
    {
      config: { access: 'ticket:read' },
      schema: {
        tags: ['tickets'],
        summary: 'Every matching ticket as CSV or NDJSON, streamed (same filters, q and view as the list)',
        querystring: TicketExportQuery,
        response: { 200: download200('The tickets'), ...errors },
      },
    },
    async (request, reply) => {
      const { format = 'csv', columns, time_zone, bom, ...query } = request.query;
      const { limit: _limit, cursor: _cursor, count: _count, ...list } = ticketListOptions(query, 1, true);
      const fieldKeys = await app.services.fields.keysVisibleTo(request.actor);
      const stream = await exportTickets(app.services.tickets, request.actor, {
        format,
        columns,
        timeZone: time_zone,
        bom,
        list,
        fieldKeys,
      });
      return download(reply, 'tickets', format, app.clock.now(), stream);
    },
  );

  app.get(
    '/stages/export',
    {
      config: { access: 'stage:read' },
      schema: {
        tags: ['stages'],
        summary: 'Every matching stage record (start, end, due: ready for a Gantt) as CSV or NDJSON, streamed',
        querystring: StageExportQuery,
        response: { 200: download200('The stage records'), ...errors },
      },
    },
    async (request, reply) => {
      const { format = 'csv', columns, time_zone, bom, ...query } = request.query;
      const { limit: _limit, cursor: _cursor, count: _count, ...list } = stageListOptions(query, 1);
      const stream = await exportStages(app.services.stages, request.actor, { format, columns, timeZone: time_zone, bom, list });
      return download(reply, 'stages', format, app.clock.now(), stream);
    },
  );
};
