import type { paths } from './schema';
import shape from './ticket-fields.json';

/** The `data` of a route's 200 answer, straight from openapi.json: the dashboard's types follow the API contract. */
type Data<P extends keyof paths, M extends 'get' | 'post' = 'get', S extends 200 | 201 = 200> = paths[P][M] extends {
  responses: { [status in S]: { content: { 'application/json': { data: infer D } } } };
}
  ? D
  : never;
/** The JSON body a route takes. */
export type RequestBody<P extends keyof paths, M extends 'post' | 'put' | 'patch'> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;
/** The query a GET route takes, for filters kept as loose strings in the page's URL (the server checks them). */
export type QueryOf<P extends keyof paths> = paths[P]['get'] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type Item<P extends keyof paths> = Data<P> extends (infer I)[] ? I : never;

// Enumerations: their types from openapi.json, their values (for choices) from the server's lists (ticket-fields.json).
export type Role = Data<'/api/me'>['user']['role'];
export type Priority = Data<'/api/tickets/{id}'>['priority'];
export type DelayState = NonNullable<Data<'/api/tickets/{id}'>['delay_state']>;
export type Status = Data<'/api/tickets/{id}'>['status'];
export const statuses = shape.statuses as readonly Status[];
export const priorities = shape.priorities as readonly Priority[];
export const roles = shape.roles as readonly Role[];

export type Me = Data<'/api/me'>['user'];
export type Ticket = Data<'/api/tickets/{id}'>;
export type Project = Data<'/api/projects/{id}'>;
export type StageDefinition = Project['stages'][number];
export type Timeline = Data<'/api/tickets/{id}/timeline'>;
export type Visit = Timeline['visits'][number];
export type HistoryEvent = Item<'/api/tickets/{id}/history'>;
export type LogEntry = Item<'/api/tickets/{id}/logs'>;
export type User = Item<'/api/users'>;
export type Token = Item<'/api/tokens'>;
export type CreatedToken = Data<'/api/tokens', 'post', 201>;
export type BoardData = Data<'/api/board'>;
export type BoardCard = BoardData['cards'][number];
export type Overview = Data<'/api/monitor/overview'>;
export type Flow = Data<'/api/monitor/flow'>;
export type DelayedTicket = Item<'/api/monitor/delayed'>;
export type SearchHelp = Data<'/api/search/help'>;
export type SavedView = Data<'/api/views/{id}'>;
export type ViewColumn = SavedView['columns'][number];
export type TicketSort = NonNullable<SavedView['sort']>;
export type ViewCount = Data<'/api/views/{id}/count'>;
export type NotificationPreferences = Data<'/api/me/notifications'>;
export type DeliveryMode = NotificationPreferences['events'][keyof NotificationPreferences['events']];
export type Watcher = Data<'/api/tickets/{id}/watchers'>[number];
export type ViewSubscription = Data<'/api/views/{id}/subscriptions'>;
export type MailDelivery = Item<'/api/notifications/deliveries'>;
export type MailDeliveryDetail = Data<'/api/notifications/deliveries/{id}'>;
export type Webhook = Item<'/api/webhooks'>;
export type CreatedWebhook = Data<'/api/webhooks', 'post', 201>;
export type WebhookEvent = Webhook['events'][number];
export type WebhookDelivery = Item<'/api/webhooks/{id}/deliveries'>;

/** A project's custom ticket field (issue 25). */
export type FieldDefinition = Item<'/api/projects/{id}/fields'>;
export type FieldType = FieldDefinition['type'];
/** A custom field's value on a ticket: text, number, flag or choices; null clears it. */
export type FieldValue = FieldDefinition['default'];
