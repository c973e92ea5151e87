import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { eventTypes } from '../dispatch/catalogue.js';

const EventChoice = Type.Union([Type.Enum([...eventTypes]), Type.Literal('*')]);
const Events = Type.Array(EventChoice, {
  minItems: 1,
  maxItems: eventTypes.length,
  uniqueItems: true,
  description: "The event types to receive, or `['*']` for all of them (including ones added later)",
});

export const Webhook = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(EventChoice),
  description: Type.String(),
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String({ description: 'Why Stageline disabled the hook (410 Gone, too many failures); null otherwise' })),
  consecutiveFailures: Type.Integer({ description: 'Failed deliveries in a row; WEBHOOK_MAX_FAILURES of them disable the hook' }),
  ownerId: Nullable(Type.String({ description: 'The admin who created it (mailed when it is disabled)' })),
  createdAt: DateTime(),
  updatedAt: DateTime(),
  lastDeliveryAt: Nullable(DateTime('When the last attempt finished')),
  lastStatus: Nullable(Type.Enum(['delivered', 'retrying', 'failed'], { description: "The last attempt's outcome" })),
});
export type WebhookOut = Static<typeof Webhook>;

/** A hook as answered on create and on secret rotation: the only times its secret is shown. */
export const WebhookWithSecret = Type.Object({
  ...Webhook.properties,
  secret: Type.String({ description: 'The signing secret; shown only now — store it' }),
});
export const WebhookMaybeSecret = Type.Object({
  ...Webhook.properties,
  secret: Type.Optional(Type.String({ description: 'The new signing secret, after rotateSecret only' })),
});

const editable = {
  url: Type.String({
    minLength: 1,
    maxLength: 2048,
    description: 'http:// or https://; private addresses need WEBHOOK_ALLOW_PRIVATE=true',
  }),
  events: Events,
  description: Type.String({ maxLength: 500 }),
  enabled: Type.Boolean(),
};

export const WebhookCreate = Type.Object(
  {
    url: editable.url,
    events: editable.events,
    description: Type.Optional(editable.description),
    enabled: Type.Optional(editable.enabled),
    secret: Type.Optional(
      Type.String({
        minLength: 16,
        maxLength: 200,
        pattern: '^[\\x21-\\x7e]+$',
        description: 'Your own signing secret (16–200 printable characters); default: a generated `whsec_…`',
      }),
    ),
  },
  { additionalProperties: false },
);
export type WebhookCreateBody = Static<typeof WebhookCreate>;

export const WebhookPatch = Type.Object(
  {
    url: Type.Optional(editable.url),
    events: Type.Optional(editable.events),
    description: Type.Optional(editable.description),
    enabled: Type.Optional(Type.Boolean({ description: 'true also clears the failure count and disabledReason' })),
    rotateSecret: Type.Optional(Type.Literal(true, { description: 'Generate a new secret (answered once); the old one stops at once' })),
  },
  { additionalProperties: false },
);
export type WebhookPatchBody = Static<typeof WebhookPatch>;

export const WebhookDelivery = Type.Object({
  id: Type.String({ description: 'Sent as the Stageline-Delivery header; the same on every attempt' }),
  eventId: Type.String(),
  eventType: Type.String(),
  trigger: Type.Enum(['event', 'ping', 'redelivery']),
  status: Type.Enum(['queued', 'retrying', 'delivered', 'failed']),
  attempts: Type.Integer(),
  responseStatus: Nullable(Type.Integer({ description: "The last attempt's HTTP status (null: no answer)" })),
  latencyMs: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  requestBody: Type.String({ description: 'The JSON body exactly as signed and sent' }),
  responseBody: Nullable(Type.String({ description: "The first 2 KB of the last attempt's answer" })),
  createdAt: DateTime(),
  deliveredAt: Nullable(DateTime()),
});
export type WebhookDeliveryOut = Static<typeof WebhookDelivery>;

export const PageQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size (1–200)' }),
    cursor: Type.Optional(Type.String({ maxLength: 1000, description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const WebhookParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
export const DeliveryParams = Type.Object({ id: Type.String({ maxLength: 200 }), delivery: Type.String({ maxLength: 200 }) });
