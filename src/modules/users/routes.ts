import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okPage } from '../../http/envelope.js';
import { IdParams } from '../../http/schema-helpers.js';
import { presentUser } from './presenter.js';
import { User, UserCreate, UserListQuery, UserPatch } from './schemas.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  412: ErrorBody,
};

export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const users = app.services.users;

  app.get(
    '/users',
    {
      config: { access: 'user:read' },
      schema: {
        tags: ['accounts'],
        summary: 'List users (admin)',
        querystring: UserListQuery,
        response: { 200: ListEnvelope(User), ...errors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await users.list(request.actor, { ...request.query, limit });
      return okPage(page, limit, presentUser, 'user');
    },
  );

  app.post(
    '/users',
    {
      config: { access: 'user:manage' },
      schema: {
        tags: ['accounts'],
        summary: 'Create a user (admin)',
        body: UserCreate,
        response: { 201: Envelope(User), ...errors },
      },
    },
    async (request, reply) => {
      const user = await users.create(request.actor, request.body);
      return reply.status(201).send(ok(presentUser(user), `user ${user.email} created`));
    },
  );

  app.get(
    '/users/:id',
    {
      config: { access: 'user:read' },
      schema: {
        tags: ['accounts'],
        summary: 'Get a user (admin)',
        params: IdParams,
        response: { 200: Envelope(User), ...errors },
      },
    },
    async (request) => ok(presentUser(await users.get(request.actor, request.params.id))),
  );

  app.patch(
    '/users/:id',
    {
      config: { access: 'user:manage' },
      schema: {
        tags: ['accounts'],
        summary: 'Change a user (admin): name, email, role, password, customer emails, disabled',
        params: IdParams,
        body: UserPatch,
        response: { 200: Envelope(User), ...errors },
      },
    },
    async (request) => ok(presentUser(await users.update(request.actor, request.params.id, request.body)), 'user updated'),
  );

  app.delete(
    '/users/:id',
    {
      config: { access: 'user:manage' },
      schema: {
        tags: ['accounts'],
        summary: 'Delete a user and their sessions and tokens (admin)',
        params: IdParams,
        response: { 200: Envelope(User), ...errors },
      },
    },
    async (request) => ok(presentUser(await users.delete(request.actor, request.params.id)), 'user deleted'),
  );
};
