import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';

const Key = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
    description,
  });

export const CalendarSchema = Type.Object(
  {
    time_zone: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'IANA time zone, e.g. Europe/Berlin',
    }),
    working_days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
      uniqueItems: true,
      maxItems: 7,
      description: 'ISO weekdays: 1 = Monday … 7 = Sunday',
    }),
    working_hours: Type.Object(
      {
        start: Type.String({ description: 'HH:MM local time' }),
        end: Type.String({
          description: 'HH:MM local time; 24:00 for midnight',
        }),
      },
      { additionalProperties: false },
    ),
    holidays: Type.Optional(
      Type.Array(Type.String({ description: 'YYYY-MM-DD' }), {
        maxItems: 1000,
        description: 'Default: none',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'When the business clock runs; null: around the clock',
  },
);

const StageDefinitionFields = {
  key: Key('Stable key; transitions and tickets name the stage by it'),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  parent: Type.Optional(Nullable(Key('Key of the major stage this minor stage belongs to'))),
  target_minutes: Type.Optional(
    Nullable(
      Type.Integer({
        minimum: 1,
        maximum: 5_256_000,
        description: 'Target business minutes per visit',
      }),
    ),
  ),
  pauses: Type.Optional(
    Type.Boolean({
      description: "The ticket's overall SLA clock stops while in this stage",
    }),
  ),
  final: Type.Optional(Type.Boolean({ description: 'Entering it closes the ticket' })),
};

/** What GET answers but a client cannot set; sent back, it is ignored. */
const definitionReadOnly = {
  id: Type.Optional(Type.Unknown()),
  stage_type: Type.Optional(Type.Unknown()),
  position: Type.Optional(Type.Unknown()),
  archived: Type.Optional(Type.Unknown()),
};

export const StageDefinitionInput = Type.Object({ ...StageDefinitionFields, ...definitionReadOnly }, { additionalProperties: false });

export const TransitionSchema = Type.Object(
  {
    from: Nullable(Key('Stage key, or null for a ticket not yet in any stage')),
    to: Key('Stage key'),
  },
  { additionalProperties: false },
);

const projectFields = {
  key: Key("Matches tickets' `project` field"),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
  calendar: Type.Optional(Nullable(CalendarSchema)),
  at_risk_threshold: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'Share of a target used that makes it at risk (default 0.8)',
    }),
  ),
  breach_likely_threshold: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'Forecast breach probability at which a ticket is "likely to breach" (default 0.7; see docs/forecast.md)',
    }),
  ),
  new_tickets_enter_first_stage: Type.Optional(
    Type.Boolean({
      description:
        "A ticket created through /api in this project enters the workflow's first stage at once (default true); false: it waits outside every stage until moved",
    }),
  ),
  ticket_target_minutes: Type.Optional(
    Nullable(
      Type.Integer({
        minimum: 1,
        maximum: 5_256_000,
        description: "Target business minutes for a ticket's whole life",
      }),
    ),
  ),
  transitions: Type.Optional(
    Nullable(
      Type.Array(TransitionSchema, {
        maxItems: 2000,
        description: 'Allowed transitions; null: any stage to any stage',
      }),
    ),
  ),
  stages: Type.Array(StageDefinitionInput, {
    minItems: 1,
    maxItems: 200,
    description: 'The workflow, in order; minor stages name their major `parent`',
  }),
};

/** Ignored read-only fields, so a client can PUT back what it got. */
const readOnly = {
  id: Type.Optional(Type.Unknown()),
  created_at: Type.Optional(Type.Unknown()),
  updated_at: Type.Optional(Type.Unknown()),
  version: Type.Optional(Type.Unknown()),
};

export const ProjectCreate = Type.Object({ ...projectFields, ...readOnly }, { additionalProperties: false });
export const ProjectPatch = Type.Object(
  {
    key: Type.Optional(projectFields.key),
    name: Type.Optional(projectFields.name),
    description: projectFields.description,
    calendar: projectFields.calendar,
    at_risk_threshold: projectFields.at_risk_threshold,
    breach_likely_threshold: projectFields.breach_likely_threshold,
    ticket_target_minutes: projectFields.ticket_target_minutes,
    new_tickets_enter_first_stage: projectFields.new_tickets_enter_first_stage,
    transitions: projectFields.transitions,
    stages: Type.Optional(projectFields.stages),
    ...readOnly,
  },
  { additionalProperties: false },
);
export type ProjectCreateInput = Static<typeof ProjectCreate>;
export type ProjectPatchInput = Static<typeof ProjectPatch>;

export const StageDefinition = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  parent: Nullable(Type.String({ description: 'Major stage key, for a minor stage' })),
  stage_type: Type.Union([Type.Literal('major'), Type.Literal('minor')]),
  position: Type.Integer(),
  target_minutes: Nullable(Type.Integer()),
  pauses: Type.Boolean(),
  final: Type.Boolean(),
  archived: Type.Boolean({
    description: 'Removed from the workflow; kept for the history that names it',
  }),
});

export const Project = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  calendar: Nullable(CalendarSchema),
  at_risk_threshold: Type.Number(),
  breach_likely_threshold: Type.Number(),
  ticket_target_minutes: Nullable(Type.Integer()),
  new_tickets_enter_first_stage: Type.Boolean({ description: "New /api tickets enter the workflow's first stage" }),
  transitions: Nullable(Type.Array(TransitionSchema)),
  stages: Type.Array(StageDefinition),
  created_at: DateTime(),
  updated_at: DateTime(),
  version: Type.Integer(),
});
export type ProjectOut = Static<typeof Project>;

export const ProjectListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
    include_archived: Type.Optional(Type.Boolean({ description: 'Also list archived stage definitions' })),
  },
  { additionalProperties: false },
);
