import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okList } from '../../http/envelope.js';
import { IdParams, versionFromIfMatch } from '../../http/schema-helpers.js';
import { presentStage } from './presenter.js';
import { stageListOptions } from './query.js';
import { DeleteStageQuery, Stage, StageCreate, StageListQuery, StagePatch } from './schemas.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 412: ErrorBody };
const IfMatch = Type.Object({ 'if-match': Type.Optional(Type.String()) });

export const stageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const stages = app.services.stages;

  app.get(
    '/stages',
    {
      config: { access: 'stage:read' },
      schema: {
        tags: ['stages'],
        summary: 'List stage records',
        querystring: StageListQuery,
        response: { 200: ListEnvelope(Stage), ...errors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await stages.list(request.actor, stageListOptions(request.query, limit));
      return okList(page.items.map(presentStage), {
        limit,
        next_cursor: page.nextCursor,
        ...(page.total !== undefined ? { total: page.total } : {}),
      });
    },
  );

  app.post(
    '/stages',
    {
      config: { access: 'stage:write' },
      schema: { tags: ['stages'], summary: 'Create a stage record', body: StageCreate, response: { 201: Envelope(Stage), ...errors } },
    },
    async (request, reply) => {
      const stage = await stages.create(request.actor, request.body);
      reply.header('etag', `"${stage.version}"`).header('location', `/api/stages/${stage.id}`);
      return reply.status(201).send(ok(presentStage(stage), `stage ${stage.number} created`));
    },
  );

  app.get(
    '/stages/:id',
    {
      config: { access: 'stage:read' },
      schema: { tags: ['stages'], summary: 'Get a stage by id or number', params: IdParams, response: { 200: Envelope(Stage), ...errors } },
    },
    async (request, reply) => {
      const stage = await stages.get(request.actor, request.params.id);
      reply.header('etag', `"${stage.version}"`);
      return ok(presentStage(stage));
    },
  );

  for (const method of ['put', 'patch'] as const) {
    app[method](
      '/stages/:id',
      {
        config: { access: 'stage:write' },
        schema: {
          tags: ['stages'],
          summary: `Change the fields present in the body (${method.toUpperCase()})`,
          params: IdParams,
          headers: IfMatch,
          body: StagePatch,
          response: { 200: Envelope(Stage), ...errors },
        },
      },
      async (request, reply) => {
        const stage = await stages.update(request.actor, request.params.id, request.body, versionFromIfMatch(request.headers['if-match']));
        reply.header('etag', `"${stage.version}"`);
        return ok(presentStage(stage), `stage ${stage.number} updated`);
      },
    );
  }

  app.delete(
    '/stages/:id',
    {
      config: { access: 'stage:delete' },
      schema: {
        tags: ['stages'],
        summary: 'Delete a stage (409 for a major stage with minor stages unless cascade=true)',
        params: IdParams,
        querystring: DeleteStageQuery,
        response: { 200: Envelope(Stage), ...errors },
      },
    },
    async (request) =>
      ok(presentStage(await stages.remove(request.actor, request.params.id, request.query.cascade ?? false)), 'stage deleted'),
  );
};
