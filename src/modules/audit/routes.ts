import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody, ListEnvelope, okList } from '../../http/envelope.js';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import type { AuditLogRow } from '../../db/types.js';

const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: DateTime(),
  actor_id: Nullable(Type.String()),
  actor_name: Type.String({
    description: '`anonymous` for requests without credentials, `system` for the server itself',
  }),
  actor_role: Nullable(Type.String()),
  action: Type.String({
    description: '`auth.login`, `auth.login_failed`, `token.created`, `user.updated`, `ticket.deleted`, `ops.sent`, …',
  }),
  target_type: Nullable(Type.String()),
  target_id: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
});

const AuditQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ maxLength: 1000, description: 'Comma-separated actions' })),
    actor_id: Type.Optional(Type.String({ maxLength: 100 })),
    target_type: Type.Optional(Type.String({ maxLength: 100 })),
    target_id: Type.Optional(Type.String({ maxLength: 200 })),
    from: Type.Optional(DateTime('Entries at or after')),
    to: Type.Optional(DateTime('Entries before')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

function presentEntry(row: AuditLogRow) {
  return { ...row, at: row.at.toISOString() };
}

export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/audit',
    {
      config: { access: 'audit:read' },
      schema: {
        tags: ['accounts'],
        summary: 'The audit log, newest first (admin)',
        querystring: AuditQuery,
        response: {
          200: ListEnvelope(AuditEntry),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
        },
      },
    },
    async (request) => {
      const { action, actor_id, target_type, target_id, from, to, cursor } = request.query;
      const limit = request.query.limit ?? 50;
      const page = await app.services.audit.list(request.actor, {
        actions: action
          ?.split(',')
          .map((a) => a.trim())
          .filter(Boolean),
        actorId: actor_id,
        targetType: target_type,
        targetId: target_id,
        from: from === undefined ? undefined : new Date(from),
        to: to === undefined ? undefined : new Date(to),
        cursor,
        limit,
      });
      return okList(
        page.items.map(presentEntry),
        { limit, next_cursor: page.nextCursor },
        `${page.items.length} entr${page.items.length === 1 ? 'y' : 'ies'}`,
      );
    },
  );
};
