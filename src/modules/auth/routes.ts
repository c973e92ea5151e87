import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okPage } from '../../http/envelope.js';
import { IdParams } from '../../http/schema-helpers.js';
import { AppError } from '../../errors.js';
import { abilitiesOf } from '../access/policy.js';
import { presentUser } from '../users/presenter.js';
import { CSRF_COOKIE, SESSION_COOKIE, clearSessionCookies, sessionCookieOptions } from './plugin.js';
import { presentToken } from './presenter.js';
import { ApiToken, CreatedApiToken, LoginBody, LoginResult, Me, TokenCreate, TokenListQuery } from './schemas.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  429: ErrorBody,
};

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { auth, tokens, users } = app.services;

  app.post(
    '/auth/login',
    {
      config: { access: 'public' },
      schema: {
        tags: ['accounts'],
        summary: 'Sign in with email and password: sets the session cookie',
        body: LoginBody,
        response: { 200: Envelope(LoginResult), ...errors },
      },
    },
    async (request, reply) => {
      try {
        const result = await auth.login(
          request.body.email,
          request.body.password,
          { ip: request.ip, userAgent: request.headers['user-agent'] },
          request.cookies[SESSION_COOKIE],
        );
        reply.setCookie(SESSION_COOKIE, result.sessionToken, {
          ...sessionCookieOptions(result.expiresAt),
          httpOnly: true,
        });
        reply.setCookie(CSRF_COOKIE, result.csrfToken, sessionCookieOptions(result.expiresAt));
        return ok(
          {
            user: presentUser(result.user),
            csrf_token: result.csrfToken,
            expires_at: result.expiresAt.toISOString(),
          },
          'signed in',
        );
      } catch (error) {
        if (error instanceof AppError && typeof error.extra.retry_after_seconds === 'number')
          reply.header('retry-after', String(error.extra.retry_after_seconds));
        throw error;
      }
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { access: 'account:read' },
      schema: {
        tags: ['accounts'],
        summary: 'End this session',
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await auth.logout(request.actor, request.cookies[SESSION_COOKIE]);
      clearSessionCookies(reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me',
    {
      config: { access: 'account:read' },
      schema: {
        tags: ['accounts'],
        summary: 'Who you are signed in as',
        response: { 200: Envelope(Me), ...errors },
      },
    },
    async (request) => {
      const actor = request.actor;
      const user = await users.self(actor);
      return ok({
        user: presentUser(user),
        via: actor.via === 'token' ? ('token' as const) : ('session' as const),
        scope: actor.scope,
        abilities: abilitiesOf(actor),
      });
    },
  );

  app.get(
    '/tokens',
    {
      config: { access: 'account:read' },
      schema: {
        tags: ['accounts'],
        summary: 'Your API tokens (admins: ?user_id= for another user)',
        querystring: TokenListQuery,
        response: { 200: ListEnvelope(ApiToken), ...errors },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const page = await tokens.list(request.actor, {
        ...request.query,
        limit,
      });
      return okPage(page, limit, presentToken, 'token');
    },
  );

  app.post(
    '/tokens',
    {
      config: { access: 'account:write' },
      schema: {
        tags: ['accounts'],
        summary: 'Create an API token: the answer is the only time it is shown',
        body: TokenCreate,
        response: { 201: Envelope(CreatedApiToken), ...errors },
      },
    },
    async (request, reply) => {
      const { token, secret } = await tokens.create(request.actor, request.body);
      return reply.status(201).send(ok({ ...presentToken(token), token: secret }, 'token created: store it now, it is not shown again'));
    },
  );

  app.delete(
    '/tokens/:id',
    {
      config: { access: 'account:write' },
      schema: {
        tags: ['accounts'],
        summary: 'Revoke an API token',
        params: IdParams,
        response: { 200: Envelope(ApiToken), ...errors },
      },
    },
    async (request) => ok(presentToken(await tokens.revoke(request.actor, request.params.id)), 'token revoked'),
  );
};
