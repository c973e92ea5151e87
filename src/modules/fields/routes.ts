import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okList } from '../../http/envelope.js';
import { IdParams } from '../../http/schema-helpers.js';
import { presentFieldDefinition } from './presenter.js';
import { FieldCreate, FieldDefinition, FieldListQuery, FieldParams, FieldPatch } from './schemas.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** Custom ticket fields per project (issue 25): admins define them; whoever reads tickets reads them. */
export const fieldRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const fields = app.services.fields;

  app.get(
    '/projects/:id/fields',
    {
      config: { access: 'ticket:read' },
      schema: {
        tags: ['fields'],
        summary: "A project's custom ticket fields in order (customers: only those marked customer_visible)",
        params: IdParams,
        querystring: FieldListQuery,
        response: { 200: ListEnvelope(FieldDefinition), ...errors },
      },
    },
    async (request) => {
      const rows = await fields.list(request.actor, request.params.id, request.query.include_archived ?? false);
      return okList(rows.map(presentFieldDefinition), { limit: rows.length, next_cursor: null }, `${rows.length} field(s)`);
    },
  );

  app.post(
    '/projects/:id/fields',
    {
      config: { access: 'project:write' },
      schema: {
        tags: ['fields'],
        summary: 'Define a custom ticket field (admins)',
        params: IdParams,
        body: FieldCreate,
        response: { 201: Envelope(FieldDefinition), ...errors },
      },
    },
    async (request, reply) => {
      const field = await fields.create(request.actor, request.params.id, request.body);
      reply.header('location', `/api/projects/${request.params.id}/fields/${field.key}`);
      return reply.status(201).send(ok(presentFieldDefinition(field), `field ${field.key} created`));
    },
  );

  app.patch(
    '/projects/:id/fields/:key',
    {
      config: { access: 'project:write' },
      schema: {
        tags: ['fields'],
        summary: 'Change a custom field (admins); a type change is refused while stored values would not convert',
        params: FieldParams,
        body: FieldPatch,
        response: { 200: Envelope(FieldDefinition), ...errors },
      },
    },
    async (request) => {
      const field = await fields.update(request.actor, request.params.id, request.params.key, request.body);
      return ok(presentFieldDefinition(field), `field ${field.key} updated`);
    },
  );

  app.delete(
    '/projects/:id/fields/:key',
    {
      config: { access: 'project:write' },
      schema: {
        tags: ['fields'],
        summary: 'Archive a custom field (admins): it takes no new values; stored values and history stay',
        params: FieldParams,
        response: { 200: Envelope(FieldDefinition), ...errors },
      },
    },
    async (request) => {
      const field = await fields.archive(request.actor, request.params.id, request.params.key);
      return ok(presentFieldDefinition(field), `field ${field.key} archived`);
    },
  );
};
