import { judgementLine, type Judgement, type JudgementState } from '../lib/format';
import { useNow } from './Time';

/** The fields every `/api` ticket answer carries: the current stage's judgement and the whole ticket's. */
export type Judged = {
  stage_state?: JudgementState | null;
  stage_due_at?: string | null;
  stage_overdue_by?: number | null;
  ticket_state?: JudgementState | null;
  ticket_due_at?: string | null;
  ticket_overdue_by?: number | null;
  delay_state?: JudgementState | null;
  delay_reason?: 'stage' | 'ticket' | null;
};

const icon: Record<JudgementState, string> = { on_track: '●', at_risk: '▲', overdue: '■' };
const word: Record<JudgementState, string> = { on_track: 'on track', at_risk: 'at risk', overdue: 'overdue' };

export const stageJudgement = (ticket: Judged): Judgement => ({
  state: ticket.stage_state,
  due_at: ticket.stage_due_at,
  overdue_by: ticket.stage_overdue_by,
});
export const ticketJudgement = (ticket: Judged): Judgement => ({
  state: ticket.ticket_state,
  due_at: ticket.ticket_due_at,
  overdue_by: ticket.ticket_overdue_by,
});

/** One labelled judgement: "■ Stage Fix: passed 2 h ago", its state in words for screen readers too. */
export function JudgementLine({
  kind,
  judgement,
  stageName,
  now,
}: {
  kind: 'stage' | 'ticket';
  judgement: Judgement;
  stageName?: string | null;
  now: number;
}) {
  const state = judgement.state ?? null;
  return (
    <span className={`judgement judgement-${kind} ${state ? `state-${state}` : 'state-none'}`} data-kind={kind}>
      {state && (
        <span aria-hidden="true" className="judgement-icon">
          {icon[state]}
        </span>
      )}{' '}
      {judgementLine(kind, judgement, now, stageName)}
      {state && state !== 'on_track' && <span className="sr-only"> ({word[state]})</span>}
    </span>
  );
}

/**
 * Both judgements, each labelled: the current stage's ("Stage Fix: due in 2 d") and the ticket's overall target
 * ("Ticket target: passed 5 d 2 h ago"). `compact` (board cards) leaves out a judgement with no target.
 */
export function Judgements({
  ticket,
  stageName,
  compact = false,
  className = '',
}: {
  ticket: Judged;
  stageName?: string | null;
  compact?: boolean;
  className?: string;
}) {
  const now = useNow();
  const stage = stageJudgement(ticket);
  const whole = ticketJudgement(ticket);
  const hasStage = stageName !== null && stageName !== undefined;
  const showStage = hasStage && (!compact || Boolean(stage.due_at || stage.overdue_by));
  const showTicket = !compact || Boolean(whole.due_at || whole.overdue_by);
  if (!showStage && !showTicket) return null;
  return (
    <span className={`judgements ${className}`}>
      {showStage && <JudgementLine kind="stage" judgement={stage} stageName={stageName} now={now} />}
      {showTicket && <JudgementLine kind="ticket" judgement={whole} now={now} />}
    </span>
  );
}
