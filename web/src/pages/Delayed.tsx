import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, dataOf } from '../api/client';
import type { QueryOf } from '../api/types';
import { DelayBadge, PriorityBadge } from '../components/Badges';
import { MonitorFilterBar } from '../components/Filters';
import { Empty, ErrorState, Loading } from '../components/States';
import { Time } from '../components/Time';
import { formatDuration } from '../lib/time';
import { monitorFilterKeys, monitorQuery, useUrlState } from '../lib/useFilters';
import { useLive } from '../live/events';
import { LikelyToBreach, TicketCell } from './delayed/LikelyToBreach';

export default function Delayed() {
  const [filters, set] = useUrlState([...monitorFilterKeys, 'state'] as const);
  const query = useMemo(() => ({ ...monitorQuery(filters), limit: 500 }), [filters]);
  const { changed } = useLive();
  const likely = filters.state === 'likely';
  const delayed = useQuery({
    enabled: !likely,
    queryKey: ['monitor', 'delayed', query],
    queryFn: () => dataOf(api.GET('/api/monitor/delayed', { params: { query: query as QueryOf<'/api/monitor/delayed'> } })),
  });
  const rows = (delayed.data ?? []).filter((row) => !filters.state || row.delay_state === filters.state);

  return (
    <section aria-labelledby="delayed-title">
      <h1 id="delayed-title">Delayed tickets</h1>
      <p className="muted">
        {likely
          ? "Open tickets whose forecast breach probability reaches their project's threshold, most likely first."
          : 'Overdue and at-risk tickets, most late first.'}
      </p>
      <MonitorFilterBar filters={filters} set={set} />
      <div className="segmented" role="group" aria-label="Show">
        {[
          ['', 'All late'],
          ['overdue', 'Overdue'],
          ['at_risk', 'At risk'],
          ['likely', 'Likely to breach'],
        ].map(([value, label]) => (
          <button key={value} type="button" aria-pressed={filters.state === value} onClick={() => set({ state: value })}>
            {label}
          </button>
        ))}
      </div>
      {likely ? (
        <LikelyToBreach filters={filters} />
      ) : delayed.isPending ? (
        <Loading />
      ) : delayed.isError ? (
        <ErrorState error={delayed.error} retry={() => void delayed.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>Nothing is late.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Ticket</th>
                <th scope="col">State</th>
                <th scope="col">Late by</th>
                <th scope="col">Stage</th>
                <th scope="col">In stage</th>
                <th scope="col">Due</th>
                <th scope="col">Priority</th>
                <th scope="col">Customer</th>
                <th scope="col">Assignee</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} className={changed.has(row.id) ? 'flash' : undefined}>
                  <TicketCell id={row.id} number={row.number} label={row.subject ?? row.customer_name} />
                  <td data-label="State">
                    <DelayBadge state={row.delay_state} />
                  </td>
                  <td data-label="Late by">{row.overdue_by ? formatDuration(row.overdue_by * 1000) : '—'}</td>
                  <td data-label="Stage">{row.stage?.name ?? row.stage?.key ?? '—'}</td>
                  <td data-label="In stage">{row.time_in_stage_ms !== null ? formatDuration(row.time_in_stage_ms) : '—'}</td>
                  <td data-label="Due">
                    <Time iso={row.stage?.due_at} />
                  </td>
                  <td data-label="Priority">
                    <PriorityBadge priority={row.priority} />
                  </td>
                  <td data-label="Customer">{row.customer_name ?? '—'}</td>
                  <td data-label="Assignee">{row.assigned_to ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
