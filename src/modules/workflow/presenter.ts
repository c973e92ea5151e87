import type { Static } from 'typebox';
import type { TicketEventRow } from '../../db/types.js';
import type { HistoryEvent } from './schemas.js';

export function presentHistoryEvent(event: TicketEventRow): Static<typeof HistoryEvent> {
  return {
    id: event.id,
    ticket_id: event.ticket_id,
    type: event.type,
    actor_id: event.actor_id,
    actor_name: event.actor_name,
    visibility: event.visibility,
    data: event.data,
    created_at: event.created_at.toISOString(),
  };
}
