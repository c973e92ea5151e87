import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { eventDescriptions } from '../dispatch/catalogue.js';
import { deliveryModes, mailableEvents } from './preferences.js';

const eventChoices = Object.fromEntries(
  mailableEvents.map((type) => [type, Type.Optional(Type.Enum([...deliveryModes], { description: eventDescriptions[type] }))]),
);

export const Preferences = Type.Object({
  email: Type.String({ description: 'Where your mail goes: your account’s address' }),
  digestMinutes: Type.Integer({ minimum: 5, maximum: 1440, description: 'How often digests go out, in minutes' }),
  events: Type.Object(
    Object.fromEntries(mailableEvents.map((type) => [type, Type.Enum([...deliveryModes], { description: eventDescriptions[type] })])),
    { description: 'For each event: immediate, digest or off. At-risk and overdue alerts are always gathered (5 minutes when immediate).' },
  ),
});

export const PreferencesUpdate = Type.Object(
  {
    email: Type.Optional(Type.String({ maxLength: 320, description: 'Accepted only unchanged (change the address on your account)' })),
    digestMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 1440 })),
    events: Type.Optional(Type.Object(eventChoices, { additionalProperties: false, description: 'Only the events to change' })),
  },
  { additionalProperties: false },
);
export type PreferencesUpdateBody = Static<typeof PreferencesUpdate>;

export const Watcher = Type.Object({ userId: Type.String(), name: Type.String(), email: Type.String() });

export const WatchBody = Type.Union([
  Type.Object(
    { userId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Who is to watch; yourself when left out' })) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

export const WatcherParams = Type.Object({ id: Type.String({ description: 'The ticket id, or its number' }), userId: Type.String() });

export const Subscription = Type.Object({ subscribed: Type.Boolean({ description: 'You get mail about tickets matching this view' }) });

export const SubscribeBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]);

const statuses = ['queued', 'retrying', 'sent', 'stored', 'failed'] as const;

const deliveryFields = {
  id: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  event: Nullable(Type.String()),
  reason: Type.String(),
  ticketId: Nullable(Type.String()),
  ticketNumber: Nullable(Type.Integer()),
  status: Type.Enum([...statuses], { description: 'stored: kept without sending (no SMTP_URL)' }),
  attempts: Type.Integer(),
  smtpResponse: Nullable(Type.String({ description: "The SMTP server's last answer" })),
  error: Nullable(Type.String()),
  digest: Type.Boolean(),
  createdAt: DateTime(),
  sentAt: Nullable(DateTime()),
};

export const DeliveryItem = Type.Object(deliveryFields);
export type DeliveryItemOut = Static<typeof DeliveryItem>;

export const DeliveryDetail = Type.Object({
  ...deliveryFields,
  text: Type.String(),
  html: Type.String(),
  headers: Type.Record(Type.String(), Type.String(), { description: 'The headers the mail carries: Message-ID, List-Unsubscribe, …' }),
});
export type DeliveryDetailOut = Static<typeof DeliveryDetail>;

export const DeliveriesQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum([...statuses])),
    to: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: 'Only mail to this address' })),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Page size (1–500)' }),
    cursor: Type.Optional(Type.String({ maxLength: 1000, description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const UnsubscribeQuery = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 3000, description: 'The signed token from the mail' }),
});

export const Unsubscribed = Type.Object({
  address: Type.String(),
  event: Type.String({ description: "The event turned off, or '*' for all mail" }),
});
