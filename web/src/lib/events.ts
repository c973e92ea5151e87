import type { WebhookEvent } from '../api/types';

/** `ticket.status_changed` → "Ticket status changed"; OPS keeps its capitals. */
export function eventLabel(type: string): string {
  const words = type.replace(/[._]/g, ' ').replace(/^ops\b/, 'OPS');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Every event a webhook may ask for, in the catalogue's order; the check below fails the build when the API adds one. */
export const webhookEvents = [
  'ticket.created',
  'ticket.updated',
  'ticket.assigned',
  'ticket.status_changed',
  'ticket.deleted',
  'ticket.at_risk',
  'ticket.overdue',
  'ticket.breach_likely',
  'stage.entered',
  'stage.left',
  'stage.at_risk',
  'stage.overdue',
  'comment.added',
  'ops.sent',
  'ops.failed',
  'ops.status_changed',
] as const satisfies readonly Exclude<WebhookEvent, '*'>[];
type Unlisted = Exclude<WebhookEvent, '*' | (typeof webhookEvents)[number]>;
export const everyEventListed: [Unlisted] extends [never] ? true : Unlisted = true;
