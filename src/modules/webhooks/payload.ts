import { Type, type Static } from 'typebox';
import type { DomainEvent } from '../dispatch/dispatcher.js';
import type { EventType } from '../dispatch/catalogue.js';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { Ticket, type TicketOut } from '../tickets/schemas.js';

/** Receivers pin their parsing to this; a change to the body's shape gets a new date. */
export const apiVersion = '2026-11-01';

const EventActor = Nullable(
  Type.Object({ id: Nullable(Type.String()), name: Type.String() }, { description: 'Who did it (null: Stageline itself)' }),
);

/** The body of every webhook call; `type` is one of the catalogue's event types, or `ping`. */
export const WebhookEvent = Type.Object({
  id: Type.String({ description: '`evt_…`: the same for every attempt and redelivery of one event — deduplicate on it' }),
  type: Type.String(),
  apiVersion: Type.Literal(apiVersion),
  createdAt: DateTime('When it happened'),
  data: Type.Object({
    ticket: Nullable(Ticket),
    event: Type.Object({
      type: Type.String({ description: "The ticket history's own type (field_changed, stage_entered, …), or ping" }),
      actor: EventActor,
      visibility: Type.Enum(['public', 'internal'], {
        description: 'internal: a change customers do not see (assignment, metadata, internal notes) — do not show it to them',
      }),
      data: Type.Record(Type.String(), Type.Unknown(), { description: "The history event's details (field, old, new, stage, …)" }),
    }),
  }),
});
export type WebhookEventBody = Static<typeof WebhookEvent>;

/** The event's id: a history row's id, or the deletion (a ticket id may be reused after a delete). */
export function eventIdOf(event: DomainEvent): string {
  return event.kind === 'history' ? `evt_${event.event.id}` : `evt_deleted_${event.ticketId}_${event.at.getTime()}`;
}

/** The body for one ticket event; `ticket` is the ticket as the /api face shows it (null once deleted). */
export function eventBody(event: DomainEvent, type: EventType, ticket: TicketOut | null): WebhookEventBody {
  if (event.kind === 'ticket_deleted') {
    return {
      id: eventIdOf(event),
      type,
      apiVersion,
      createdAt: event.at.toISOString(),
      data: {
        ticket: null,
        event: {
          type: 'ticket_deleted',
          actor: null,
          visibility: 'public',
          data: { ticket_id: event.ticketId, project_id: event.projectId },
        },
      },
    };
  }
  const history = event.event;
  return {
    id: eventIdOf(event),
    type,
    apiVersion,
    createdAt: history.created_at.toISOString(),
    data: {
      ticket,
      event: {
        type: history.type,
        actor: { id: history.actor_id, name: history.actor_name },
        visibility: history.visibility,
        data: history.data,
      },
    },
  };
}

/** A `ping`: proves the URL and secret work, carries no ticket. */
export function pingBody(id: string, hook: { id: string; url: string }, actor: { id: string | null; name: string }, at: Date) {
  return {
    id,
    type: 'ping',
    apiVersion,
    createdAt: at.toISOString(),
    data: {
      ticket: null,
      event: { type: 'ping', actor, visibility: 'internal', data: { webhook_id: hook.id, url: hook.url } },
    },
  } satisfies WebhookEventBody;
}
