import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okList } from '../../http/envelope.js';
import { versionFromIfMatch } from '../../http/schema-helpers.js';
import { presentView } from './presenter.js';
import { View, ViewCount, ViewCreate, ViewListQuery, ViewPatch } from './schemas.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 412: ErrorBody };
const ViewParams = Type.Object({ id: Type.String({ description: 'The view id' }) });
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'The version you read, e.g. "3"' })) });

export const viewRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const views = app.services.views;

  app.get(
    '/views',
    {
      config: { access: 'view:read' },
      schema: {
        tags: ['search'],
        summary: 'Saved views: your own and the shared ones',
        querystring: ViewListQuery,
        response: { 200: ListEnvelope(View), ...errors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await views.list(request.actor, limit, request.query.cursor);
      return okList(
        page.rows.map((view) => presentView(view, request.actor)),
        { limit, next_cursor: page.nextCursor },
      );
    },
  );

  app.post(
    '/views',
    {
      config: { access: 'view:write' },
      schema: {
        tags: ['search'],
        summary: 'Save a view (a search with sort, columns and layout); shared ones only by agents and admins',
        body: ViewCreate,
        response: { 201: Envelope(View), ...errors },
      },
    },
    async (request, reply) => {
      const view = await views.create(request.actor, request.body);
      reply.header('etag', `"${view.version}"`).header('location', `/api/views/${view.id}`);
      return reply.status(201).send(ok(presentView(view, request.actor), `view ${view.name} saved`));
    },
  );

  app.get(
    '/views/:id',
    {
      config: { access: 'view:read' },
      schema: { tags: ['search'], summary: 'One saved view', params: ViewParams, response: { 200: Envelope(View), ...errors } },
    },
    async (request, reply) => {
      const view = await views.get(request.actor, request.params.id);
      reply.header('etag', `"${view.version}"`);
      return ok(presentView(view, request.actor));
    },
  );

  for (const method of ['put', 'patch'] as const) {
    app[method](
      '/views/:id',
      {
        config: { access: 'view:write' },
        schema: {
          tags: ['search'],
          summary:
            method === 'put' ? 'Replace a view (fields left out go back to their defaults)' : 'Change the fields present in the body',
          params: ViewParams,
          headers: IfMatch,
          body: ViewPatch,
          response: { 200: Envelope(View), ...errors },
        },
      },
      async (request, reply) => {
        const view = await views.update(
          request.actor,
          request.params.id,
          request.body,
          method === 'put',
          versionFromIfMatch(request.headers['if-match']),
        );
        reply.header('etag', `"${view.version}"`);
        return ok(presentView(view, request.actor), `view ${view.name} updated`);
      },
    );
  }

  app.delete(
    '/views/:id',
    {
      config: { access: 'view:write' },
      schema: { tags: ['search'], summary: 'Delete a view', params: ViewParams, response: { 200: Envelope(View), ...errors } },
    },
    async (request) => {
      const view = await views.remove(request.actor, request.params.id);
      return ok(presentView(view, request.actor), `view ${view.name} deleted`);
    },
  );

  app.get(
    '/views/:id/count',
    {
      config: { access: 'view:read' },
      schema: {
        tags: ['search'],
        summary: 'How many tickets the view matches now (as you see them)',
        params: ViewParams,
        response: { 200: Envelope(ViewCount), ...errors },
      },
    },
    async (request) => ok({ view_id: request.params.id, count: await views.count(request.actor, request.params.id) }),
  );
};
