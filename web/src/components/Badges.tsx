import type { DelayState, Priority, Status } from '../api/types';
import { delayLabel, humanize, statusLabel } from '../lib/format';

const delayIcon: Record<DelayState, string> = { on_track: '●', at_risk: '▲', overdue: '■' };

/** Delay is never shown by colour alone: an icon and a word go with it. */
export function DelayBadge({ state }: { state: DelayState | undefined }) {
  if (!state) return null;
  return (
    <span className={`badge delay-${state}`}>
      <span aria-hidden="true">{delayIcon[state]}</span> {delayLabel(state)}
    </span>
  );
}

export function PriorityBadge({ priority }: { priority: Priority | (string & {}) }) {
  return <span className={`badge priority-${priority}`}>{humanize(priority)}</span>;
}

export function StatusBadge({ status }: { status: Status }) {
  return <span className={`badge status status-${status}`}>{statusLabel(status)}</span>;
}
