import { eventTypes, type EventType } from '../dispatch/catalogue.js';

export type Delivery = 'immediate' | 'digest' | 'off';

export const deliveryModes = ['immediate', 'digest', 'off'] as const satisfies readonly Delivery[];

/** Everything a reader can be mailed about; a deleted ticket has nobody left to hear of it (its watchers go with it). */
export const mailableEvents = eventTypes.filter((type): type is Exclude<EventType, 'ticket.deleted'> => type !== 'ticket.deleted');
export type MailableEvent = (typeof mailableEvents)[number];

/** On unless turned off: what the issue asked for. The rest (stage left, hand-off sent, …) is there for who wants it. */
const onByDefault = new Set<EventType>([
  'ticket.created',
  'ticket.updated',
  'ticket.assigned',
  'stage.entered',
  'stage.at_risk',
  'stage.overdue',
  'ops.failed',
  'ops.status_changed',
  'comment.added',
]);

/** Alerts that come in bursts (a sweep marks many stages at once): never one mail each, always batched. */
export const batchedEvents = new Set<EventType>([
  'stage.at_risk',
  'stage.overdue',
  'ticket.at_risk',
  'ticket.overdue',
  'ticket.breach_likely',
]);

/** "Immediate" alerts are still gathered over this window, so a sweep sends one mail per reader, not a storm. */
export const alertBatchMinutes = 5;

export const defaultDigestMinutes = 60;

export type Preferences = { digestMinutes: number; events: Record<MailableEvent, Delivery> };

export function isMailable(type: EventType): type is MailableEvent {
  return (mailableEvents as readonly string[]).includes(type);
}

/** Stored choices over the defaults; a stored value for an event that no longer exists is dropped. */
export function effectivePreferences(stored: { digest_minutes: number; events: Record<string, string> } | undefined): Preferences {
  const events = Object.fromEntries(
    mailableEvents.map((type) => {
      const chosen = stored?.events[type];
      const mode: Delivery = (deliveryModes as readonly string[]).includes(chosen ?? '')
        ? (chosen as Delivery)
        : onByDefault.has(type)
          ? 'immediate'
          : 'off';
      return [type, mode];
    }),
  ) as Record<MailableEvent, Delivery>;
  return { digestMinutes: stored?.digest_minutes ?? defaultDigestMinutes, events };
}

/**
 * When an event for this reader goes out: now (null), or at the end of the batching window it falls in.
 * Windows are aligned to the clock (every N minutes since the epoch), so all events of one window share
 * one due moment and become one mail.
 */
export function dueAt(type: EventType, mode: Exclude<Delivery, 'off'>, digestMinutes: number, now: Date): Date | null {
  if (mode === 'immediate' && !batchedEvents.has(type)) return null;
  const windowMs = (mode === 'digest' ? digestMinutes : alertBatchMinutes) * 60_000;
  return new Date(Math.floor(now.getTime() / windowMs) * windowMs + windowMs);
}
