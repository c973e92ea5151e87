import { eventDescriptions, eventTypes } from '../dispatch/catalogue.js';
import { WebhookEvent } from './payload.js';
import { signatureHeader } from './signature.js';

/** Route schemas point at shared schemas as `Ticket#`; outside the routes the document's own path is needed. */
function documentRefs(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema), (key, value) =>
    key === '$ref' && typeof value === 'string' && value.endsWith('#') ? `#/components/schemas/${value.slice(0, -1)}` : value,
  ) as Record<string, unknown>;
}

const headers = [
  {
    name: signatureHeader,
    in: 'header',
    required: true,
    description:
      '`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Recompute it over the raw body, compare in constant ' +
      'time, and refuse a `t` more than a few minutes old.',
    schema: { type: 'string', pattern: '^t=\\d+,v1=[0-9a-f]{64}$' },
  },
  { name: 'stageline-event', in: 'header', required: true, description: 'The event type', schema: { type: 'string' } },
  {
    name: 'stageline-delivery',
    in: 'header',
    required: true,
    description: 'The delivery id (the same on every retry of this delivery)',
    schema: { type: 'string' },
  },
  { name: 'user-agent', in: 'header', required: true, schema: { type: 'string', const: 'Stageline-Webhooks/1' } },
];

/** `ticket.created` → `ticketCreatedEvent`: unique beside the routes' operationIds. */
function operationId(type: string): string {
  return `${type.replace(/[._](\w)/g, (_match, letter: string) => letter.toUpperCase())}Event`;
}

function operation(type: string, description: string) {
  return {
    post: {
      operationId: operationId(type),
      summary: type,
      description:
        `${description}. Answer 2xx within WEBHOOK_TIMEOUT_MS to acknowledge; any other answer (and no answer) is retried with ` +
        'backoff, except 410 Gone, which disables the hook at once. Deliveries may repeat: deduplicate on `id`.',
      tags: ['webhooks'],
      security: [{ webhookSignature: [] }],
      parameters: headers,
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { allOf: [{ $ref: '#/components/schemas/WebhookEvent' }, { properties: { type: { const: type } } }] },
          },
        },
      },
      responses: { '2XX': { description: 'Received' }, '410': { description: 'Gone: Stageline disables the hook' } },
    },
  };
}

/** The OpenAPI 3.1 `webhooks` object: one entry per event type (and `ping`), all sharing the `WebhookEvent` body. */
export const webhookOpenApi = {
  webhooks: Object.fromEntries([
    ...eventTypes.map((type) => [type, operation(type, eventDescriptions[type])]),
    ['ping', operation('ping', 'Sent by `POST /api/webhooks/:id/ping` to test the URL and secret')],
  ]),
  schemas: { WebhookEvent: documentRefs(WebhookEvent) },
  securitySchemes: {
    webhookSignature: {
      type: 'apiKey' as const,
      in: 'header',
      name: signatureHeader,
      description:
        'Every delivery is signed with the hook\'s secret: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. ' +
        'The receiver recomputes it over the raw body, compares in constant time and refuses an old `t`.',
    },
  },
};
