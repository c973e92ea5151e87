import { Type, type Static, type TSchema } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { TicketFieldsSchema } from '../fields/schemas.js';
import { ForecastSchema } from '../forecast/schemas.js';
import { judgementProperties } from '../workflow/delay.js';
import { priorities, ticketStatuses } from '../../db/enums.js';
import { inputSchema, outputProperties, ticketFields, writableFields, type TicketFieldValues, type WritableField } from './shape.js';

export const TicketStatusSchema = Type.Enum([...ticketStatuses]);
export const PrioritySchema = Type.Enum([...priorities]);

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
    ...outputProperties('id', 'metadata'),
    fields: TicketFieldsSchema,
    ...outputProperties('current_stage_id', 'current_stage_id'),
    stage: Type.Optional(Nullable(CurrentStageSchema)),
    stage_entered_at: Type.Optional(Nullable(DateTime('When the ticket entered its current stage (time in stage = now − this)'))),
    ...outputProperties('stages', 'version'),
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
export type TicketOut = Static<typeof TicketSchema> & TicketFieldValues;
export const Ticket = Type.Unsafe<TicketOut>({ $ref: 'Ticket#' });

const StageRefSchema = Type.Union([Type.String(), Type.Integer({ minimum: 1 })], {
  description: 'A stage id, or a stage number',
});

/** The fields a client writes, from the ticket field table (custom `fields` after `metadata`, as always). */
const editable = Object.fromEntries(
  writableFields.flatMap((name) => {
    const property: [string, TSchema] = [name, Type.Optional(inputSchema(ticketFields[name], StageRefSchema))];
    return name === 'metadata' ? [property, ['fields', Type.Optional(TicketFieldsSchema)]] : [property];
  }),
) as Record<WritableField | 'fields', TSchema>;

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

/** `field.<key>` / `-field.<key>`: sort by a custom field (issue 25), nulls last both ways; the `/api` face only. */
export const FIELD_SORT_PATTERN = '^-?field\\.[a-z][a-z0-9_]{0,39}$';

/** The `/api` face's sort: the named orders, or a custom field. */
export const ApiSortSchema = (description: string) =>
  Type.Union([Type.Enum([...ticketSortValues]), Type.String({ pattern: FIELD_SORT_PATTERN })], { description });

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

/** The `/api` list's and export's `sort`: the older face's values, or a custom field. */
export const apiListSort = Type.Optional(
  ApiSortSchema(
    `${(ticketFilterQuery.sort as { description?: string }).description}. field.<key> or -field.<key>: by a custom field (numbers by value, other types by their text, so dates in time order); tickets without a value come last either way`,
  ),
);

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
    sort: apiListSort,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    forecast: Type.Optional(Type.Boolean({ description: 'Add each open ticket’s delivery forecast' })),
  },
  fieldFilterParams,
);
