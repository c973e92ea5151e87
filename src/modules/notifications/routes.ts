import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../errors.js';
import { Envelope, ErrorBody, ListEnvelope, ok, okList } from '../../http/envelope.js';
import { escapeHtml } from './html.js';
import { presentDelivery, presentDeliveryDetail } from './presenter.js';
import {
  DeliveriesQuery,
  DeliveryDetail,
  DeliveryItem,
  Preferences,
  PreferencesUpdate,
  SubscribeBody,
  Subscription,
  Unsubscribed,
  UnsubscribeQuery,
  WatchBody,
  Watcher,
  WatcherParams,
} from './schemas.js';
import type { Watcher as WatcherRow } from './repository.js';

const tags = ['notifications'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const TicketParams = Type.Object({ id: Type.String({ description: 'The ticket id, or its number' }) });
const ViewParams = Type.Object({ id: Type.String({ description: 'The view id' }) });
const DeliveryParams = Type.Object({ id: Type.String({ description: 'The delivery id' }) });

const presentWatchers = (watchers: WatcherRow[]) =>
  watchers.map((watcher) => ({ userId: watcher.user_id, name: watcher.name, email: watcher.email }));

/** `text` is escaped; `trustedHtml` is markup of our own. */
function page(title: string, text: string, trustedHtml = ''): string {
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body style="font-family: sans-serif; max-width: 36em; margin: 4em auto"><h1 style="font-size: 20px">${escapeHtml(title)}</h1>` +
    `<p>${escapeHtml(text)}</p>${trustedHtml}</body></html>`
  );
}

/** E-mail preferences, watchers, view subscriptions, the mail log and unsubscribe links. */
export const notificationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const notifications = app.services.notifications;

  // RFC 8058 one-click unsubscribes POST a form; the token in the URL is all that counts, the body is not read.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data'], { parseAs: 'string' }, (_request, _body, done) =>
    done(null, undefined),
  );

  app.get(
    '/me/notifications',
    {
      config: { access: 'account:read' },
      schema: { tags, summary: 'Your e-mail notification preferences', response: { 200: Envelope(Preferences), ...errors } },
    },
    async (request) => ok(await notifications.preferences(request.actor)),
  );

  app.put(
    '/me/notifications',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        summary: 'Change your e-mail notification preferences (events may list only the ones to change)',
        body: PreferencesUpdate,
        response: { 200: Envelope(Preferences), ...errors },
      },
    },
    async (request) => ok(await notifications.updatePreferences(request.actor, request.body), 'preferences saved'),
  );

  app.get(
    '/tickets/:id/watchers',
    {
      config: { access: 'ticket:read' },
      schema: {
        tags,
        summary: 'Who watches the ticket (a customer sees only themselves)',
        params: TicketParams,
        response: { 200: Envelope(Type.Array(Watcher)), ...errors },
      },
    },
    async (request) => ok(presentWatchers(await notifications.watchers(request.actor, request.params.id))),
  );

  app.post(
    '/tickets/:id/watchers',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        summary: 'Watch the ticket (or, as agent or admin, make someone else watch it)',
        params: TicketParams,
        body: WatchBody,
        response: { 201: Envelope(Type.Array(Watcher)), ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(ok(presentWatchers(await notifications.watch(request.actor, request.params.id, request.body?.userId)), 'watching')),
  );

  app.delete(
    '/tickets/:id/watchers',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        summary: 'Stop watching the ticket',
        params: TicketParams,
        response: { 200: Envelope(Type.Array(Watcher)), ...errors },
      },
    },
    async (request) => ok(presentWatchers(await notifications.unwatch(request.actor, request.params.id, undefined)), 'not watching'),
  );

  app.delete(
    '/tickets/:id/watchers/:userId',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        summary: 'Remove a watcher (yourself, or anyone as agent or admin)',
        params: WatcherParams,
        response: { 200: Envelope(Type.Array(Watcher)), ...errors },
      },
    },
    async (request) =>
      ok(presentWatchers(await notifications.unwatch(request.actor, request.params.id, request.params.userId)), 'watcher removed'),
  );

  app.get(
    '/views/:id/subscriptions',
    {
      config: { access: 'view:read' },
      schema: {
        tags,
        summary: 'Whether you get mail about tickets matching this view',
        params: ViewParams,
        response: { 200: Envelope(Subscription), ...errors },
      },
    },
    async (request) => ok({ subscribed: await notifications.subscription(request.actor, request.params.id) }),
  );

  app.post(
    '/views/:id/subscriptions',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        summary: "Get mail about the events of tickets matching this view's search",
        params: ViewParams,
        body: SubscribeBody,
        response: { 201: Envelope(Subscription), ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(ok({ subscribed: await notifications.subscribe(request.actor, request.params.id, true) }, 'subscribed')),
  );

  app.delete(
    '/views/:id/subscriptions',
    {
      config: { access: 'account:write' },
      schema: { tags, summary: 'Stop mail about this view', params: ViewParams, response: { 200: Envelope(Subscription), ...errors } },
    },
    async (request) => ok({ subscribed: await notifications.subscribe(request.actor, request.params.id, false) }, 'unsubscribed'),
  );

  app.get(
    '/notifications/deliveries',
    {
      config: { access: 'mail:read' },
      schema: {
        tags,
        summary: 'Every notification mail, newest first (without SMTP_URL: what would have been sent)',
        querystring: DeliveriesQuery,
        response: { 200: ListEnvelope(DeliveryItem), ...errors },
      },
    },
    async (request) => {
      const { status, to, limit, cursor } = request.query;
      const result = await notifications.deliveries(request.actor, { status, to }, limit, cursor);
      return okList(result.rows.map(presentDelivery), { limit, next_cursor: result.nextCursor });
    },
  );

  app.get(
    '/notifications/deliveries/:id',
    {
      config: { access: 'mail:read' },
      schema: {
        tags,
        summary: 'One mail with its text, HTML and headers',
        params: DeliveryParams,
        response: { 200: Envelope(DeliveryDetail), ...errors },
      },
    },
    async (request) => ok(presentDeliveryDetail(await notifications.delivery(request.actor, request.params.id))),
  );

  // The link only asks: mail filters that open every link in a message must not unsubscribe anyone. The button
  // posts to the same address, which is also where mail clients send RFC 8058 one-click unsubscribes.
  app.get(
    '/notifications/unsubscribe',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'The unsubscribe link in every mail: a small HTML page that asks to confirm with one button',
        querystring: UnsubscribeQuery,
        produces: ['text/html'],
        // A link that fails its checks gets a page; a query refused before (bad characters) the error envelope.
        response: { 200: Type.String({ description: 'An HTML page' }), 400: Type.Union([ErrorBody, Type.String()]), 403: Type.String() },
      },
    },
    async (request, reply) => {
      reply.type('text/html; charset=utf-8');
      try {
        const { address, event } = await notifications.unsubscribeScope(request.query.token);
        return page(
          'Unsubscribe?',
          `Stop sending ${whatOf(event)} to ${address}?`,
          `<form method="post"><button type="submit" style="font-size: 16px; padding: 6px 14px">Unsubscribe</button></form>`,
        );
      } catch (error) {
        return linkFailed(error, reply);
      }
    },
  );

  app.post(
    '/notifications/unsubscribe',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'RFC 8058 one-click unsubscribe (List-Unsubscribe-Post): the same as the link, for mail clients',
        querystring: UnsubscribeQuery,
        response: { 200: Envelope(Unsubscribed), ...errors },
      },
    },
    async (request, reply) => {
      // The confirmation page's button is a browser: it gets a page back; mail clients and scripts get JSON.
      if (!/text\/html/.test(request.headers.accept ?? '')) return ok(await notifications.unsubscribe(request.query.token), 'unsubscribed');
      reply.type('text/html; charset=utf-8');
      try {
        const { address, event } = await notifications.unsubscribe(request.query.token);
        return (reply as FastifyReply).send(
          page(
            'Unsubscribed',
            `${address} gets no ${whatOf(event)} from Stageline. Signed-in users can turn it on again under their notification settings.`,
          ),
        );
      } catch (error) {
        return linkFailed(error, reply);
      }
    },
  );
};

const whatOf = (event: string) => (event === '*' ? 'any more mail' : `mail about "${event}"`);

function linkFailed(error: unknown, reply: FastifyReply): FastifyReply {
  if (!(error instanceof AppError)) throw error;
  return reply.status(error.statusCode as 400 | 403).send(page('This link does not work', error.message));
}
