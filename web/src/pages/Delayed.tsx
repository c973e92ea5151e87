import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { getList } from '../api/http';
import type { DelayState, Priority, Ticket } from '../api/types';
import { DelayBadge, PriorityBadge } from '../components/Badges';
import { MonitorFilterBar } from '../components/Filters';
import { Empty, ErrorState, Loading } from '../components/States';
import { Time } from '../components/Time';
import { durationMs, formatDuration } from '../lib/time';
import { monitorFilterKeys, monitorQuery, useUrlState } from '../lib/useFilters';
import { useLive } from '../live/events';

/** One delayed ticket as the monitor lists it: the ticket's fields, its stage and how late. */
type DelayedRow = Partial<Ticket> & {
  ticket?: Ticket;
  ticket_id?: string;
  delay_state?: DelayState;
  overdue_by?: string | number | null;
  overdue_by_ms?: number | null;
  stage?: { key?: string; name?: string; due_at?: string | null; started_at?: string | null; stage_start_time?: string | null } | null;
  stage_name?: string;
  due_at?: string | null;
};

export default function Delayed() {
  const [filters, set] = useUrlState([...monitorFilterKeys, 'state'] as const);
  const query = useMemo(() => ({ ...monitorQuery(filters), state: filters.state, limit: 200 }), [filters]);
  const { changed } = useLive();
  const delayed = useQuery({ queryKey: ['monitor', 'delayed', query], queryFn: () => getList<DelayedRow>('/api/monitor/delayed', query) });

  return (
    <section aria-labelledby="delayed-title">
      <h1 id="delayed-title">Delayed tickets</h1>
      <p className="muted">Overdue and at-risk tickets, most late first.</p>
      <MonitorFilterBar filters={filters} set={set} />
      <div className="segmented" role="group" aria-label="Show">
        {[
          ['', 'All late'],
          ['overdue', 'Overdue'],
          ['at_risk', 'At risk'],
        ].map(([value, label]) => (
          <button key={value} type="button" aria-pressed={filters.state === value} onClick={() => set({ state: value })}>
            {label}
          </button>
        ))}
      </div>
      {delayed.isPending ? (
        <Loading />
      ) : delayed.isError ? (
        <ErrorState error={delayed.error} retry={() => void delayed.refetch()} />
      ) : delayed.data.items.length === 0 ? (
        <Empty>Nothing is late. 🎉</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Ticket</th>
                <th scope="col">State</th>
                <th scope="col">Late by</th>
                <th scope="col">Stage</th>
                <th scope="col">Due</th>
                <th scope="col">Priority</th>
                <th scope="col">Customer</th>
              </tr>
            </thead>
            <tbody>
              {delayed.data.items
                .map((row) => ({ ...row, ...(row.ticket ?? {}) }) as DelayedRow & Ticket)
                .filter((row) => !filters.state || row.delay_state === filters.state)
                .map((row) => {
                  const id = row.id ?? row.ticket_id ?? '';
                  const late = durationMs(row.overdue_by_ms ?? row.overdue_by);
                  const stage = row.stage ?? row.current_stage;
                  return (
                    <tr key={id} className={changed.has(id) ? 'flash' : undefined}>
                      <td data-label="Ticket">
                        <Link to={`/tickets/${encodeURIComponent(id)}`}>
                          #{row.number} {row.subject ?? row.customer_name}
                        </Link>
                      </td>
                      <td data-label="State">
                        <DelayBadge state={row.delay_state} />
                      </td>
                      <td data-label="Late by">{late && late > 0 ? formatDuration(late) : '—'}</td>
                      <td data-label="Stage">{row.stage_name ?? stage?.name ?? stage?.key ?? '—'}</td>
                      <td data-label="Due">
                        <Time iso={row.due_at ?? stage?.due_at} />
                      </td>
                      <td data-label="Priority">{row.priority && <PriorityBadge priority={row.priority as Priority} />}</td>
                      <td data-label="Customer">{row.customer_name ?? row.customer_email ?? '—'}</td>
                    </tr>
                  );
                })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
