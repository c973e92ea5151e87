import type { Calendar } from '../projects/calendar.js';
import { timelineOf } from './business-time.js';
import { ForecastModel, MIN_VISITS, PATHS } from './model.js';

/** What a forecast knows of one open ticket: its current visit and its overall SLA clock. */
export type ForecastSubject = {
  id: string;
  priority: string;
  visit: { definitionId: string; start: Date; dueAt: Date | null } | null;
  sla: { usedMs: number; segmentStart: Date | null; dueAt: Date | null };
};

export type ForecastContext = {
  model: ForecastModel;
  calendar: Calendar | null;
  ticketTargetMinutes: number | null;
  pauses: (id: string) => boolean;
};

export type Forecast = {
  stage_breach_probability: number | null;
  stage_reason: string | null;
  ticket_breach_probability: number | null;
  ticket_reason: string | null;
  expected_finish_at: string | null;
  finish_p90_at: string | null;
  basis: {
    method: string;
    stage_visits: number;
    per_priority: boolean;
    stage_exits: number;
    tickets: number;
    business_time: boolean;
  };
};

const round = (p: number) => Math.round(p * 1000) / 1000;

/**
 * One open ticket's forecast at `now`. The stage: P(visit outlasts its due time | it has lasted this long), read off the
 * stage's ended visits. The ticket: the remaining time to a final stage — the rest of this visit drawn from the
 * visits that lasted at least as long, then stages and durations as the project's tickets actually moved, simulated
 * once per model and stage (see RemainingTable) — against the business time its overall target has left.
 */
export function forecastOne(context: ForecastContext, subject: ForecastSubject, now: Date, parts = { ticket: true }): Forecast {
  const { model, calendar } = context;
  // Business time read off the calendar's timeline (laid out once per process), not walked day by day per ticket.
  const timeline = calendar ? timelineOf(calendar) : null;
  const elapsedOf = (from: Date, to: Date) => (timeline ? timeline.between(from, to) : Math.max(0, to.getTime() - from.getTime()));
  const visit = subject.visit;
  const found = visit ? model.durations(visit.definitionId, subject.priority) : null;
  const visits = found?.durations.n ?? 0;
  const exits = visit ? model.exits(visit.definitionId) : 0;
  const out: Forecast = {
    stage_breach_probability: null,
    stage_reason: null,
    ticket_breach_probability: null,
    ticket_reason: null,
    expected_finish_at: null,
    finish_p90_at: null,
    basis: {
      method: 'survival of ended visits (stage); simulated paths over observed transitions (ticket)',
      stage_visits: Math.round(visits),
      per_priority: found?.perPriority ?? false,
      stage_exits: exits,
      tickets: model.tickets,
      business_time: calendar !== null,
    },
  };
  if (!visit) {
    out.stage_reason = out.ticket_reason = 'the ticket is in no stage of its project\u2019s workflow';
    return out;
  }
  const elapsed = elapsedOf(visit.start, now);
  if (!visit.dueAt) out.stage_reason = 'the stage has no target';
  else if (visit.dueAt.getTime() <= now.getTime()) out.stage_breach_probability = 1;
  else if (visits < MIN_VISITS) out.stage_reason = `${Math.round(visits)} ended visits of this stage; a forecast needs ${MIN_VISITS}`;
  else out.stage_breach_probability = round(found!.durations.conditionalExceed(elapsed, elapsedOf(visit.start, visit.dueAt)));

  if (!parts.ticket) return out;
  // Paths would wander the workflow until the step limit and never finish: nothing to forecast, and 1,000 of them cost.
  if (!model.finishes) {
    out.ticket_reason = 'the workflow has no final stage';
    return out;
  }
  if (visits < MIN_VISITS || exits < MIN_VISITS) {
    out.ticket_reason = `${Math.round(visits)} ended visits of this stage and ${exits} moves out of it; a forecast needs ${MIN_VISITS} of each`;
    return out;
  }
  // A lookup in the stage and priority's remaining-time table (made once per model), not a simulation per ticket.
  const table = model.remaining(visit.definitionId, subject.priority, context.pauses(visit.definitionId))!;
  const finish = (q: number) => {
    const ms = table.totalQuantile(elapsed, q);
    return timeline ? timeline.add(now, ms) : new Date(now.getTime() + ms);
  };
  out.expected_finish_at = finish(0.5).toISOString();
  out.finish_p90_at = finish(0.9).toISOString();

  if (context.ticketTargetMinutes === null) out.ticket_reason = 'the project has no overall target';
  else if (subject.sla.dueAt && subject.sla.dueAt.getTime() <= now.getTime()) out.ticket_breach_probability = 1;
  else {
    const used = subject.sla.usedMs + (subject.sla.segmentStart ? elapsedOf(subject.sla.segmentStart, now) : 0);
    const left = context.ticketTargetMinutes * 60_000 - used;
    // Half a path on each side, as with the simulated paths the table is made of.
    out.ticket_breach_probability = round((table.countingExceeds(elapsed, left) * PATHS + 0.5) / (PATHS + 1));
  }
  return out;
}
