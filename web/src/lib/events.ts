import type { WebhookEvent } from '../api/types';
import catalogue from '../api/event-types.json';

/** `ticket.status_changed` → "Ticket status changed"; OPS keeps its capitals. */
export function eventLabel(type: string): string {
  const words = type.replace(/[._]/g, ' ').replace(/^ops\b/, 'OPS');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Every event a webhook may ask for, in the catalogue's order, with its description: written from
 * src/modules/dispatch/catalogue.ts by `npm run openapi` (as is the `WebhookEvent` type, through openapi.json).
 */
export const webhookEvents = catalogue.events.map((event) => event.type as Exclude<WebhookEvent, '*'>);
export const eventDescription = (type: string) => catalogue.events.find((event) => event.type === type)?.description ?? '';
