import { addBusinessMs, businessMs, type Calendar } from '../projects/calendar.js';

/** A ticket's overall SLA clock: business time used before the running segment, and that segment's start (null while paused). */
export type SlaClock = { usedMs: number; segmentStart: Date | null };
export type SlaMoments = { atRiskAt: Date | null; dueAt: Date | null };

/** The clock after a transition at `at` into a stage that pauses it or not. */
export function advanceSla(calendar: Calendar | null, clock: SlaClock, at: Date, pauses: boolean): SlaClock {
  const usedMs = clock.usedMs + (clock.segmentStart ? businessMs(calendar, clock.segmentStart, at) : 0);
  return { usedMs, segmentStart: pauses ? null : at };
}

/**
 * When the ticket's overall target turns at-risk and overdue. A moment already passed keeps its
 * earlier value (the breach happened then); a paused clock with time left has no moment.
 */
export function slaMoments(
  calendar: Calendar | null,
  target: { targetMs: number | null; threshold: number },
  clock: SlaClock,
  previous: SlaMoments,
): SlaMoments {
  if (target.targetMs === null) return { atRiskAt: null, dueAt: null };
  const moment = (limitMs: number, before: Date | null): Date | null => {
    if (clock.usedMs >= limitMs) return before ?? clock.segmentStart;
    return clock.segmentStart ? addBusinessMs(calendar, clock.segmentStart, limitMs - clock.usedMs) : null;
  };
  return {
    atRiskAt: moment(Math.round(target.targetMs * target.threshold), previous.atRiskAt),
    dueAt: moment(target.targetMs, previous.dueAt),
  };
}

/** A stage visit's at-risk and due moments from its target, entered at `at`. */
export function stageMoments(calendar: Calendar | null, targetMinutes: number | null, threshold: number, at: Date): SlaMoments {
  if (targetMinutes === null) return { atRiskAt: null, dueAt: null };
  const targetMs = targetMinutes * 60_000;
  return {
    atRiskAt: addBusinessMs(calendar, at, Math.round(targetMs * threshold)),
    dueAt: addBusinessMs(calendar, at, targetMs),
  };
}
