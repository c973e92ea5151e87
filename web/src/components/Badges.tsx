import type { DelayState, Priority, Status } from '../api/types';

const delayText: Record<DelayState, string> = { on_track: 'On track', at_risk: 'At risk', overdue: 'Overdue' };
const delayIcon: Record<DelayState, string> = { on_track: '●', at_risk: '▲', overdue: '■' };

/** Delay is never shown by colour alone: an icon and a word go with it. */
export function DelayBadge({ state }: { state: DelayState | undefined }) {
  if (!state) return null;
  return (
    <span className={`badge delay-${state}`}>
      <span aria-hidden="true">{delayIcon[state]}</span> {delayText[state]}
    </span>
  );
}

export function PriorityBadge({ priority }: { priority: Priority | (string & {}) }) {
  return <span className={`badge priority-${priority}`}>{priority}</span>;
}

export function StatusBadge({ status }: { status: Status }) {
  return <span className={`badge status status-${status}`}>{status.replace('_', ' ')}</span>;
}
