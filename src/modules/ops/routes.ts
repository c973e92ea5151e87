import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { legacy } from '../access/route-access.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Envelope, ErrorBody, ListEnvelope, ok, okList } from '../../http/envelope.js';
import { IdParams } from '../../http/schema-helpers.js';
import type { OpsLogAction } from '../../db/types.js';
import { OpsCallbackBody, opsHeaders } from './contract.js';
import { presentHandOff, presentLogEntry } from './presenter.js';
import {
  CallbackResult,
  Delivered,
  HandOff,
  HandOffState,
  LogEntry,
  LogsQuery,
  QueueQuery,
  SendBody,
  SendQuery,
  StatusData,
  TicketLogsQuery,
} from './schemas.js';
import type { SendOutcome } from './service.js';

const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const tags = ['ops'];

function actionsOf(list: string | undefined): OpsLogAction[] | undefined {
  return list ? (list.split(',') as OpsLogAction[]) : undefined;
}

/** `POST /api/ops/:id`, `GET /api/status/:id` (the old backend's routes, same envelope), the queue, the log, callbacks. */
export const opsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ops = app.services.ops;

  /** 200 with the old backend's `{ ticketId, opsId, timestamp }` when delivered, else 202 with the hand-off. */
  const answer = (reply: FastifyReply, id: string, outcome: SendOutcome) =>
    'delivered' in outcome
      ? ok(outcome.delivered, `Ticket ${outcome.delivered.ticketId} sent to OPS successfully`)
      : reply.status(202).send(ok(presentHandOff(outcome.handOff), `Ticket ${id} queued for OPS`));
  const sendSchema = (summary: string, description: string) => ({
    tags,
    summary,
    description,
    params: IdParams,
    querystring: SendQuery,
    body: SendBody,
    response: {
      200: Envelope(Delivered),
      202: Envelope(HandOff),
      ...errors,
      503: ErrorBody,
    },
  });

  app.post(
    '/ops/:id',
    {
      config: { access: legacy('ops:send') },
      schema: sendSchema(
        'Send a ticket to OPS',
        'Records the hand-off durably (the ticket becomes `pending`), then delivers it. 200 with the OPS id when OPS accepts ' +
          'within OPS_WAIT_MS; otherwise 202 with the hand-off, which is retried with backoff until OPS accepts ' +
          '(ticket `sent`) or attempts run out (ticket `failed`; send again to retry). 409 when OPS already has the ticket ' +
          '(`?force=true` sends it again) or a hand-off is under way. The older OPS backend route, same envelope.',
      ),
    },
    async (request, reply) =>
      answer(reply, request.params.id, await ops.send(request.actor, request.params.id, { ...request.query, retry: false })),
  );

  app.post(
    '/ops/:id/retry',
    {
      config: { access: 'ops:send' },
      schema: sendSchema(
        'Send a failed ticket to OPS again',
        'Like `POST /api/ops/:id`, for a ticket whose hand-off failed (logged as `retry`).',
      ),
    },
    async (request, reply) =>
      answer(reply, request.params.id, await ops.send(request.actor, request.params.id, { ...request.query, retry: true })),
  );

  app.get(
    '/status/:id',
    {
      config: { access: legacy('ops:read') },
      schema: {
        tags,
        summary: "Ask OPS for a ticket's state",
        description:
          'Asks OPS now and updates the ticket (sent → in_progress / delayed / closed / failed), writing history. 400 for a ticket ' +
          'never sent; 503 when OPS does not answer, with the last known status in `data`. The older OPS backend route.',
        params: IdParams,
        response: {
          200: Envelope(StatusData),
          400: ErrorBody,
          404: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request) => ok(await app.services.opsStatus.status(request.actor, request.params.id), 'Status retrieved successfully'),
  );

  app.get(
    '/ops/queue',
    {
      config: { access: 'ops:read' },
      schema: {
        tags,
        summary: 'Hand-offs waiting for OPS',
        querystring: QueueQuery,
        response: { 200: ListEnvelope(HandOff), 400: ErrorBody },
      },
    },
    async (request) => {
      const page = await ops.queue(request.actor, request.query.limit, request.query.cursor);
      return okList(page.rows.map(presentHandOff), {
        limit: request.query.limit,
        next_cursor: page.nextCursor,
      });
    },
  );

  app.get(
    '/logs',
    {
      config: { access: 'ops:read' },
      schema: {
        tags,
        summary: 'Every exchange with OPS, newest first',
        querystring: LogsQuery,
        response: { 200: ListEnvelope(LogEntry), 400: ErrorBody },
      },
    },
    async (request) => {
      const { ticket_id, action, status, from, to, limit, cursor } = request.query;
      const filters = {
        ticketId: ticket_id,
        actions: actionsOf(action),
        status,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      };
      const page = await ops.logs(request.actor, filters, limit, cursor);
      return okList(page.rows.map(presentLogEntry), {
        limit,
        next_cursor: page.nextCursor,
      });
    },
  );

  app.get(
    '/tickets/:id/ops',
    {
      config: { access: 'ops:read' },
      schema: {
        tags,
        summary: "A ticket's OPS hand-off as it stands now, and which send it may offer",
        description:
          'The OPS panel reads this (and refetches it when the ticket changes): no stale "retrying" after a send was accepted. ' +
          'Asks OPS nothing; GET /api/status/:id does.',
        params: IdParams,
        response: { 200: Envelope(HandOffState), 404: ErrorBody },
      },
    },
    async (request) => ok(await ops.handOffState(request.actor, request.params.id)),
  );

  app.get(
    '/tickets/:id/logs',
    {
      config: { access: 'ops:read' },
      schema: {
        tags,
        summary: "A ticket's exchanges with OPS, newest first",
        description: 'Kept after the ticket is deleted: its id still finds them.',
        params: IdParams,
        querystring: TicketLogsQuery,
        response: {
          200: ListEnvelope(LogEntry),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (request) => {
      const { action, status, from, to, limit, cursor } = request.query;
      const filters = {
        actions: actionsOf(action),
        status,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      };
      const page = await ops.ticketLogs(request.actor, request.params.id, filters, limit, cursor);
      return okList(page.rows.map(presentLogEntry), {
        limit,
        next_cursor: page.nextCursor,
      });
    },
  );

  await app.register(callbackRoute);

  app.addHook('onClose', async () => app.services.opsLink.close());
};

/** The callback needs the raw body for its signature, so it lives in a context with its own JSON parser. */
const callbackRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    (request as FastifyRequest & { rawBody?: string }).rawBody = body as string;
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch {
      done(
        Object.assign(new Error('the body is not valid JSON'), {
          statusCode: 400,
        }),
        undefined,
      );
    }
  });

  app.post(
    '/ops/callback',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'OPS pushes a state change',
        description:
          'Signed by OPS: `X-OPS-Timestamp` (seconds since the epoch, within 5 minutes of our clock) and ' +
          '`X-OPS-Signature: sha256=<hex HMAC-SHA256(OPS_CALLBACK_SECRET, "<timestamp>.<raw body>")>`. ' +
          'A bad, missing, old or replayed signature → 401.',
        body: OpsCallbackBody,
        response: {
          200: Envelope(CallbackResult),
          400: ErrorBody,
          401: ErrorBody,
          404: ErrorBody,
        },
      },
      // The signature is checked before the body is validated: an unsigned caller learns nothing about the schema.
      preValidation: async (request) => {
        const raw = (request as FastifyRequest & { rawBody?: string }).rawBody ?? '';
        const signature = app.services.opsStatus.verifyCallback(
          raw,
          request.headers[opsHeaders.signature] as string | undefined,
          request.headers[opsHeaders.timestamp] as string | undefined,
        );
        (request as FastifyRequest & { opsSignature?: string }).opsSignature = signature;
      },
    },
    async (request) => {
      const signature = (request as FastifyRequest & { opsSignature?: string }).opsSignature!;
      return ok(await app.services.opsStatus.callback(request.body, signature), 'Callback applied');
    },
  );
};
