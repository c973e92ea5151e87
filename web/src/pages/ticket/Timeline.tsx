import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { getData } from '../../api/http';
import type { TimelineVisit } from '../../api/types';
import { Chart } from '../../components/Chart';
import { Empty, ErrorState, Loading } from '../../components/States';
import { useNow } from '../../components/Time';
import { formatDuration, formatExact } from '../../lib/time';

type Bar = { row: number; start: number; end: number; kind: 'planned' | 'actual'; late: boolean; visit: TimelineVisit };

const time = (value: string | null | undefined) => (value ? new Date(value).getTime() : null);

/** Visits arrive as a list, or inside `{ visits: [...] }`. */
function visitsOf(data: unknown): TimelineVisit[] {
  if (Array.isArray(data)) return data as TimelineVisit[];
  const inner = data && typeof data === 'object' ? Object.values(data).find(Array.isArray) : undefined;
  return (inner as TimelineVisit[] | undefined) ?? [];
}

type RenderApi = { value(dimension: number): number; coord(point: number[]): number[]; size(value: number[]): number[] };

/** A Gantt chart of the ticket's stage visits: planned (start → due) behind actual (start → end, or now). */
export function Timeline({ ticketId }: { ticketId: string }) {
  const now = useNow(60_000);
  const timeline = useQuery({
    queryKey: ['timeline', ticketId],
    queryFn: () => getData<unknown>(`/api/tickets/${encodeURIComponent(ticketId)}/timeline`),
  });
  const visits = useMemo(() => visitsOf(timeline.data), [timeline.data]);

  const option = useMemo(() => {
    const labels = visits.map((visit) => `${visit.name ?? visit.key ?? 'Stage'}${(visit.visit ?? 1) > 1 ? ` (visit ${visit.visit})` : ''}`);
    const bars: Bar[] = [];
    visits.forEach((visit, row) => {
      const start = time(visit.actual_start ?? visit.started_at ?? visit.stage_start_time);
      const plannedStart = time(visit.planned_start) ?? start;
      const due = time(visit.planned_end ?? visit.due_at);
      const end = time(visit.actual_end ?? visit.ended_at ?? visit.stage_end_time) ?? now;
      const late = visit.overdue ?? (due !== null && end > due);
      if (plannedStart !== null && due !== null) bars.push({ row, start: plannedStart, end: due, kind: 'planned', late: false, visit });
      if (start !== null) bars.push({ row, start, end, kind: 'actual', late, visit });
    });
    return {
      tooltip: {
        confine: true,
        formatter: (params: { data: { bar: Bar } }) => {
          const { bar } = params.data;
          const what = bar.kind === 'planned' ? 'Planned' : bar.late ? 'Actual (late)' : 'Actual';
          return `<strong>${labels[bar.row]}</strong><br>${what}: ${formatExact(new Date(bar.start).toISOString())} → ${formatExact(new Date(bar.end).toISOString())}<br>${formatDuration(bar.end - bar.start)}`;
        },
      },
      grid: { left: 140, right: 24, top: 8, bottom: 56 },
      dataZoom: [{ type: 'slider', filterMode: 'weakFilter', height: 18, bottom: 8 }],
      xAxis: { type: 'time', axisLabel: { color: '#5b6472', hideOverlap: true } },
      yAxis: { type: 'category', data: labels, inverse: true, axisLabel: { color: '#5b6472', width: 130, overflow: 'truncate' } },
      series: [
        {
          type: 'custom',
          encode: { x: [1, 2], y: 0 },
          data: bars.map((bar) => ({ value: [bar.row, bar.start, bar.end], bar })),
          renderItem: (params: { dataIndex: number }, api: RenderApi) => {
            const bar = bars[params.dataIndex];
            const [x0, y] = api.coord([api.value(1), api.value(0)]);
            const [x1] = api.coord([api.value(2), api.value(0)]);
            const band = api.size([0, 1])[1];
            const planned = bar.kind === 'planned';
            const height = planned ? band * 0.7 : band * 0.4;
            return {
              type: 'rect',
              shape: { x: x0, y: y - height / 2, width: Math.max(2, x1 - x0), height, r: 3 },
              style: planned
                ? { fill: 'rgba(36, 91, 219, 0.12)', stroke: '#8aa6e8', lineDash: [4, 3] }
                : { fill: bar.late ? '#c0392b' : '#245bdb' },
            };
          },
        },
      ],
    };
  }, [visits, now]);

  if (timeline.isPending) return <Loading />;
  if (timeline.isError) return <ErrorState error={timeline.error} retry={() => void timeline.refetch()} />;
  if (visits.length === 0) return <Empty>The ticket has not entered a workflow stage yet.</Empty>;
  return (
    <>
      <p className="legend small">
        <span className="swatch planned" aria-hidden="true" /> planned (until due) <span className="swatch actual" aria-hidden="true" />{' '}
        actual <span className="swatch late" aria-hidden="true" /> actual, late
      </p>
      <Chart option={option} height={Math.max(160, visits.length * 40 + 80)} label="Stage visits, planned against actual" />
      <table className="sr-only">
        <caption>Stage visits</caption>
        <tbody>
          {visits.map((visit, index) => (
            <tr key={index}>
              <th scope="row">{visit.name ?? visit.key}</th>
              <td>{visit.actual_start ?? visit.started_at ?? visit.stage_start_time}</td>
              <td>{visit.actual_end ?? visit.ended_at ?? visit.stage_end_time ?? 'now'}</td>
              <td>{visit.due_at ?? visit.planned_end ?? 'no target'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
