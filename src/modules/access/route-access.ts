import type { FastifyInstance } from 'fastify';
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
    /**
     * How the route is protected, declared on every route (routes registered by a plugin get it from the wrapper
     * that registers the plugin, see `withAccess`). A route without one is admin-only and fails the route × role
     * matrix test until it declares one.
     */
    access?: AccessRule;
  }
}

/** The older systems' routes: their clients never sent credentials, so `ANONYMOUS_ROLE` may act for them. */
export const legacy = (action: Action): AccessRule => ({ action, anonymous: true });

/** The action a rule requires (null for public routes). */
export function ruleAction(rule: AccessRule): Action | null {
  if (rule === 'public') return null;
  return typeof rule === 'string' ? rule : rule.action;
}

/**
 * Registers a plugin whose routes we do not write (the API docs UI) with one access rule for all of them, so that
 * they too declare their rule in `config.access` like every other route.
 */
export function withAccess(rule: AccessRule, register: (app: FastifyInstance) => PromiseLike<unknown>) {
  return async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: route.config?.access ?? rule };
    });
    await register(app);
  };
}
