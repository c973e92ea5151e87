import { Type } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';

const probability = (description: string) => Nullable(Type.Number({ minimum: 0, maximum: 1, description }));
const reason = Nullable(Type.String({ description: 'Why the probability is null (too little history, no target, …)' }));

/** An open ticket's delivery forecast (issue 23); docs/forecast.md explains the method and its measured accuracy. */
export const ForecastSchema = Type.Object(
  {
    stage_breach_probability: probability(
      'P(the current stage visit ends after its due time | it has lasted this long), from the stage’s ended visits; 1 once overdue',
    ),
    stage_reason: reason,
    ticket_breach_probability: probability(
      'P(the ticket reaches a final stage after its overall SLA due time), over its remaining path as the project’s tickets move',
    ),
    ticket_reason: reason,
    expected_finish_at: Nullable(DateTime('Median moment it reaches a final stage')),
    finish_p90_at: Nullable(DateTime('Moment by which it reaches a final stage with 90 % probability')),
    basis: Type.Object({
      method: Type.String(),
      stage_visits: Type.Integer({ description: 'Ended visits of the current stage the stage estimate rests on' }),
      per_priority: Type.Boolean({ description: 'True when those are visits of tickets of this priority only (≥ 200 of them)' }),
      stage_exits: Type.Integer({ description: 'Observed moves out of the current stage' }),
      tickets: Type.Integer({ description: 'Tickets whose moves the path model counts' }),
      business_time: Type.Boolean({ description: 'Durations in business time (the project has a calendar), else wall-clock' }),
    }),
  },
  { description: 'Open tickets of a project with a workflow: the delivery forecast (GET one; lists with forecast=true); null otherwise' },
);
