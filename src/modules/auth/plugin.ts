import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../errors.js';
import { anonymousActor, assertCan, type Actor } from '../access/policy.js';
import { ruleAction, type AccessRule } from '../access/route-access.js';
import { sha256 } from './secrets.js';

export const SESSION_COOKIE = 'stageline_session';
/** Readable by the dashboard's script (not HttpOnly): it sends the value back as the `X-CSRF-Token` header. */
export const CSRF_COOKIE = 'stageline_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** Every route with the rule that protects it (null: none declared, so admin-only); the matrix test walks these. */
export type ProtectedRoute = {
  method: string;
  url: string;
  rule: AccessRule | null;
  schema?: FastifySchema;
};

declare module 'fastify' {
  interface FastifyInstance {
    protectedRoutes: readonly ProtectedRoute[];
  }
}

/** Methods that change something: a session-authenticated request with one must carry the CSRF header. */
export const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const unlimitedRoutes = new Set(['/healthz', '/readyz']);

export function sessionCookieOptions(expires?: Date) {
  return {
    path: '/',
    sameSite: 'lax' as const,
    secure: 'auto' as const,
    ...(expires ? { expires } : {}),
  };
}

export function clearSessionCookies(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, {
    ...sessionCookieOptions(),
    httpOnly: true,
  });
  reply.clearCookie(CSRF_COOKIE, sessionCookieOptions());
}

function unauthenticated(reply: FastifyReply, message: string): AppError {
  reply.header('www-authenticate', 'Bearer realm="stageline"');
  return new AppError('UNAUTHENTICATED', message);
}

/**
 * Authentication and the route-level access check for every request. Each route declares its rule in
 * `config.access`; credentials are an API token
 * (`Authorization: Bearer …`) or the session cookie, whose writes must carry the CSRF token. Also the general
 * rate limit, keyed by user (or address without credentials).
 */
export const authPlugin = fp(
  async (app: FastifyInstance) => {
    const settings = app.config.auth;
    const { auth, tokens } = app.services;
    await app.register(cookie);

    if (settings.anonymousRole) {
      app.log.warn(
        { anonymousRole: settings.anonymousRole },
        `ANONYMOUS_ROLE is set: requests without credentials to the older systems' routes act as ${settings.anonymousRole}; unset it once their clients send tokens`,
      );
    }

    const routes: ProtectedRoute[] = [];
    app.decorate('protectedRoutes', routes);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method === 'OPTIONS') continue;
        routes.push({
          method,
          url: route.url,
          rule: route.config?.access ?? null,
          schema: route.schema,
        });
      }
    });
    app.addHook('onReady', async () => {
      const unprotected = routes.filter((route) => route.rule === null).map((route) => `${route.method} ${route.url}`);
      if (unprotected.length > 0) app.log.warn({ routes: unprotected }, 'routes without an access rule: only admins may use them');
    });

    const rules = new Map<string, AccessRule | null>();
    const ruleOf = (request: FastifyRequest): AccessRule | null => {
      const { url, config } = request.routeOptions;
      // No route matched: the 404 answer (or the single-page app's fallback) needs no credentials.
      if (url === undefined) return 'public';
      const key = `${request.method} ${url}`;
      let rule = rules.get(key);
      if (rule === undefined) {
        rule = request.method === 'OPTIONS' ? 'public' : (config.access ?? null);
        rules.set(key, rule);
      }
      return rule;
    };

    const authenticate = async (request: FastifyRequest, reply: FastifyReply, rule: AccessRule | null): Promise<Actor> => {
      const header = request.headers.authorization;
      if (header !== undefined) {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
        if (!match) throw unauthenticated(reply, 'the Authorization header must be "Bearer <token>"');
        const actor = await tokens.authenticate(match[1], request.ip);
        if (!actor) throw unauthenticated(reply, 'the API token is unknown, expired or revoked');
        return actor;
      }
      const sessionToken = request.cookies[SESSION_COOKIE];
      if (sessionToken) {
        const session = await auth.authenticateSession(sessionToken, request.ip);
        if (!session) {
          clearSessionCookies(reply);
          throw unauthenticated(reply, 'your session has ended; sign in again');
        }
        // A cross-site form or script cannot read the CSRF token, so it cannot repeat it in a header.
        if (unsafeMethods.has(request.method)) {
          const sent = request.headers[CSRF_HEADER];
          if (typeof sent !== 'string' || sha256(sent) !== session.csrfHash) {
            throw new AppError('FORBIDDEN', 'a signed-in browser must send the X-CSRF-Token header with every change', [
              {
                field: `header ${CSRF_HEADER}`,
                problem: `must repeat the ${CSRF_COOKIE} cookie (also returned at login)`,
              },
            ]);
          }
        }
        return session.actor;
      }
      if (rule !== null && typeof rule === 'object' && settings.anonymousRole) return anonymousActor(settings.anonymousRole, request.ip);
      throw unauthenticated(reply, 'sign in, or send an API token as "Authorization: Bearer <token>"');
    };

    app.addHook('onRequest', async (request, reply) => {
      request.actor = anonymousActor('customer', request.ip);
      const rule = ruleOf(request);
      if (rule === 'public' || (rule === 'metrics:read' && settings.metricsPublic)) return;
      const actor = await authenticate(request, reply, rule);
      const action = rule === null ? null : ruleAction(rule);
      if (rule === null && actor.role !== 'admin')
        throw new AppError('FORBIDDEN', 'this route has no access rule yet: only admins may use it');
      if (action) assertCan(actor, action);
      request.actor = actor;
    });

    if (settings.rateLimitMax > 0) {
      await app.register(rateLimit, {
        max: settings.rateLimitMax,
        timeWindow: settings.rateLimitWindowSeconds * 1000,
        enableDraftSpec: true,
        // Runs after authentication, so a signed-in user has one budget whichever token or address they use.
        keyGenerator: (request) => (request.actor?.id ? `user:${request.actor.id}` : `ip:${request.ip}`),
        allowList: (request) => unlimitedRoutes.has(request.routeOptions.url ?? ''),
        errorResponseBuilder: (_request, context) =>
          new AppError(
            'RATE_LIMITED',
            `rate limit exceeded: at most ${context.max} requests per ${settings.rateLimitWindowSeconds} s; try again in ${context.after}`,
          ),
      });
    }
  },
  { name: 'stageline-auth' },
);
