import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, dataOf } from '../../api/client';
import { DelayBadge, PriorityBadge } from '../../components/Badges';
import { formatProbability } from '../../components/Forecast';
import { Empty, ErrorState, Loading } from '../../components/States';
import { Time } from '../../components/Time';
import type { MonitorFilters } from '../../lib/useFilters';
import { useLive } from '../../live/events';
import { Table } from '../../components/Table';

/** A list's first cell: the ticket's number and subject, linking to its page. */
export function TicketCell({ id, number, label }: { id: string; number: number; label: string | null }) {
  return (
    <td data-label="Ticket">
      <Link to={`/tickets/${encodeURIComponent(id)}`}>
        #{number} {label}
      </Link>
    </td>
  );
}

const headers = [
  'Ticket',
  'Breach probability',
  'Stage breach',
  'Ticket breach',
  'Stage',
  'Stage due',
  'Expected finish',
  'State now',
  'Priority',
  'Assignee',
];

/**
 * Open tickets whose forecast breach probability reaches their project's threshold (Admin → Projects), most likely
 * first: the tickets to act on before they are late. The list is the forecast scan's, made every 2 minutes.
 */
export function LikelyToBreach({ filters }: { filters: MonitorFilters }) {
  const { changed } = useLive();
  const query = { limit: 500, ...(filters.project ? { project: filters.project } : {}) };
  const likely = useQuery({
    queryKey: ['monitor', 'likely', query],
    queryFn: () => dataOf(api.GET('/api/monitor/likely', { params: { query } })),
  });
  if (likely.isPending) return <Loading />;
  if (likely.isError) return <ErrorState error={likely.error} retry={() => void likely.refetch()} />;
  // The endpoint filters by project; priority and assignee narrow here (customer and dates do not apply to a forecast).
  const rows = likely.data
    .filter(
      (row) =>
        (!filters.priority || row.priority === filters.priority) && (!filters.assigned_to || row.assigned_to === filters.assigned_to),
    )
    .sort((a, b) => b.probability - a.probability);
  if (rows.length === 0) return <Empty>No open ticket is likely to breach.</Empty>;
  return (
    <>
      <Table label="Likely to breach" headers={headers}>
        {rows.map((row) => (
          <tr key={row.id} className={changed.has(row.id) ? 'flash' : undefined}>
            <TicketCell id={row.id} number={row.number} label={row.subject ?? row.id} />
            <td data-label="Breach probability">
              <strong>{formatProbability(row.probability)}</strong>
            </td>
            <td data-label="Stage breach">{formatProbability(row.stage_breach_probability)}</td>
            <td data-label="Ticket breach">{formatProbability(row.ticket_breach_probability)}</td>
            <td data-label="Stage">{row.stage?.name ?? row.stage?.key ?? '—'}</td>
            <td data-label="Stage due">
              <Time iso={row.stage?.due_at} kind="any" />
            </td>
            <td data-label="Expected finish">
              <Time iso={row.expected_finish_at} kind="any" />
            </td>
            <td data-label="State now">{row.delay_state ? <DelayBadge state={row.delay_state} /> : '—'}</td>
            <td data-label="Priority">
              <PriorityBadge priority={row.priority} />
            </td>
            <td data-label="Assignee">{row.assigned_to ?? '—'}</td>
          </tr>
        ))}
      </Table>
      <p className="small muted">
        Forecast <Time iso={rows[0]!.forecast_at} />; the breach probability is the larger of the stage and ticket ones. The customer and
        date filters do not apply to this view.
      </p>
    </>
  );
}
