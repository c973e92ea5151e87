import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorBody } from '../../http/envelope.js';
import { ChangeStream } from './stream.js';

const EventsQuery = Type.Object(
  {
    project: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only changes of this project (key or id)' })),
    last_event_id: Type.Optional(
      Type.String({ maxLength: 64, description: 'Resume after this event id (same as the Last-Event-ID header)' }),
    ),
  },
  { additionalProperties: false },
);
const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ maxLength: 64, description: 'Resume after this event id' })),
});

export const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const events = app.services.events;
  const streams = new Set<ChangeStream>();

  // Before the server stops waiting for connections: open streams would otherwise hold it open.
  app.addHook('preClose', async () => {
    await Promise.all([...streams].map((stream) => stream.close()));
    await events.feed.close();
  });

  app.get(
    '/events',
    {
      config: { access: 'events:read' },
      schema: {
        tags: ['events'],
        summary:
          'Server-Sent Events: every ticket, stage and history change (event: ticket | stage | history), resumable with Last-Event-ID',
        querystring: EventsQuery,
        headers: EventsHeaders,
        response: {
          200: {
            description:
              'text/event-stream: `id: <event id>`, `event: ticket|stage|history`, `data: {"entity","op","id","ticket_id","project_id","at"}`',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { cursor, projectId } = await events.start(
        request.actor,
        request.query.project,
        request.headers['last-event-id'] ?? request.query.last_event_id,
      );
      reply.hijack();
      reply.raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      reply.raw.write('retry: 2000\n\n');
      const stream = new ChangeStream(
        reply.raw,
        cursor,
        (from, limit) => events.read(from, projectId, limit),
        (error) => request.log.error({ err: error }, 'event stream failed'),
      );
      streams.add(stream);
      reply.raw.on('close', () => streams.delete(stream));
      await stream.open((wake) => events.feed.subscribe(wake));
    },
  );
};
