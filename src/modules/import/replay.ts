import { businessMs, type Calendar } from '../projects/calendar.js';
import type { StageDefinitionRow } from '../../db/types.js';
import { advanceSla, slaMoments, stageMoments, type SlaClock, type SlaMoments } from '../workflow/sla.js';

/** What a transition reads from a project to time a visit and the ticket's overall target. */
export type ImportWorkflow = {
  calendar: Calendar | null;
  atRiskThreshold: number;
  ticketTargetMinutes: number | null;
  definitionOf: Map<string, StageDefinitionRow>;
};

export type ReplayVisit = { definitionId: string | null; start: Date; end: Date | null; dueAt: Date | null };
export type ReplayedVisit = { end: Date | null; dueAt: Date | null; atRiskAt: Date | null; businessMs: number | null; paused: boolean };
export type ReplayedTicket = {
  sla: SlaClock & SlaMoments;
  /** Set when the visits decide it: a final visit closes the ticket, any other moves it on from new or closed. */
  status: { status: 'open' | 'closed'; closedAt: Date | null } | null;
};

/**
 * The visits of an imported ticket (in start order) timed as the transitions that made them would have: each visit's
 * at-risk and due moments from its target and the calendar, its business time once ended, a final visit a moment that
 * closes the ticket, and the ticket's overall SLA clock advanced visit by visit from its creation.
 */
export function replayVisits(
  workflow: ImportWorkflow,
  createdAt: Date,
  visits: readonly ReplayVisit[],
): { visits: ReplayedVisit[]; ticket: ReplayedTicket } {
  let clock: SlaClock = { usedMs: 0, segmentStart: null };
  let moments: SlaMoments = { atRiskAt: null, dueAt: null };
  let status: ReplayedTicket['status'] = null;
  let first = true;
  const targetMs = workflow.ticketTargetMinutes === null ? null : workflow.ticketTargetMinutes * 60_000;
  const replayed = visits.map((visit): ReplayedVisit => {
    const definition = visit.definitionId ? workflow.definitionOf.get(visit.definitionId) : undefined;
    if (!definition) {
      return { end: visit.end, dueAt: visit.dueAt, atRiskAt: null, businessMs: null, paused: false };
    }
    const parent = definition.parent_id ? workflow.definitionOf.get(definition.parent_id) : undefined;
    const paused = definition.pauses || (parent?.pauses ?? false);
    const segmentStart = clock.segmentStart ?? (first ? createdAt : null);
    first = false;
    clock = advanceSla(workflow.calendar, { usedMs: clock.usedMs, segmentStart }, visit.start, definition.final || paused);
    if (definition.final) {
      moments = { atRiskAt: null, dueAt: null };
      status = { status: 'closed', closedAt: visit.start };
      return { end: visit.start, dueAt: null, atRiskAt: null, businessMs: 0, paused };
    }
    moments = slaMoments(workflow.calendar, { targetMs, threshold: workflow.atRiskThreshold }, clock, moments);
    status = { status: 'open', closedAt: null };
    const own = stageMoments(workflow.calendar, definition.target_minutes, workflow.atRiskThreshold, visit.start);
    return {
      end: visit.end,
      dueAt: visit.dueAt ?? own.dueAt,
      atRiskAt: own.atRiskAt,
      businessMs: visit.end ? businessMs(workflow.calendar, visit.start, visit.end) : null,
      paused,
    };
  });
  return { visits: replayed, ticket: { sla: { ...clock, ...moments }, status } };
}
