import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { legacy } from '../access/route-access.js';
import { Type } from 'typebox';
import { legacyErrors as errors, legacyListQuery, legacyListSummary, setLegacyPageHeaders } from '../../http/legacy.js';
import { IdParams, versionFromIfMatch } from '../../http/schema-helpers.js';
import { fromLegacyStageInput, LegacyStage, LegacyStageInput, presentLegacyStage } from './legacy.js';
import { stageListOptions } from './query.js';
import { stageFilterQuery } from './schemas.js';
import type { StageView } from './service.js';

/** The monitoring system's `/stages`: bare JSON with the major stage inlined; no DELETE, as before. */
export const legacyStageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const stages = app.services.stages;
  const maxLimit = app.config.legacyListLimit;
  const ListQuery = legacyListQuery(stageFilterQuery, maxLimit);

  const present = async (items: StageView[]) => {
    const withMajors = await stages.withMajors(items.map((stage) => stage.id));
    return items.map((stage) => presentLegacyStage(withMajors.get(stage.id)!));
  };

  app.get(
    '/stages',
    {
      config: { access: legacy('stage:read') },
      schema: {
        tags: ['legacy'],
        summary: legacyListSummary('stages', maxLimit),
        querystring: ListQuery,
        response: { 200: Type.Array(LegacyStage), ...errors },
      },
    },
    async (request, reply) => {
      const page = await stages.list(request.actor, { ...stageListOptions(request.query, request.query.limit ?? maxLimit), count: true });
      setLegacyPageHeaders(request, reply, page);
      return present(page.items);
    },
  );

  app.post(
    '/stages',
    {
      config: { access: legacy('stage:write') },
      schema: { tags: ['legacy'], summary: 'Create a stage', body: LegacyStageInput, response: { 201: LegacyStage, ...errors } },
    },
    async (request, reply) =>
      reply.status(201).send((await present([await stages.create(request.actor, fromLegacyStageInput(request.body))]))[0]),
  );

  app.get(
    '/stages/:id',
    {
      config: { access: legacy('stage:read') },
      schema: { tags: ['legacy'], summary: 'A stage with its major stage', params: IdParams, response: { 200: LegacyStage, ...errors } },
    },
    async (request) => (await present([await stages.get(request.actor, request.params.id)]))[0],
  );

  app.put(
    '/stages/:id',
    {
      config: { access: legacy('stage:write') },
      schema: {
        tags: ['legacy'],
        summary: 'Change the fields present in the body',
        params: IdParams,
        body: LegacyStageInput,
        response: { 200: LegacyStage, ...errors },
      },
    },
    async (request) =>
      (
        await present([
          await stages.update(
            request.actor,
            request.params.id,
            fromLegacyStageInput(request.body),
            versionFromIfMatch(request.headers['if-match']),
          ),
        ])
      )[0],
  );
};
