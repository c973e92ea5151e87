import { Type, type Static } from 'typebox';
import { invalid, type ErrorDetail } from '../../errors.js';
import { isGoZero, legacyBody } from '../../http/legacy.js';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { LegacyStage, presentLegacyStage } from '../stages/legacy.js';
import type { StageWithMajor } from '../stages/service.js';
import { PrioritySchema, TicketStatusSchema } from './schemas.js';
import type { TicketView } from './service.js';
import { editableFields } from './validation.js';

/** A ticket in both older vocabularies at once: the monitoring system's snake_case and the OPS backend's. */
export const LegacyTicketSchema = Type.Object(
  {
    id: Type.String(),
    number: Type.Integer(),
    // monitoring dashboard
    customer_name: Nullable(Type.String()),
    helpdeskurl: Nullable(Type.String()),
    current_stage_id: Nullable(Type.String()),
    current_stage: Nullable(LegacyStage),
    stages: Type.Array(LegacyStage),
    status: TicketStatusSchema,
    contact_person: Nullable(Type.String()),
    project: Nullable(Type.String()),
    // OPS backend
    subject: Nullable(Type.String()),
    description: Nullable(Type.String()),
    createdAt: DateTime(),
    customer: Type.Object({ name: Nullable(Type.String()), email: Nullable(Type.String()), phone: Type.Optional(Type.String()) }),
    assignedTo: Type.Optional(Type.String()),
    priority: PrioritySchema,
    category: Nullable(Type.String()),
    // both, in snake_case, for clients that read either
    customer_email: Nullable(Type.String()),
    customer_phone: Nullable(Type.String()),
    assigned_to: Type.Optional(Nullable(Type.String())),
    ops_id: Nullable(Type.String()),
    created_at: DateTime(),
    updated_at: DateTime(),
    closed_at: Nullable(DateTime()),
    version: Type.Integer(),
  },
  { $id: 'LegacyTicket' },
);
export type LegacyTicketOut = Static<typeof LegacyTicketSchema>;
export const LegacyTicket = Type.Unsafe<LegacyTicketOut>({ $ref: 'LegacyTicket#' });

/** Anything goes in: unknown fields are ignored, as the older servers did. */
export const LegacyTicketInput = Type.Object({}, { additionalProperties: true, description: 'A ticket in either older vocabulary' });

const passThrough = [...editableFields.filter((field) => field !== 'metadata'), 'id', 'created_at', 'current_stage_id', 'version'] as const;

/** Two names for one field: equal values fold into one, different values are an error. */
const aliases: [alias: string, field: (typeof passThrough)[number], read: (body: Record<string, unknown>) => unknown][] = [
  ['customer.name', 'customer_name', (body) => (body.customer as Record<string, unknown> | undefined)?.name],
  ['customer.email', 'customer_email', (body) => (body.customer as Record<string, unknown> | undefined)?.email],
  ['customer.phone', 'customer_phone', (body) => (body.customer as Record<string, unknown> | undefined)?.phone],
  ['assignedTo', 'assigned_to', (body) => body.assignedTo],
  ['createdAt', 'created_at', (body) => body.createdAt],
];

/** Folds an older client's body (either vocabulary) into the one internal input shape. */
export function fromLegacyTicketInput(raw: unknown): Record<string, unknown> {
  const body = legacyBody(raw);
  const problems: ErrorDetail[] = [];
  if (body.customer !== undefined && body.customer !== null && (typeof body.customer !== 'object' || Array.isArray(body.customer))) {
    problems.push({ field: 'customer', problem: 'must be an object with name, email, phone' });
  }
  const input: Record<string, unknown> = {};
  for (const field of passThrough) {
    if (body[field] !== undefined && !isGoZero(body[field])) input[field] = body[field];
  }
  if (problems.length === 0) {
    for (const [alias, field, read] of aliases) {
      const value = read(body);
      if (value === undefined || isGoZero(value)) continue;
      if (input[field] !== undefined && JSON.stringify(input[field]) !== JSON.stringify(value)) {
        problems.push({ field: alias, problem: `differs from ${field}; send one value for the field` });
      } else input[field] = value;
    }
  }
  if (Array.isArray(body.stages)) {
    input.stages = body.stages.map((stage: unknown) =>
      typeof stage === 'object' && stage !== null && 'id' in stage ? (stage as { id: unknown }).id : stage,
    );
  } else if (body.stages !== undefined && body.stages !== null) {
    problems.push({ field: 'stages', problem: 'must be an array of stage ids or stage objects' });
  }
  if (problems.length) invalid(problems);
  return input;
}

export function presentLegacyTicket(ticket: TicketView, stages: Map<string, StageWithMajor>, showInternal: boolean): LegacyTicketOut {
  const current = ticket.current_stage_id ? stages.get(ticket.current_stage_id) : undefined;
  const out: LegacyTicketOut = {
    id: ticket.id,
    number: ticket.number,
    customer_name: ticket.customer_name,
    helpdeskurl: ticket.helpdeskurl,
    current_stage_id: ticket.current_stage_id,
    current_stage: current ? presentLegacyStage(current) : null,
    stages: ticket.stage_ids.flatMap((id) => {
      const stage = stages.get(id);
      return stage ? [presentLegacyStage(stage)] : [];
    }),
    status: ticket.status,
    contact_person: ticket.contact_person,
    project: ticket.project,
    subject: ticket.subject,
    description: ticket.description,
    createdAt: ticket.created_at.toISOString(),
    customer: {
      name: ticket.customer_name,
      email: ticket.customer_email,
      ...(ticket.customer_phone ? { phone: ticket.customer_phone } : {}),
    },
    priority: ticket.priority,
    category: ticket.category,
    customer_email: ticket.customer_email,
    customer_phone: ticket.customer_phone,
    ops_id: ticket.ops_id,
    created_at: ticket.created_at.toISOString(),
    updated_at: ticket.updated_at.toISOString(),
    closed_at: ticket.closed_at ? ticket.closed_at.toISOString() : null,
    version: ticket.version,
  };
  if (showInternal) {
    out.assigned_to = ticket.assigned_to;
    if (ticket.assigned_to) out.assignedTo = ticket.assigned_to;
  }
  return out;
}
