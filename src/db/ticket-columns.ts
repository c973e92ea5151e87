import type { TicketsTable } from './types.js';

// The tickets table's columns as a list a query can select, beside the table's type rather than in the tickets module's
// repository (issue 21): other modules' repositories select ticket rows too (the dispatcher's events with their
// tickets, OPS's own columns on the ticket row), and a module's repository is private to it.

/** Every column of a ticket row but the stored search document, which only search conditions read (migration 0010). */
export const ticketColumns = [
  'id',
  'number',
  'subject',
  'description',
  'status',
  'priority',
  'priority_rank',
  'category',
  'project',
  'customer_name',
  'customer_email',
  'customer_phone',
  'contact_person',
  'helpdeskurl',
  'assigned_to',
  'metadata',
  'fields',
  'current_stage_id',
  'ops_id',
  'ops_error',
  'external_id',
  'created_at',
  'updated_at',
  'closed_at',
  'version',
  'project_id',
  'sla_used_ms',
  'sla_segment_start',
  'sla_at_risk_at',
  'sla_due_at',
  'stage_at_risk_at',
  'stage_due_at',
  'at_risk_from',
  'overdue_from',
] as const satisfies readonly (keyof TicketsTable)[];
// Fails to compile when a column is added to the table type but not to the list above.
const everyColumnListed: Exclude<keyof TicketsTable, (typeof ticketColumns)[number]> extends never ? true : never = true;
void everyColumnListed;
