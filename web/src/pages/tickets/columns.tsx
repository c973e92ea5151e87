import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import type { Ticket, TicketSort, ViewColumn } from '../../api/types';
import { PriorityBadge, StatusBadge } from '../../components/Badges';
import { Snippet } from '../../components/SearchBox';
import { JudgementLine, stageJudgement, ticketJudgement } from '../../components/Judgements';
import { Time } from '../../components/Time';
import { formatDuration, formatExact } from '../../lib/format';
import ticketShape from '../../api/ticket-fields.json';

/** A list column, named like the ticket field a saved view and an export call it. */
export type Column = { key: ViewColumn; label: string; internal?: boolean; sort?: TicketSort; render(ticket: Ticket): ReactNode };

const plain = (value: string | number | null | undefined) => (value === null || value === undefined || value === '' ? '—' : value);

/** How a column shows its value, where plain text will not do (the rest: the field's value as text). */
const renderers: Partial<Record<string, (ticket: Ticket) => ReactNode>> = {
  number: (t) => t.number,
  subject: (t) => (
    <>
      <Link to={`/tickets/${encodeURIComponent(t.id)}`}>{t.subject ?? t.customer_name ?? t.id}</Link>
      {t.snippet && (
        <div className="small muted">
          <Snippet snippet={t.snippet} />
        </div>
      )}
    </>
  ),
  status: (t) => <StatusBadge status={t.status} />,
  priority: (t) => <PriorityBadge priority={t.priority} />,
  customer_name: (t) => plain(t.customer_name ?? t.customer_email),
  description: (t) => <span className="clamp">{plain(t.description)}</span>,
  created_at: (t) => <Time iso={t.created_at} />,
  updated_at: (t) => <Time iso={t.updated_at} />,
  closed_at: (t) => <Time iso={t.closed_at} />,
  version: (t) => t.version,
  id: (t) => <code className="small">{t.id}</code>,
};

/**
 * The columns, their labels, which are internal and which sort: the server's ticket field table
 * (`src/modules/tickets/shape.ts`, written to ticket-fields.json by `npm run openapi`), in its order.
 */
export const columns: Column[] = ticketShape.columns.map((field) => ({
  key: field.key as ViewColumn,
  label: field.label,
  ...(field.internal ? { internal: true } : {}),
  ...('sort' in field && field.sort ? { sort: field.sort as TicketSort } : {}),
  render: renderers[field.key] ?? ((t: Ticket) => plain((t as Record<string, unknown>)[field.key] as string | number | null)),
}));
const byKey = new Map(columns.map((column) => [column.key as string, column]));

export const defaultColumns: ViewColumn[] = ['number', 'subject', 'status', 'priority', 'customer_name', 'project', 'updated_at'];

/**
 * Lateness, always beside the chosen columns for those who monitor: the current stage, time in it and both
 * judgements, each sortable most-late first (the server sorts, over the whole list).
 */
export type LatenessColumn = { key: string; label: string; sort?: TicketSort; render(ticket: Ticket, now: number): ReactNode };
export const latenessColumns: LatenessColumn[] = [
  {
    key: 'stage',
    label: 'Stage',
    render: (t) => (t.stage ? (t.stage.name ?? t.stage.key ?? '—') : <span className="muted">Not in a stage</span>),
  },
  {
    key: 'time_in_stage',
    label: 'In stage',
    render: (t, now) =>
      t.stage_entered_at ? (
        <span title={`Since ${formatExact(t.stage_entered_at)}`}>{formatDuration(now - new Date(t.stage_entered_at).getTime())}</span>
      ) : (
        <span className="muted">—</span>
      ),
  },
  {
    key: 'stage_judgement',
    label: 'Stage judgement',
    sort: '-stage_overdue_by',
    render: (t, now) =>
      t.stage ? (
        <JudgementLine kind="stage" judgement={stageJudgement(t)} stageName={t.stage.name ?? t.stage.key} now={now} />
      ) : (
        <span className="muted">—</span>
      ),
  },
  {
    key: 'ticket_judgement',
    label: 'Ticket target',
    sort: '-ticket_overdue_by',
    render: (t, now) =>
      t.status === 'closed' ? <span className="muted">—</span> : <JudgementLine kind="ticket" judgement={ticketJudgement(t)} now={now} />,
  },
];

export const sortLabels: Record<string, string> = {
  '-created_at': 'Newest first',
  created_at: 'Oldest first',
  '-updated_at': 'Recently updated',
  updated_at: 'Least recently updated',
  '-priority': 'Highest priority',
  priority: 'Lowest priority',
  '-number': 'Highest number',
  number: 'Lowest number',
  '-rank': 'Best match',
  '-stage_overdue_by': 'Most late against stage target',
  stage_overdue_by: 'Least late against stage target',
  '-ticket_overdue_by': 'Most late against ticket target',
  ticket_overdue_by: 'Least late against ticket target',
  '-delay': 'Most late',
  delay: 'Least late',
  '-breach_probability': 'Most likely to breach',
  breach_probability: 'Least likely to breach',
};

/** The label of a sort: a named one, or a custom field's (`field.<key>`, by its label when known). */
export function sortLabel(sort: string, fieldLabel: (key: string) => string | undefined = () => undefined): string {
  const field = /^(-?)field\.(.+)$/.exec(sort);
  if (!field) return sortLabels[sort] ?? sort;
  const label = fieldLabel(field[2]!) ?? field[2]!;
  return field[1] ? `${label}, highest first` : `${label}, lowest first`;
}

/** The columns a role may pick from (customers are not shown internal fields). */
export const columnsFor = (internal: boolean) => columns.filter((column) => internal || !column.internal);

/** The chosen keys as columns, in the chosen order, leaving out unknown and (for customers) internal ones. */
export function visibleColumns(keys: readonly string[], internal: boolean): Column[] {
  return keys.flatMap((key) => {
    const column = byKey.get(key);
    return column && (internal || !column.internal) ? [column] : [];
  });
}

const storageKey = 'stageline.columns';
// Before views named columns like ticket fields the customer column was "customer".
const renamed: Record<string, ViewColumn> = { customer: 'customer_name' };

/** The viewer's own column choice, kept in this browser for the unfiltered list. */
export function useColumnChoice() {
  const [chosen, setChosen] = useState<ViewColumn[]>(() => {
    try {
      const saved = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as unknown;
      if (!Array.isArray(saved)) return defaultColumns;
      return saved.map((key: string) => renamed[key] ?? key).filter((key): key is ViewColumn => byKey.has(key));
    } catch {
      return defaultColumns;
    }
  });
  const update = (next: ViewColumn[]) => {
    setChosen(next);
    localStorage.setItem(storageKey, JSON.stringify(next));
  };
  return [chosen, update] as const;
}

export const toggled = (keys: readonly ViewColumn[], key: ViewColumn) =>
  keys.includes(key) ? keys.filter((k) => k !== key) : [...keys, key];
