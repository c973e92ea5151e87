import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { judgementProperties } from '../workflow/delay.js';
import { delayedSorts } from './repository.js';

const filters = {
  project: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Project key or id' })),
  customer: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Customer name or email contains (case-insensitive)' })),
  assigned_to: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  priority: Type.Optional(Type.String({ pattern: '^(low|medium|high)(,(low|medium|high))*$', description: 'Comma list: low,medium,high' })),
  from: Type.Optional(DateTime('Start of the time window (default: 30 days before `to`)')),
  to: Type.Optional(DateTime('End of the time window (default: now)')),
  time_zone: Type.Optional(Type.String({ maxLength: 64, description: 'IANA time zone for days and weeks (default UTC)' })),
};

export const MonitorQuery = Type.Object(filters, { additionalProperties: false });
export type MonitorQueryType = Static<typeof MonitorQuery>;

export const DelayedQuery = Type.Object(
  {
    ...filters,
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'How many of the most late' })),
    sort: Type.Optional(
      Type.Enum([...delayedSorts], {
        default: 'delay',
        description:
          "Most late first by: `delay` (overdue before at risk, by the earlier of the two targets), `stage_overdue_by` (the current stage's target) or `ticket_overdue_by` (the whole ticket's target); tickets without that target come last",
      }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 1000, description: "The previous page's `next_cursor` (same filters and sort)" })),
  },
  { additionalProperties: false },
);
export const ThroughputQuery = Type.Object(
  { ...filters, interval: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('week')], { default: 'day' })) },
  { additionalProperties: false },
);

const Count = Type.Integer({ minimum: 0 });
const Ms = (description: string) => Nullable(Type.Number({ description }));

export const Overview = Type.Object({
  now: DateTime(),
  open: Count,
  by_status: Type.Record(Type.String(), Count, { description: 'Open tickets by status' }),
  by_stage: Type.Array(
    Type.Object({
      definition_id: Nullable(Type.String()),
      key: Nullable(Type.String()),
      name: Type.String(),
      project_key: Nullable(Type.String()),
      count: Count,
    }),
    { description: 'Open tickets by current stage (null key: not in a workflow stage)' },
  ),
  on_track: Count,
  at_risk: Count,
  overdue: Count,
  oldest_open: Nullable(
    Type.Object({
      id: Type.String(),
      number: Type.Integer(),
      subject: Nullable(Type.String()),
      created_at: DateTime(),
      age_seconds: Count,
    }),
  ),
  created_today: Count,
  closed_today: Count,
});

export const DelayedTicket = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  subject: Nullable(Type.String()),
  project: Nullable(Type.String()),
  customer_name: Nullable(Type.String()),
  assigned_to: Nullable(Type.String()),
  priority: Type.String(),
  status: Type.String(),
  ...judgementProperties,
  delay_state: Type.Union([Type.Literal('at_risk'), Type.Literal('overdue')], {
    description: 'The worse of `stage_state` and `ticket_state`; `delay_reason` says which',
  }),
  at_risk_since: DateTime(),
  stage: Nullable(
    Type.Object({
      id: Type.String(),
      key: Nullable(Type.String()),
      name: Nullable(Type.String()),
      started_at: Nullable(DateTime()),
      due_at: Nullable(DateTime("This stage visit's due moment")),
    }),
  ),
  time_in_stage_ms: Nullable(Type.Number()),
});

export const StageStats = Type.Object({
  definition_id: Type.String(),
  project_key: Type.String(),
  key: Type.String(),
  name: Type.String(),
  stage_type: Type.Union([Type.Literal('major'), Type.Literal('minor')]),
  target_minutes: Nullable(Type.Integer()),
  in_stage_now: Count,
  overdue_now: Count,
  completed: Type.Integer({ description: 'Visits that ended in the window' }),
  p50_ms: Ms('Median wall-clock time in stage over visits ended in the window'),
  p90_ms: Ms('90th percentile wall-clock time in stage'),
  mean_ms: Ms('Mean wall-clock time in stage'),
  p50_business_ms: Ms('Median business time in stage'),
  p90_business_ms: Ms('90th percentile business time in stage'),
  within_target: Nullable(Type.Number({ description: 'Share (0–1) of ended visits that ended by their due time' })),
  percentiles: Type.Union([Type.Literal('exact'), Type.Literal('histogram')], {
    description:
      'exact: percentiles over every ended visit; histogram (over 20,000 ended visits in the window): from log-scale buckets, within 4.4 % of the exact value. Counts, means and shares are always exact.',
  }),
});

export const ThroughputBucket = Type.Object({
  period: Type.String({ description: 'First day of the day or week (YYYY-MM-DD)' }),
  created: Count,
  closed: Count,
});

export const FlowSeries = Type.Object({
  definition_id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  final: Type.Boolean({ description: 'For a final stage the counts are cumulative arrivals' }),
  points: Type.Array(Type.Object({ day: Type.String(), count: Type.Integer() })),
});
export const Flow = Type.Object({ project_key: Type.String(), days: Type.Array(Type.String()), stages: Type.Array(FlowSeries) });

export const AgingBucket = Type.Object({ bucket: Type.String(), min_days: Type.Number(), max_days: Nullable(Type.Number()), count: Count });
