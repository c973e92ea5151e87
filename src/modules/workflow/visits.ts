import type { StageRow } from '../../db/types.js';
import { businessMs, type Calendar } from '../projects/calendar.js';
import type { StageDefinitionRow } from '../../db/types.js';
import type { VisitOut } from './schemas.js';

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** One stage visit as the timeline draws it: planned vs actual, wall and business time, pause, lateness. */
export function presentVisit(
  stage: Omit<StageRow, 'number'>,
  definition: StageDefinitionRow,
  calendar: Calendar | null,
  now: Date,
): VisitOut {
  const start = stage.stage_start_time ?? stage.created_at;
  const end = stage.stage_end_time ?? now;
  const durationMs = Math.max(0, end.getTime() - start.getTime());
  const late = stage.due_at && end.getTime() > stage.due_at.getTime() ? Math.floor((end.getTime() - stage.due_at.getTime()) / 1000) : null;
  return {
    stage_id: stage.id,
    definition_id: definition.id,
    key: definition.key,
    name: definition.name,
    stage_type: stage.stage_type,
    major_stage_id: stage.major_stage_id,
    visit: stage.visit ?? 1,
    state: stage.stage_end_time ? 'done' : 'active',
    paused: stage.paused,
    target_minutes: definition.target_minutes,
    started_at: start.toISOString(),
    ended_at: iso(stage.stage_end_time),
    at_risk_at: iso(stage.at_risk_at),
    due_at: iso(stage.due_at),
    duration_ms: durationMs,
    business_ms: stage.business_ms ?? businessMs(calendar, start, end),
    paused_ms: stage.paused ? durationMs : 0,
    overdue_by: late,
  };
}

/** Time in each stage summed over all its visits, in workflow order. */
export function timeInStage(visits: readonly VisitOut[], definitions: readonly StageDefinitionRow[]) {
  const totals = new Map<string, { visits: number; duration_ms: number; business_ms: number }>();
  for (const visit of visits) {
    const total = totals.get(visit.definition_id) ?? { visits: 0, duration_ms: 0, business_ms: 0 };
    total.visits += 1;
    total.duration_ms += visit.duration_ms;
    total.business_ms += visit.business_ms;
    totals.set(visit.definition_id, total);
  }
  return definitions
    .filter((definition) => totals.has(definition.id))
    .map((definition) => ({ definition_id: definition.id, key: definition.key, name: definition.name, ...totals.get(definition.id)! }));
}
