import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { TicketFieldsSchema } from '../fields/schemas.js';
import { ForecastSchema } from '../forecast/schemas.js';
import { judgementProperties } from '../workflow/delay.js';
import { priorities, ticketStatuses } from './validation.js';

export const TicketStatusSchema = Type.Enum([...ticketStatuses]);
export const PrioritySchema = Type.Enum([...priorities]);

const text = (maxLength: number, options: { description?: string; format?: string; pattern?: string } = {}) =>
  Nullable(Type.String({ minLength: 1, maxLength, ...options }));

const j = judgementProperties;
/** Judged when the answer is made (every `/api` answer); optional only because a stored event carries none. */
const optionalJudgements = {
  stage_state: Type.Optional(j.stage_state),
  stage_due_at: Type.Optional(j.stage_due_at),
  stage_overdue_by: Type.Optional(j.stage_overdue_by),
  ticket_state: Type.Optional(j.ticket_state),
  ticket_due_at: Type.Optional(j.ticket_due_at),
  ticket_overdue_by: Type.Optional(j.ticket_overdue_by),
  delay_state: Type.Optional(j.delay_state),
  delay_reason: Type.Optional(j.delay_reason),
  overdue_by: Type.Optional(j.overdue_by),
};

/** The stage a ticket is in now, as lists show it (the id is `current_stage_id`). */
export const CurrentStageSchema = Type.Object({
  id: Type.String(),
  key: Nullable(Type.String({ description: "The workflow stage's key (null for a stage outside any workflow)" })),
  name: Nullable(Type.String()),
});

/** Registered once as a shared schema (see `sharedSchemas` in app.ts); routes refer to it as `Ticket`. */
export const TicketSchema = Type.Object(
  {
    id: Type.String({ description: 'Server-made UUID, or the id the client chose on create' }),
    number: Type.Integer({ description: 'Sequential, human-friendly number; `/api/tickets/42` finds it too' }),
    subject: Nullable(Type.String()),
    description: Nullable(Type.String()),
    status: TicketStatusSchema,
    priority: PrioritySchema,
    category: Nullable(Type.String()),
    project: Nullable(Type.String()),
    customer_name: Nullable(Type.String()),
    customer_email: Nullable(Type.String()),
    customer_phone: Nullable(Type.String()),
    contact_person: Nullable(Type.String()),
    helpdeskurl: Nullable(Type.String()),
    assigned_to: Type.Optional(Nullable(Type.String({ description: 'Not shown to customers' }))),
    metadata: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Free JSON; not shown to customers' })),
    fields: TicketFieldsSchema,
    current_stage_id: Nullable(Type.String()),
    stage: Type.Optional(Nullable(CurrentStageSchema)),
    stage_entered_at: Type.Optional(Nullable(DateTime('When the ticket entered its current stage (time in stage = now − this)'))),
    stages: Type.Array(Type.String(), { description: "The ticket's stage ids, in order" }),
    ops_id: Nullable(Type.String({ description: "OPS system's id once a hand-off was accepted" })),
    ops_error: Nullable(Type.String({ description: 'Why the last OPS hand-off failed' })),
    created_at: DateTime(),
    updated_at: DateTime(),
    closed_at: Nullable(DateTime()),
    version: Type.Integer({ description: 'Increases on every change; send it back as `If-Match` or `version`' }),
    project_id: Type.Optional(
      Nullable(Type.String({ description: 'The project (by `project`, its key or name) whose workflow the ticket follows' })),
    ),
    ...optionalJudgements,
    due_at: Type.Optional(
      Nullable(
        DateTime('Kept for older clients: the earlier of `stage_due_at` and `ticket_due_at` (the first moment either target passes)'),
      ),
    ),
    at_risk_at: Type.Optional(Nullable(DateTime('Kept for older clients: the earlier of the stage and ticket at-risk moments'))),
    forecast: Type.Optional(Nullable(ForecastSchema)),
    rank: Type.Optional(Type.Number({ description: 'How well it matches the words in `q` (lists searching for words)' })),
    snippet: Type.Optional(
      Nullable(
        Type.String({ description: 'Subject and description around the matches, matched words in <mark>…</mark>; the rest is plain text' }),
      ),
    ),
  },
  { $id: 'Ticket' },
);
export type TicketOut = Static<typeof TicketSchema>;
export const Ticket = Type.Unsafe<TicketOut>({ $ref: 'Ticket#' });

const StageRefSchema = Type.Union([Type.String(), Type.Integer({ minimum: 1 })], {
  description: 'A stage id, or a stage number',
});

