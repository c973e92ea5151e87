import type { SwaggerOptions } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import type { Config } from '../config.js';
import { ruleAction, type AccessRule } from '../modules/access/route-access.js';
import { CSRF_COOKIE, SESSION_COOKIE, unsafeMethods } from '../modules/auth/plugin.js';
import { webhookOpenApi } from '../modules/webhooks/openapi.js';
import { operationIds } from './operation-ids.js';

export const apiInfo = {
  title: 'Stageline API',
  version: '0.1.0',
  description:
    'Where every support ticket is, how long it has been there, what is late, and its hand-off to OPS. ' +
    "Routes under /api answer the `{ success, message, data, timestamp }` envelope; the older systems' routes " +
    '(/tickets, /stages) answer bare JSON as their clients expect. Answers are compressed (br, gzip) when the ' +
    'client accepts it.',
  license: { name: 'MIT', identifier: 'MIT' },
};

/** How a caller proves who it is (src/modules/auth/plugin.ts): an API token, or the dashboard's session. */
export const securitySchemes = {
  apiToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token (`POST /api/tokens`, or the admin token printed at first start) as `Authorization: Bearer <token>`.',
  },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description: "The dashboard's session cookie, set by `POST /api/auth/login`.",
  },
  csrf: {
    type: 'apiKey',
    in: 'header',
    name: 'X-CSRF-Token',
    description: `With the session cookie, every POST, PUT, PATCH and DELETE repeats the \`${CSRF_COOKIE}\` cookie (also in the login's answer) in this header.`,
  },
} as const;

type SecurityRequirement = Partial<Record<keyof typeof securitySchemes, string[]>>;

/**
 * The `security` of a route, from the same access rule the auth plugin enforces: none for public routes; a
 * token, or the session (with the CSRF header on writes) otherwise; and also none for the older systems' routes
 * when ANONYMOUS_ROLE lets their clients in without credentials.
 */
export function securityOf(method: string, rule: AccessRule | null, auth: Config['auth']): SecurityRequirement[] {
  if (rule === 'public' || (rule === 'metrics:read' && auth.metricsPublic)) return [];
  const session: SecurityRequirement = unsafeMethods.has(method) ? { session: [], csrf: [] } : { session: [] };
  const anonymous = typeof rule === 'object' && rule !== null && auth.anonymousRole ? [{}] : [];
  return [{ apiToken: [] }, session, ...anonymous];
}

function permissionNote(rule: AccessRule | null): string {
  const action = rule === null ? 'admin' : ruleAction(rule);
  return action === null ? '' : `Permission: \`${action}\`.`;
}

/** @fastify/swagger's options: the document's frame, and each route's operationId and security added in one place. */
export function openApiOptions(config: Config): SwaggerOptions {
  return {
    // Shared schemas keep their own names in components (ErrorBody, not def-0).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`) },
    openapi: {
      openapi: '3.1.0',
      info: apiInfo,
      servers: [{ url: '/', description: 'The Stageline server that serves this document' }],
      tags: [
        { name: 'tickets', description: 'Tickets (Stageline API)' },
        { name: 'stages', description: 'Stage records (Stageline API)' },
        { name: 'projects', description: 'Projects and their stage workflows, calendars and targets' },
        { name: 'fields', description: 'Custom ticket fields per project: typed, validated, searchable, able to gate a stage' },
        { name: 'workflow', description: 'Stage transitions, ticket history, comments and timelines' },
        { name: 'monitor', description: 'Dashboard numbers: overview, delayed tickets, stage statistics, throughput, flow, aging' },
        { name: 'events', description: 'Live updates (Server-Sent Events)' },
        { name: 'search', description: 'The search box: field terms and ranked full text; saved views; streaming export' },
        { name: 'ops', description: 'Hand-offs to OPS, their status and the log of every exchange' },
        { name: 'legacy', description: "The older systems' routes, in their wire format" },
        { name: 'accounts', description: 'Sign-in, users and roles, API tokens, the audit log' },
        { name: 'system', description: 'Health, readiness, metrics' },
        {
          name: 'notifications',
          description: 'E-mail notifications: preferences, watchers, view subscriptions, the mail log, unsubscribe',
        },
        { name: 'webhooks', description: 'Outgoing webhooks: receivers, deliveries, redelivery, ping (payloads: see `webhooks`)' },
      ],
      // What Stageline POSTs to webhook receivers (OpenAPI 3.1 `webhooks`), and the event body they share.
      webhooks: webhookOpenApi.webhooks,
      components: {
        schemas: webhookOpenApi.schemas,
        securitySchemes: { ...securitySchemes, ...webhookOpenApi.securitySchemes },
      },
    },
    transform: ({ schema, url, route }) => {
      const methods = [route.method].flat().filter((method) => method !== 'HEAD');
      if (schema?.hide || methods.length !== 1) return { schema, url };
      const [method] = methods;
      const rule = route.config?.access ?? null;
      const note = permissionNote(rule);
      const documented: FastifySchema & { operationId?: string; security?: SecurityRequirement[]; description?: string } = {
        ...schema,
        operationId: operationIds[`${method} ${url}`],
        security: securityOf(method, rule, config.auth),
      };
      if (note) documented.description = [schema?.description, note].filter(Boolean).join('\n\n');
      return { schema: documented, url };
    },
  };
}
