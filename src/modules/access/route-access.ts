import type { Action } from './policy.js';

/**
 * How a route is protected:
 * - `'public'`: no credentials needed (credentials sent anyway are ignored);
 * - an `Action`: signed in, and the policy lets the actor's role and scope do it (else 403);
 * - `{ action, anonymous: true }`: the same, but a request without credentials acts with `ANONYMOUS_ROLE` when
 *   set (the older systems' routes, whose clients never sent any).
 * `'metrics:read'` is public when `METRICS_PUBLIC=true`.
 */
export type AccessRule = 'public' | Action | { action: Action; anonymous: true };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Declares how the route is protected; routes without it are looked up in `routeAccess` below. */
    access?: AccessRule;
  }
}

const legacy = (action: Action): AccessRule => ({ action, anonymous: true });

/**
 * Rules for routes that do not declare `config: { access }` themselves, by `METHOD /url` as registered.
 * A key ending in `/*` covers every route under that prefix. A route with no rule at all is admin-only and
 * fails the route × role matrix test until it gets one.
 */
export const routeAccess: Record<string, AccessRule> = {
  // System
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /openapi.json': 'public',
  'GET /docs': 'public',
  'GET /docs/*': 'public',
  'GET /metrics': 'metrics:read',
  // Static files and the single-page app shell
  'GET /': 'public',
  'GET /app': 'public',
  'GET /app/*': 'public',

  // Accounts (this module)
  'POST /api/auth/login': 'public',
  'POST /api/auth/logout': 'account:read',
  'GET /api/me': 'account:read',
  'GET /api/tokens': 'account:read',
  'POST /api/tokens': 'account:write',
  'DELETE /api/tokens/:id': 'account:write',
  'GET /api/users': 'user:read',
  'POST /api/users': 'user:manage',
  'GET /api/users/:id': 'user:read',
  'PATCH /api/users/:id': 'user:manage',
  'DELETE /api/users/:id': 'user:manage',
  'GET /api/audit': 'audit:read',

  // Tickets and stages
  'GET /api/tickets': 'ticket:read',
  'POST /api/tickets': 'ticket:create',
  'GET /api/tickets/:id': 'ticket:read',
  'PUT /api/tickets/:id': 'ticket:update',
  'PATCH /api/tickets/:id': 'ticket:update',
  'DELETE /api/tickets/:id': 'ticket:delete',
  'GET /api/stages': 'stage:read',
  'POST /api/stages': 'stage:write',
  'GET /api/stages/:id': 'stage:read',
  'PUT /api/stages/:id': 'stage:write',
  'PATCH /api/stages/:id': 'stage:write',
  'DELETE /api/stages/:id': 'stage:delete',

  // The older systems' routes
  'GET /tickets': legacy('ticket:read'),
  'POST /tickets': legacy('ticket:create'),
  'GET /tickets/:id': legacy('ticket:read'),
  'PUT /tickets/:id': legacy('ticket:update'),
  'DELETE /tickets/:id': legacy('ticket:delete'),
  'GET /stages': legacy('stage:read'),
  'POST /stages': legacy('stage:write'),
  'GET /stages/:id': legacy('stage:read'),
  'PUT /stages/:id': legacy('stage:write'),
  'POST /api/ops/:id': legacy('ops:send'),
  'GET /api/status/:id': legacy('ops:read'),
};

/** The rule for one route: its own `config.access`, else the table (HEAD follows GET); undefined when none. */
export function accessRuleFor(method: string, url: string, declared?: AccessRule): AccessRule | undefined {
  if (declared !== undefined) return declared;
  const verb = method === 'HEAD' ? 'GET' : method;
  const exact = routeAccess[`${verb} ${url}`];
  if (exact !== undefined) return exact;
  for (const [key, rule] of Object.entries(routeAccess)) {
    if (!key.endsWith('/*')) continue;
    const [keyVerb, pattern] = key.split(' ');
    if (keyVerb === verb && url.startsWith(pattern.slice(0, -1))) return rule;
  }
  return undefined;
}

/** The action a rule requires (null for public routes). */
export function ruleAction(rule: AccessRule): Action | null {
  if (rule === 'public') return null;
  return typeof rule === 'string' ? rule : rule.action;
}