const editable = {
  subject: Type.Optional(text(500)),
  description: Type.Optional(text(20_000)),
  status: Type.Optional(TicketStatusSchema),
  priority: Type.Optional(PrioritySchema),
  category: Type.Optional(text(200)),
  project: Type.Optional(text(200)),
  customer_name: Type.Optional(text(200)),
  customer_email: Type.Optional(text(254, { format: 'email' })),
  customer_phone: Type.Optional(text(50)),
  contact_person: Type.Optional(text(200)),
  helpdeskurl: Type.Optional(text(2000, { format: 'uri', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', description: 'An http(s) URL' })),
  assigned_to: Type.Optional(text(200)),
  metadata: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
  fields: Type.Optional(TicketFieldsSchema),
  current_stage_id: Type.Optional(Nullable(StageRefSchema)),
  stages: Type.Optional(Type.Array(StageRefSchema, { maxItems: 1000 })),
};

/** Read-only fields a client may send back unchanged; they are ignored. */
const ignored = {
  number: Type.Optional(Type.Unknown()),
  updated_at: Type.Optional(Type.Unknown()),
  closed_at: Type.Optional(Type.Unknown()),
  ops_id: Type.Optional(Type.Unknown()),
  ops_error: Type.Optional(Type.Unknown()),
  project_id: Type.Optional(Type.Unknown()),
  stage_state: Type.Optional(Type.Unknown()),
  stage_due_at: Type.Optional(Type.Unknown()),
  stage_overdue_by: Type.Optional(Type.Unknown()),
  ticket_state: Type.Optional(Type.Unknown()),
  ticket_due_at: Type.Optional(Type.Unknown()),
  ticket_overdue_by: Type.Optional(Type.Unknown()),
  delay_state: Type.Optional(Type.Unknown()),
  delay_reason: Type.Optional(Type.Unknown()),
  overdue_by: Type.Optional(Type.Unknown()),
  stage: Type.Optional(Type.Unknown()),
  stage_entered_at: Type.Optional(Type.Unknown()),
  due_at: Type.Optional(Type.Unknown()),
  at_risk_at: Type.Optional(Type.Unknown()),
  forecast: Type.Optional(Type.Unknown()),
};

export const TicketCreate = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '1–64 of [A-Za-z0-9._:-], not all digits' })),
    created_at: Type.Optional(DateTime('Kept when migrating old data; read-only afterwards')),
    ...editable,
    ...ignored,
    version: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export const TicketPatch = Type.Object(
  {
    ...editable,
    ...ignored,
    id: Type.Optional(Type.Unknown()),
    created_at: Type.Optional(Type.Unknown()),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'Expected current version (or send If-Match)' })),
  },
  { additionalProperties: false },
);

export const ticketSortValues = [
  'created_at',
  '-created_at',
  'updated_at',
  '-updated_at',
  'priority',
  '-priority',
  'number',
  '-number',
  '-rank',
  // By lateness (issue 20): `-x` is most late first; tickets without that target (and closed ones) come last.
  'stage_overdue_by',
  '-stage_overdue_by',
  'ticket_overdue_by',
  '-ticket_overdue_by',
  'delay',
  '-delay',
  'breach_probability',
  '-breach_probability',
] as const;

/** The list filters, shared by both faces. */
export const ticketFilterQuery = {
  status: Type.Optional(Type.String({ description: 'Comma-separated statuses' })),
  priority: Type.Optional(Type.String({ description: 'Comma-separated priorities' })),
  project: Type.Optional(Type.String()),
  category: Type.Optional(Type.String()),
  customer: Type.Optional(Type.String({ description: 'Customer name or email contains (case-insensitive)' })),
  assigned_to: Type.Optional(Type.String()),
  current_stage_id: Type.Optional(Type.String()),
  created_from: Type.Optional(DateTime()),
  created_to: Type.Optional(DateTime()),
  updated_since: Type.Optional(DateTime()),
  q: Type.Optional(
    Type.String({
      maxLength: 1000,
      description:
        'Search box: ranked full text (words match as prefixes, "phrases", or, -word, typo-tolerant on subject and customer) ' +
        'and field terms such as status:open,pending created:>2026-01-01 (GET /api/search/help lists them)',
    }),
  ),
  view: Type.Optional(Type.String({ description: 'A saved view id: its query (and sort, unless `sort` is given) apply too' })),
  sort: Type.Optional(
    Type.Enum([...ticketSortValues], {
      description:
        "Default: the view's sort, else -rank (best match) when q has words, else -created_at. By lateness, most late first: -stage_overdue_by (current stage's target), -ticket_overdue_by (whole ticket's target), -delay (whichever passes first); tickets without that target, and closed ones, come last. -breach_probability: most likely " +
        'to breach first, by the forecast stored every 2 minutes (lists only open tickets that have one)',
    }),
  ),
  breach_probability_min: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'Only open tickets whose stored forecast (the larger of stage and ticket breach probability) is at least this',
    }),
  ),
  cursor: Type.Optional(Type.String()),
  count: Type.Optional(Type.Boolean()),
};

/**
 * `field.<key>=value` filters by a custom field (issue 25), in the search term's value syntax: `high,low` (one of),
 * `>3`, `<=2026-12-01`. The `/api` list and export take them; the older face's list does not.
 */
export const fieldFilterParams = {
  patternProperties: {
    '^field\\.[a-z][a-z0-9_]{0,39}$': Type.String({
      maxLength: 1000,
      description: 'A custom field filter: values (comma-separated) or >, >=, <, <= a number or date',
    }),
  },
  additionalProperties: false,
};

export const TicketListQuery = Type.Object(
  {
    ...ticketFilterQuery,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    forecast: Type.Optional(Type.Boolean({ description: 'Add each open ticket’s delivery forecast' })),
  },
  fieldFilterParams,
);
