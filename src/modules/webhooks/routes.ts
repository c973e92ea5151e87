import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ErrorBody, ListEnvelope, ok, okList } from '../../http/envelope.js';
import { presentDelivery, presentWebhook } from './presenter.js';
import {
  DeliveryParams,
  PageQuery,
  Webhook,
  WebhookCreate,
  WebhookDelivery,
  WebhookMaybeSecret,
  WebhookParams,
  WebhookPatch,
  WebhookWithSecret,
} from './schemas.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const tags = ['webhooks'];

/** `/api/webhooks`: admins register receivers, read each delivery's exchange, redeliver and ping. */
export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const webhooks = app.services.webhooks;
  app.addHook('onClose', async () => app.services.webhookSender.close());

  app.get(
    '/webhooks',
    {
      config: { access: 'webhook:read' },
      schema: { tags, summary: 'Webhooks, oldest first', querystring: PageQuery, response: { 200: ListEnvelope(Webhook), ...errors } },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await webhooks.list(request.actor, limit, cursor);
      return okList(page.rows.map(presentWebhook), { limit, next_cursor: page.nextCursor });
    },
  );

  app.post(
    '/webhooks',
    {
      config: { access: 'webhook:manage' },
      schema: {
        tags,
        summary: 'Register a webhook',
        description:
          'Events matching `events` are POSTed to `url`, signed with the secret (see the `webhooks` section of this document). ' +
          'The answer carries the secret: the only time it is shown.',
        body: WebhookCreate,
        response: { 201: Envelope(WebhookWithSecret), ...errors },
      },
    },
    async (request, reply) => {
      const { hook, secret } = await webhooks.create(request.actor, request.body);
      reply.header('location', `/api/webhooks/${hook.id}`);
      return reply.status(201).send(ok({ ...presentWebhook(hook), secret }, `webhook ${hook.id} created`));
    },
  );

  app.get(
    '/webhooks/:id',
    {
      config: { access: 'webhook:read' },
      schema: { tags, summary: 'One webhook', params: WebhookParams, response: { 200: Envelope(Webhook), ...errors } },
    },
    async (request) => ok(presentWebhook(await webhooks.get(request.actor, request.params.id))),
  );

  app.patch(
    '/webhooks/:id',
    {
      config: { access: 'webhook:manage' },
      schema: {
        tags,
        summary: 'Change a webhook, enable it again, or rotate its secret',
        params: WebhookParams,
        body: WebhookPatch,
        response: { 200: Envelope(WebhookMaybeSecret), ...errors },
      },
    },
    async (request) => {
      const { hook, secret } = await webhooks.update(request.actor, request.params.id, request.body);
      return ok({ ...presentWebhook(hook), ...(secret ? { secret } : {}) }, `webhook ${hook.id} updated`);
    },
  );

  app.delete(
    '/webhooks/:id',
    {
      config: { access: 'webhook:manage' },
      schema: {
        tags,
        summary: 'Delete a webhook and its delivery log',
        params: WebhookParams,
        response: { 200: Envelope(Webhook), ...errors },
      },
    },
    async (request) => {
      const hook = await webhooks.remove(request.actor, request.params.id);
      return ok(presentWebhook(hook), `webhook ${hook.id} deleted`);
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      config: { access: 'webhook:read' },
      schema: {
        tags,
        summary: "A webhook's deliveries, newest first: what was sent, what came back, how long it took",
        params: WebhookParams,
        querystring: PageQuery,
        response: { 200: ListEnvelope(WebhookDelivery), ...errors },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await webhooks.deliveries(request.actor, request.params.id, limit, cursor);
      return okList(page.rows.map(presentDelivery), { limit, next_cursor: page.nextCursor });
    },
  );

  app.post(
    '/webhooks/:id/deliveries/:delivery/redeliver',
    {
      config: { access: 'webhook:manage' },
      schema: {
        tags,
        summary: 'Send a delivered or failed event again (a new delivery, same event id and body; one attempt)',
        params: DeliveryParams,
        response: { 202: Envelope(WebhookDelivery), ...errors },
      },
    },
    async (request, reply) => {
      const delivery = await webhooks.redeliver(request.actor, request.params.id, request.params.delivery);
      return reply.status(202).send(ok(presentDelivery(delivery), `event ${delivery.event_id} queued again`));
    },
  );

  app.post(
    '/webhooks/:id/ping',
    {
      config: { access: 'webhook:manage' },
      schema: {
        tags,
        summary: 'Send a `ping` event to check the URL and secret (one attempt; works on a disabled hook too)',
        params: WebhookParams,
        response: { 202: Envelope(WebhookDelivery), ...errors },
      },
    },
    async (request, reply) => {
      const delivery = await webhooks.ping(request.actor, request.params.id);
      return reply.status(202).send(ok(presentDelivery(delivery), 'ping queued'));
    },
  );
};
