import { sql, type RawBuilder } from 'kysely';
import { Type } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';

export type DelayState = 'on_track' | 'at_risk' | 'overdue';
export const delayStates = ['on_track', 'at_risk', 'overdue'] as const;
/** Which judgement made a ticket late: its current stage's target or the whole ticket's target. */
export type DelayReason = 'stage' | 'ticket';
export const delayReasons = ['stage', 'ticket'] as const;

/**
 * The stored moments a ticket is judged by (kept current by triggers and transitions, so the answer is right at any
 * moment without a job having run): its open stage's at-risk and due moments, and its whole-ticket (SLA) target's.
 */
export type DelayMoments = {
  status: string;
  stage_at_risk_at: Date | null;
  stage_due_at: Date | null;
  sla_at_risk_at: Date | null;
  sla_due_at: Date | null;
};

/** The two named judgements of a ticket, and the worse of them; the shape every ticket answer carries. */
export type Judgements = {
  stage_state: DelayState | null;
  stage_due_at: string | null;
  stage_overdue_by: number | null;
  ticket_state: DelayState | null;
  ticket_due_at: string | null;
  ticket_overdue_by: number | null;
  delay_state: DelayState | null;
  delay_reason: DelayReason | null;
  overdue_by: number | null;
};

const State = (description: string) => Nullable(Type.Enum([...delayStates], { description }));
const Seconds = (description: string) => Nullable(Type.Integer({ minimum: 0, description }));

/** The judgement fields as TypeBox properties: spread into every schema that carries a ticket's lateness. */
export const judgementProperties = {
  stage_state: State(
    "Current stage's judgement: its own target (due / at-risk moment of the open stage visit). Null when the ticket is closed or its stage has no target",
  ),
  stage_due_at: Nullable(DateTime("When the current stage's target passes (null: no stage target)")),
  stage_overdue_by: Seconds("Seconds past the current stage's due moment; null unless `stage_state` is overdue"),
  ticket_state: State(
    "Whole ticket's judgement: its project's overall ticket target (business time, paused in pausing stages). Null when closed or there is no ticket target",
  ),
  ticket_due_at: Nullable(DateTime("When the whole ticket's target passes (null: no target, or its clock is paused)")),
  ticket_overdue_by: Seconds("Seconds past the whole ticket's due moment; null unless `ticket_state` is overdue"),
  delay_state: State('The worse of `stage_state` and `ticket_state` (on_track when neither has a target); null for a closed ticket'),
  delay_reason: Nullable(
    Type.Enum([...delayReasons], {
      description: 'Which judgement `delay_state` comes from while at risk or overdue: `stage` or `ticket` (null when on track or closed)',
    }),
  ),
  overdue_by: Seconds(
    'Kept for older clients: seconds past due of the judgement `delay_reason` names (the larger of `stage_overdue_by` and `ticket_overdue_by`)',
  ),
};

const rank = { on_track: 0, at_risk: 1, overdue: 2 } as const;
const iso = (value: Date | null) => (value ? value.toISOString() : null);

function judge(atRisk: Date | null, due: Date | null, now: Date): { state: DelayState | null; overdue_by: number | null } {
  if (!due && !atRisk) return { state: null, overdue_by: null };
  if (due && due.getTime() <= now.getTime()) return { state: 'overdue', overdue_by: Math.floor((now.getTime() - due.getTime()) / 1000) };
  if (atRisk && atRisk.getTime() <= now.getTime()) return { state: 'at_risk', overdue_by: null };
  return { state: 'on_track', overdue_by: null };
}

/**
 * A ticket's two judgements at `now` — the TypeScript half of the one rule; `judgementSql` is the SQL half, and
 * `test/modules/workflow/delay.test.ts` compares them on random rows. When both are equally late, the one whose
 * moment came first is the reason (the stage on a tie).
 */
