import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okPage } from '../../http/envelope.js';
import { IdParams, versionFromIfMatch } from '../../http/schema-helpers.js';
import { presentProject } from './presenter.js';
import { Project, ProjectCreate, ProjectListQuery, ProjectPatch } from './schemas.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  412: ErrorBody,
};
const IfMatch = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'The version you read, e.g. "3"' })),
});
const GetQuery = Type.Object(
  {
    include_archived: Type.Optional(Type.Boolean({ description: 'Also list archived stage definitions' })),
  },
  { additionalProperties: false },
);

export const projectRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const projects = app.services.projects;

  app.get(
    '/projects',
    {
      config: { access: 'project:read' },
      schema: {
        tags: ['projects'],
        summary: 'List projects with their workflows',
        querystring: ProjectListQuery,
        response: { 200: ListEnvelope(Project), ...errors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await projects.list(request.actor, limit, request.query.cursor, request.query.include_archived);
      return okPage(page, limit, presentProject, 'project');
    },
  );

  app.post(
    '/projects',
    {
      config: { access: 'project:write' },
      schema: {
        tags: ['projects'],
        summary: 'Create a project with its workflow (admins)',
        body: ProjectCreate,
        response: { 201: Envelope(Project), ...errors },
      },
    },
    async (request, reply) => {
      const project = await projects.create(request.actor, request.body);
      reply.header('etag', `"${project.version}"`).header('location', `/api/projects/${project.id}`);
      return reply.status(201).send(ok(presentProject(project), `project ${project.key} created`));
    },
  );

  app.get(
    '/projects/:id',
    {
      config: { access: 'project:read' },
      schema: {
        tags: ['projects'],
        summary: 'Get a project by id or key',
        params: IdParams,
        querystring: GetQuery,
        response: { 200: Envelope(Project), ...errors },
      },
    },
    async (request, reply) => {
      const project = await projects.get(request.actor, request.params.id, request.query.include_archived);
      reply.header('etag', `"${project.version}"`);
      return ok(presentProject(project));
    },
  );

  for (const method of ['put', 'patch'] as const) {
    app[method](
      '/projects/:id',
      {
        config: { access: 'project:write' },
        schema: {
          tags: ['projects'],
          summary:
            method === 'put'
              ? 'Replace a project and its workflow (admins); stages are matched by key, removed ones archived'
              : 'Change some fields of a project or its workflow (admins)',
          params: IdParams,
          headers: IfMatch,
          body: ProjectPatch,
          response: { 200: Envelope(Project), ...errors },
        },
      },
      async (request, reply) => {
        const project = await projects.update(
          request.actor,
          request.params.id,
          request.body,
          method === 'put',
          versionFromIfMatch(request.headers['if-match']),
        );
        reply.header('etag', `"${project.version}"`);
        return ok(presentProject(project), `project ${project.key} updated`);
      },
    );
  }
};
