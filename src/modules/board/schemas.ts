import { FieldValueSchema } from '../fields/schemas.js';
import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { judgementProperties } from '../workflow/delay.js';

export const BoardQuery = Type.Object(
  {
    project: Type.String({ minLength: 1, maxLength: 200, description: 'Project key or id' }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 5000, description: 'Most cards (highest priority first)' })),
    q: Type.Optional(
      Type.String({ maxLength: 1000, description: 'Only the cards this search matches (the same syntax as the tickets list)' }),
    ),
    view: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Only the cards of this saved view's query" })),
    forecast: Type.Optional(Type.Boolean({ description: 'Add each card’s last stored delivery forecast (made every 2 minutes)' })),
  },
  { additionalProperties: false },
);
export type BoardQueryType = Static<typeof BoardQuery>;

export const BoardCard = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  subject: Nullable(Type.String()),
  customer_name: Nullable(Type.String()),
  customer_email: Nullable(Type.String()),
  assigned_to: Nullable(Type.String()),
  priority: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
  status: Type.String(),
  version: Type.Integer(),
  stage: Type.Union(
    [
      Type.Object({
        key: Type.String(),
        name: Type.String(),
        started_at: Nullable(DateTime()),
        due_at: Nullable(DateTime("This stage visit's due moment (the card's `stage_due_at`)")),
      }),
      Type.Null(),
    ],
    { description: 'The workflow stage the ticket is in; null when in none' },
  ),
  ...judgementProperties,
  delay_state: Type.Union([Type.Literal('on_track'), Type.Literal('at_risk'), Type.Literal('overdue')], {
    description: 'The worse of `stage_state` and `ticket_state` (a board shows open tickets only, so never null)',
  }),
  fields: Type.Record(Type.String(), FieldValueSchema, { description: 'The values of the custom fields marked show_on_card' }),
  forecast: Type.Optional(
    Nullable(
      Type.Object(
        {
          stage_breach_probability: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
          ticket_breach_probability: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
          expected_finish_at: Nullable(DateTime('Median moment it reaches a final stage')),
          forecast_at: DateTime('When the forecast was made'),
        },
        { description: 'With forecast=true: the last stored forecast (the ticket page has the full one); null when none was made' },
      ),
    ),
  ),
});
export type BoardCardOut = Static<typeof BoardCard>;

export const Board = Type.Object({
  project: Type.Object({ id: Type.String(), key: Type.String(), name: Type.String() }),
  now: DateTime(),
  cards: Type.Array(BoardCard),
  truncated: Type.Boolean({ description: 'More open tickets exist than `limit`' }),
});
