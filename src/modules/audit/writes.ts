import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Action } from '../access/policy.js';

/** Writes that record themselves in their own transaction (accounts), and those with no actor to name (public). */
const selfRecorded = new Set<string>(['account', 'user', 'audit']);
const verbs: Record<string, string> = { POST: 'created', PUT: 'updated', PATCH: 'updated', DELETE: 'deleted' };
const genericVerbs = new Set(['create', 'update', 'delete', 'write']);

/** `ticket:update` + PATCH → `ticket.updated`; `stage:write` + POST → `stage.created`; `ops:send` → `ops.send`. */
export function auditAction(action: Action, method: string): string {
  const [noun, verb] = action.split(':');
  return genericVerbs.has(verb) ? `${noun}.${verbs[method]}` : `${noun}.${verb}`;
}

function targetId(request: FastifyRequest, payload: unknown): string | null {
  const params = request.params as Record<string, unknown> | undefined;
  if (typeof params?.id === 'string') return params.id;
  if (typeof payload !== 'string' || payload.length > 1_000_000) return null;
  try {
    const body = JSON.parse(payload) as { id?: unknown; data?: { id?: unknown } };
    const id = body.data?.id ?? body.id;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
  } catch {
    return null;
  }
}

/**
 * Every successful write through a protected route (tickets, stages, OPS sends, projects, comments, imports, … and
 * routes added later) gets an audit entry before the answer leaves: actor, address, route, target and the fields
 * sent (names only). Services that want the entry in the same transaction as the change call `audit.record(tx, …)`
 * themselves and set `config: { audit: false }` on the route.
 */
export function auditWrites(app: FastifyInstance, actionOf: (request: FastifyRequest) => Action | null): void {
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (!(request.method in verbs) || reply.statusCode >= 300 || request.routeOptions.config.audit === false) return payload;
    const action = actionOf(request);
    if (action === null) return payload;
    const noun = action.split(':')[0];
    if (selfRecorded.has(noun)) return payload;
    const body = request.body;
    // The change is committed already: failing to note it must not turn its success into an error for the caller.
    await app.services.audit
      .record(app.database.db, {
        actor: request.actor,
        action: auditAction(action, request.method),
        target: { type: noun === 'ops' ? 'ticket' : noun, id: targetId(request, payload) ?? '' },
        details: {
          method: request.method,
          route: request.routeOptions.url,
          status: reply.statusCode,
          ...(body && typeof body === 'object' && !Array.isArray(body) ? { fields: Object.keys(body) } : {}),
        },
      })
      .catch((error: unknown) => request.log.error({ err: error }, 'could not write the audit entry of a successful change'));
    return payload;
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route's service records its own audit entry (in the change's transaction). */
    audit?: boolean;
  }
}