export function delayOf(ticket: DelayMoments, now: Date): Judgements {
  const closed = ticket.status === 'closed';
  const stage = closed ? { state: null, overdue_by: null } : judge(ticket.stage_at_risk_at, ticket.stage_due_at, now);
  const whole = closed ? { state: null, overdue_by: null } : judge(ticket.sla_at_risk_at, ticket.sla_due_at, now);
  let delay_state: DelayState | null = null;
  let delay_reason: DelayReason | null = null;
  if (!closed) {
    const s = stage.state ? rank[stage.state] : 0;
    const w = whole.state ? rank[whole.state] : 0;
    delay_state = delayStates[Math.max(s, w)];
    if (delay_state !== 'on_track') {
      if (s !== w) delay_reason = s > w ? 'stage' : 'ticket';
      else {
        const [stageAt, ticketAt] =
          delay_state === 'overdue' ? [ticket.stage_due_at!, ticket.sla_due_at!] : [ticket.stage_at_risk_at!, ticket.sla_at_risk_at!];
        delay_reason = stageAt.getTime() <= ticketAt.getTime() ? 'stage' : 'ticket';
      }
    }
  }
  return {
    stage_state: stage.state,
    stage_due_at: iso(ticket.stage_due_at),
    stage_overdue_by: stage.overdue_by,
    ticket_state: whole.state,
    ticket_due_at: iso(ticket.sla_due_at),
    ticket_overdue_by: whole.overdue_by,
    delay_state,
    delay_reason,
    overdue_by: delay_reason === 'stage' ? stage.overdue_by : delay_reason === 'ticket' ? whole.overdue_by : null,
  };
}

/**
 * The same rule in SQL over a `tickets` row aliased `t`, for filters and sort keys: the states and the reason.
 * `delay_state` reads the generated `overdue_from` / `at_risk_from` (the earlier of the two moments), which is the
 * worse of the two judgements by construction.
 */
export function judgementSql(now: Date) {
  const state = (atRisk: RawBuilder<unknown>, due: RawBuilder<unknown>) =>
    sql<DelayState | null>`case when t.status = 'closed' or (${due} is null and ${atRisk} is null) then null
      when ${due} <= ${now} then 'overdue' when ${atRisk} <= ${now} then 'at_risk' else 'on_track' end`;
  const stageState = state(sql`t.stage_at_risk_at`, sql`t.stage_due_at`);
  const ticketState = state(sql`t.sla_at_risk_at`, sql`t.sla_due_at`);
  const delayState = sql<DelayState | null>`case when t.status = 'closed' then null
    when t.overdue_from <= ${now} then 'overdue' when t.at_risk_from <= ${now} then 'at_risk' else 'on_track' end`;
  const stageOverdue = sql`t.stage_due_at <= ${now}`;
  const ticketOverdue = sql`t.sla_due_at <= ${now}`;
  const stageAtRisk = sql`t.stage_at_risk_at <= ${now}`;
  const ticketAtRisk = sql`t.sla_at_risk_at <= ${now}`;
  const delayReason = sql<DelayReason | null>`case when t.status = 'closed' then null
    when ${stageOverdue} or ${ticketOverdue} then
      case when not coalesce(${ticketOverdue}, false) then 'stage' when not coalesce(${stageOverdue}, false) then 'ticket'
        when t.stage_due_at <= t.sla_due_at then 'stage' else 'ticket' end
    when ${stageAtRisk} or ${ticketAtRisk} then
      case when not coalesce(${ticketAtRisk}, false) then 'stage' when not coalesce(${stageAtRisk}, false) then 'ticket'
        when t.stage_at_risk_at <= t.sla_at_risk_at then 'stage' else 'ticket' end
    end`;
  const seconds = (due: RawBuilder<unknown>) =>
    sql<
      number | null
    >`case when t.status <> 'closed' and ${due} <= ${now} then floor(extract(epoch from (${now}::timestamptz - ${due})))::int end`;
  return {
    stage_state: stageState,
    ticket_state: ticketState,
    delay_state: delayState,
    delay_reason: delayReason,
    stage_overdue_by: seconds(sql`t.stage_due_at`),
    ticket_overdue_by: seconds(sql`t.sla_due_at`),
  };
}

/**
 * The same rule as predicates over a `tickets` row aliased `t`, in the form the monitor's partial indexes serve
 * (`at_risk_from` first): `late` is at risk or overdue, `atRisk` and `overdue` are `delay_state` equal to that. A due
 * moment always comes with an at-risk moment, so overdue tickets are among those with one. Pinned to `delayOf` with
 * the rest in test/modules/workflow/judgements.test.ts.
 */
export function delayPredicates(now: Date) {
  return {
    late: sql<boolean>`(t.status <> 'closed' and t.at_risk_from <= ${now})`,
    atRisk: sql<boolean>`(t.status <> 'closed' and t.at_risk_from <= ${now} and (t.overdue_from is null or t.overdue_from > ${now}))`,
    overdue: sql<boolean>`(t.status <> 'closed' and t.at_risk_from is not null and t.overdue_from <= ${now})`,
  };
}
