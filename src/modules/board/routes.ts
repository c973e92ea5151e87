import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ErrorBody, ok } from '../../http/envelope.js';
import { Board, BoardQuery } from './schemas.js';

/** `GET /api/board`: the dashboard's board in one request (a column per stage needs each ticket's stage). */
export const boardRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/board',
    {
      config: { access: 'monitor:read' },
      schema: {
        tags: ['monitor'],
        summary: "A project's open tickets with the workflow stage each is in and its delay, for the board",
        querystring: BoardQuery,
        response: { 200: Envelope(Board), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => ok(await app.services.board.load(request.actor, request.query)),
  );
};
