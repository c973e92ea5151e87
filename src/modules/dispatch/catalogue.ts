import type { DomainEvent } from './dispatcher.js';

/**
 * The event names other systems and people subscribe to (webhooks, e-mail preferences): one public
 * vocabulary over the ticket history's internal types.
 */
export const eventTypes = [
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
] as const;

export type EventType = (typeof eventTypes)[number];

export const eventDescriptions: Record<EventType, string> = {
  'ticket.created': 'A ticket was created',
  'ticket.updated': 'A field that matters changed (subject, priority, customer, project, category, description, …)',
  'ticket.assigned': 'The ticket was assigned to someone (or unassigned)',
  'ticket.status_changed': 'The ticket moved to another status',
  'ticket.deleted': 'The ticket was deleted',
  'ticket.at_risk': "The ticket's overall target is close",
  'ticket.overdue': "The ticket's overall target has passed",
  'ticket.breach_likely':
    "The forecast says the ticket will likely miss its stage's or overall target (probability at or above the project's threshold; once per visit)",
  'stage.entered': 'The ticket entered a stage',
  'stage.left': 'The ticket left a stage',
  'stage.at_risk': "The current stage's target is close",
  'stage.overdue': "The current stage's target has passed",
  'comment.added': 'A comment was added',
  'ops.sent': 'The ticket was handed to OPS',
  'ops.failed': 'Handing the ticket to OPS failed for good',
  'ops.status_changed': 'OPS reported a new status for the ticket',
};

/** Fields whose change is not an update worth telling anyone about on its own (stage moves have their own events). */
const quietFields = new Set(['current_stage_id', 'stages', 'assigned_to', 'status']);

/** The public type of a history event, or null when nobody subscribes to that kind of change. */
export function publicTypeOf(event: DomainEvent): EventType | null {
  if (event.kind === 'ticket_deleted') return 'ticket.deleted';
  const { type, data } = event.event;
  const scope = (data as { scope?: string }).scope === 'ticket' ? 'ticket' : 'stage';
  switch (type) {
    case 'created':
      return 'ticket.created';
    case 'field_changed': {
      const field = (data as { field?: string }).field ?? '';
      if (field === 'assigned_to') return 'ticket.assigned';
      return quietFields.has(field) ? null : 'ticket.updated';
    }
    case 'status_changed':
      return 'ticket.status_changed';
    case 'stage_entered':
      return 'stage.entered';
    case 'stage_left':
      return 'stage.left';
    case 'at_risk':
      return `${scope}.at_risk`;
    case 'overdue':
      return `${scope}.overdue`;
    case 'breach_likely':
      return 'ticket.breach_likely';
    case 'comment':
      return 'comment.added';
    case 'ops_sent':
      return 'ops.sent';
    case 'ops_failed':
      return 'ops.failed';
    case 'ops_status_changed':
      return 'ops.status_changed';
    default:
      return null;
  }
}
