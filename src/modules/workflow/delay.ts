import { sql, type RawBuilder } from 'kysely';

export type DelayState = 'on_track' | 'at_risk' | 'overdue';
export const delayStates = ['on_track', 'at_risk', 'overdue'] as const;

type DelayColumns = { status: string; at_risk_from: Date | null; overdue_from: Date | null };

/**
 * A ticket's delay from its row alone: `overdue_from` / `at_risk_from` are the earliest due / at-risk
 * moments of its open stages and its overall target (kept current by triggers and transitions), so
 * the answer is right at any moment without a job having run. Closed tickets have none.
 */
export function delayOf(ticket: DelayColumns, now: Date): { delay_state: DelayState | null; overdue_by: number | null } {
  if (ticket.status === 'closed') return { delay_state: null, overdue_by: null };
  if (ticket.overdue_from && ticket.overdue_from.getTime() <= now.getTime()) {
    return { delay_state: 'overdue', overdue_by: Math.floor((now.getTime() - ticket.overdue_from.getTime()) / 1000) };
  }
  if (ticket.at_risk_from && ticket.at_risk_from.getTime() <= now.getTime()) return { delay_state: 'at_risk', overdue_by: null };
  return { delay_state: 'on_track', overdue_by: null };
}

/** The same rule in SQL, over a `tickets` row aliased `t`. */
export function delayStateSql(now: Date): RawBuilder<DelayState | null> {
  return sql<DelayState | null>`case when t.status = 'closed' then null
    when t.overdue_from <= ${now} then 'overdue' when t.at_risk_from <= ${now} then 'at_risk' else 'on_track' end`;
}
