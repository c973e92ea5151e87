import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import type { Ticket, TicketSort, ViewColumn } from '../../api/types';
import { PriorityBadge, StatusBadge } from '../../components/Badges';
import { Snippet } from '../../components/SearchBox';
import { JudgementLine, stageJudgement, ticketJudgement } from '../../components/Judgements';
import { Time } from '../../components/Time';
import { formatDuration, formatExact } from '../../lib/format';

/** A list column, named like the ticket field a saved view and an export call it. */
export type Column = { key: ViewColumn; label: string; internal?: boolean; sort?: TicketSort; render(ticket: Ticket): ReactNode };

const plain = (value: string | number | null | undefined) => (value === null || value === undefined || value === '' ? '—' : value);

export const columns: Column[] = [
  { key: 'number', label: '#', sort: 'number', render: (t) => t.number },
  {
    key: 'subject',
    label: 'Subject',
    render: (t) => (
      <>
        <Link to={`/tickets/${encodeURIComponent(t.id)}`}>{t.subject ?? t.customer_name ?? t.id}</Link>
        {t.snippet && (
          <div className="small muted">
            <Snippet snippet={t.snippet} />
          </div>
        )}
      </>
    ),
  },
  { key: 'status', label: 'Status', render: (t) => <StatusBadge status={t.status} /> },
  { key: 'priority', label: 'Priority', sort: 'priority', render: (t) => <PriorityBadge priority={t.priority} /> },
  { key: 'customer_name', label: 'Customer', render: (t) => plain(t.customer_name ?? t.customer_email) },
  { key: 'customer_email', label: 'Customer email', render: (t) => plain(t.customer_email) },
  { key: 'customer_phone', label: 'Phone', render: (t) => plain(t.customer_phone) },
  { key: 'contact_person', label: 'Contact', render: (t) => plain(t.contact_person) },
  { key: 'project', label: 'Project', render: (t) => plain(t.project) },
  { key: 'category', label: 'Category', render: (t) => plain(t.category) },
  { key: 'assigned_to', label: 'Assignee', internal: true, render: (t) => plain(t.assigned_to) },
  { key: 'description', label: 'Description', render: (t) => <span className="clamp">{plain(t.description)}</span> },
  { key: 'helpdeskurl', label: 'Helpdesk URL', render: (t) => plain(t.helpdeskurl) },
  { key: 'current_stage_id', label: 'Stage id', internal: true, render: (t) => plain(t.current_stage_id) },
  { key: 'ops_id', label: 'OPS id', internal: true, render: (t) => plain(t.ops_id) },
  { key: 'ops_error', label: 'OPS error', internal: true, render: (t) => plain(t.ops_error) },
  { key: 'created_at', label: 'Created', sort: 'created_at', render: (t) => <Time iso={t.created_at} /> },
  { key: 'updated_at', label: 'Updated', sort: 'updated_at', render: (t) => <Time iso={t.updated_at} /> },
  { key: 'closed_at', label: 'Closed', render: (t) => <Time iso={t.closed_at} /> },
  { key: 'version', label: 'Version', render: (t) => t.version },
  { key: 'id', label: 'Id', render: (t) => <code className="small">{t.id}</code> },
];
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

export const sortLabels: Record<TicketSort, string> = {
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
