import { judgementProperties } from './delay.js';
import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { Ticket } from '../tickets/schemas.js';

export const TransitionInput = Type.Object(
  {
    to: Type.String({ minLength: 1, maxLength: 64, description: 'Target stage: its key or its definition id' }),
    note: Type.Optional(Type.String({ maxLength: 5000, description: 'Why; kept in the history' })),
    at: Type.Optional(DateTime('When it happened (default now); not in the future, not before the current stage began')),
  },
  { additionalProperties: false },
);
export type TransitionInputType = Static<typeof TransitionInput>;

export const Visit = Type.Object({
  stage_id: Type.String({ description: 'The stage record (the same object /api/stages serves)' }),
  definition_id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  stage_type: Type.Union([Type.Literal('major'), Type.Literal('minor')]),
  major_stage_id: Nullable(Type.String()),
  visit: Type.Integer({ description: '1 for the first visit of this stage, 2 when the ticket came back, …' }),
  state: Type.Union([Type.Literal('active'), Type.Literal('done')]),
  paused: Type.Boolean({ description: "The ticket's overall SLA clock stood still during this visit" }),
  target_minutes: Nullable(Type.Integer()),
  started_at: DateTime(),
  ended_at: Nullable(DateTime()),
  at_risk_at: Nullable(DateTime('Planned: when the target is at risk')),
  due_at: Nullable(DateTime()),
  duration_ms: Type.Integer({ description: 'Wall-clock time, up to now while active' }),
  business_ms: Type.Integer({ description: 'Business time by the project calendar, up to now while active' }),
  paused_ms: Type.Integer({ description: 'Time the SLA clock stood still in this visit' }),
  overdue_by: Nullable(Type.Integer({ description: 'Seconds past due (at the end, or now while active); null if on time' })),
});
export type VisitOut = Static<typeof Visit>;

export const TransitionResult = Type.Object({
  ticket: Ticket,
  left: Type.Array(Visit, { description: 'Visits this transition ended' }),
  entered: Type.Array(Visit, { description: 'Visits it began (a minor stage may open its major too)' }),
});

export const StageTime = Type.Object({
  definition_id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  visits: Type.Integer(),
  duration_ms: Type.Integer({ description: 'Summed over all visits' }),
  business_ms: Type.Integer({ description: 'Summed over all visits' }),
});

export const Timeline = Type.Object({
  ticket_id: Type.String(),
  project: Nullable(Type.Object({ id: Type.String(), key: Type.String(), name: Type.String() })),
  now: DateTime(),
  ...judgementProperties,
  sla: Type.Object({
    target_minutes: Nullable(Type.Integer()),
    used_business_ms: Type.Integer({ description: 'Business time counted against the overall target so far' }),
    paused: Type.Boolean(),
    at_risk_at: Nullable(DateTime()),
    due_at: Nullable(DateTime()),
  }),
  visits: Type.Array(Visit),
  time_in_stage: Type.Array(StageTime),
});

export const HistoryEvent = Type.Object({
  id: Type.Integer(),
  ticket_id: Type.String(),
  type: Type.String({ description: 'created, field_changed, status_changed, stage_entered, stage_left, comment, at_risk, overdue, ops_…' }),
  actor_id: Nullable(Type.String()),
  actor_name: Type.String(),
  visibility: Type.Union([Type.Literal('public'), Type.Literal('internal')]),
  data: Type.Object({}, { additionalProperties: true }),
  created_at: DateTime(),
});

export const HistoryQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

export const CommentInput = Type.Object(
  {
    body: Type.String({ minLength: 1, maxLength: 20_000 }),
    visibility: Type.Optional(
      Type.Union([Type.Literal('public'), Type.Literal('internal')], { description: 'Internal comments are never shown to customers' }),
    ),
  },
  { additionalProperties: false },
);
export type CommentInputType = Static<typeof CommentInput>;
