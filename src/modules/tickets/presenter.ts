import { seesInternal, type Actor } from '../access/policy.js';
import { internalFields } from './shape.js';
import type { Forecast } from '../forecast/forecast.js';
import { delayOf } from '../workflow/delay.js';
import type { TicketOut } from './schemas.js';
import type { TicketView } from './service.js';

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** A ticket as the `/api` face shows it; customers never see the internal fields (`internalFields` of shape.ts). */
export function presentTicket(ticket: TicketView, actor: Actor, forecast?: Forecast | null): TicketOut {
  const out: TicketOut = {
    id: ticket.id,
    number: ticket.number,
    subject: ticket.subject,
    description: ticket.description,
    status: ticket.status,
    priority: ticket.priority,
    category: ticket.category,
    project: ticket.project,
    customer_name: ticket.customer_name,
    customer_email: ticket.customer_email,
    customer_phone: ticket.customer_phone,
    contact_person: ticket.contact_person,
    helpdeskurl: ticket.helpdeskurl,
    current_stage_id: ticket.current_stage_id,
    stages: ticket.stage_ids,
    // Already narrowed to the customer's fields by the service (FieldsService.visibleTo).
    fields: (ticket.fields ?? {}) as TicketOut['fields'],
    ops_id: ticket.ops_id,
    ops_error: ticket.ops_error,
    created_at: ticket.created_at.toISOString(),
    updated_at: ticket.updated_at.toISOString(),
    closed_at: iso(ticket.closed_at),
    version: ticket.version,
  };
  // Workflow (issue 4): the stored moments always, the state when the service judged it.
  out.project_id = ticket.project_id;
  out.due_at = iso(ticket.overdue_from);
  out.at_risk_at = iso(ticket.at_risk_from);
  if (ticket.evaluated_at) Object.assign(out, delayOf(ticket, ticket.evaluated_at));
  if (ticket.current_stage !== undefined) {
    const stage = ticket.current_stage;
    out.stage = stage ? { id: stage.id, key: stage.key, name: stage.name } : null;
    out.stage_entered_at = stage?.entered_at ? new Date(stage.entered_at).toISOString() : null;
  }
  if (forecast !== undefined) out.forecast = forecast;
  if (ticket.search_rank !== undefined) {
    out.rank = ticket.search_rank / 1_000_000;
    out.snippet = ticket.search_snippet ?? null;
  }
  if (seesInternal(actor)) {
    const fields = out as Record<string, unknown>;
    for (const name of internalFields) fields[name] = ticket[name];
  }
  return out;
}
