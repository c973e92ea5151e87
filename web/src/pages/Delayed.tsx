import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, dataOf } from '../api/client';
import type { QueryOf } from '../api/types';
import { DelayBadge, PriorityBadge } from '../components/Badges';
import { MonitorFilterBar } from '../components/Filters';
import { Empty, ErrorState, Loading } from '../components/States';
import { JudgementLine, stageJudgement, ticketJudgement } from '../components/Judgements';
import { useNow } from '../components/Time';
import { formatDuration } from '../lib/format';
import { monitorFilterKeys, monitorQuery, useUrlState } from '../lib/useFilters';
import { useLive } from '../live/events';
import { LikelyToBreach, TicketCell } from './delayed/LikelyToBreach';

/** The orders the Delayed list offers (the server sorts; '' is its default, worst first). */
const sorts = [
  ['', 'Most late first'],
  ['stage_overdue_by', 'Late in stage'],
  ['ticket_overdue_by', 'Late against ticket target'],
] as const;

export default function Delayed() {
  const [filters, set] = useUrlState([...monitorFilterKeys, 'state', 'sort'] as const);
  const sort = sorts.some(([value]) => value === filters.sort) ? filters.sort : '';
  const query = useMemo(() => ({ ...monitorQuery(filters), limit: 500, ...(sort ? { sort } : {}) }), [filters, sort]);
  const now = useNow();
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
          : 'Overdue and at-risk tickets. Each has two judgements: its current stage against the stage target, and the whole ticket against its overall target.'}
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
      {!likely && (
        <div className="segmented" role="group" aria-label="Sort by">
          {sorts.map(([value, label]) => (
            <button key={value} type="button" aria-pressed={sort === value} onClick={() => set({ sort: value })}>
              {label}
            </button>
          ))}
        </div>
      )}
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
                <th scope="col" aria-sort={sort === 'stage_overdue_by' ? 'descending' : undefined}>
                  Stage judgement
                </th>
                <th scope="col" aria-sort={sort === 'ticket_overdue_by' ? 'descending' : undefined}>
                  Ticket target
                </th>
                <th scope="col">In stage</th>
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
                    {row.delay_reason && (
                      <div className="small muted">{row.delay_reason === 'stage' ? 'by its stage' : 'by its target'}</div>
                    )}
                  </td>
                  <td data-label="Stage">
                    {row.stage ? (
                      <JudgementLine kind="stage" judgement={stageJudgement(row)} stageName={row.stage.name ?? row.stage.key} now={now} />
                    ) : (
                      <span className="muted">Not in a stage</span>
                    )}
                  </td>
                  <td data-label="Ticket">
                    <JudgementLine kind="ticket" judgement={ticketJudgement(row)} now={now} />
                  </td>
                  <td data-label="In stage">{row.time_in_stage_ms !== null ? formatDuration(row.time_in_stage_ms) : '—'}</td>
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
