import { useMemo } from 'react';
import type { Timeline as TimelineData, Visit } from '../../api/types';
import { Chart } from '../../components/Chart';
import { Empty } from '../../components/States';
import { useNow } from '../../components/Time';
import { formatDuration, formatExact } from '../../lib/format';

type Bar = { row: number; start: number; end: number; kind: 'planned' | 'actual'; late: boolean; visit: Visit };

type RenderApi = { value(dimension: number): number; coord(point: number[]): number[]; size(value: number[]): number[] };

/** A Gantt chart of the ticket's stage visits: planned (start → due) behind actual (start → end, or now). */
export function Timeline({ timeline }: { timeline: TimelineData }) {
  const now = useNow(60_000);
  const visits = timeline.visits;

  const option = useMemo(() => {
    const labels = visits.map(
      (visit) => `${visit.stage_type === 'minor' ? '↳ ' : ''}${visit.name}${visit.visit > 1 ? ` (visit ${visit.visit})` : ''}`,
    );
    const bars: Bar[] = [];
    visits.forEach((visit, row) => {
      const start = new Date(visit.started_at).getTime();
      const due = visit.due_at ? new Date(visit.due_at).getTime() : null;
      const end = visit.ended_at ? new Date(visit.ended_at).getTime() : now;
      const late = visit.overdue_by !== null && visit.overdue_by > 0;
      if (due !== null) bars.push({ row, start, end: due, kind: 'planned', late: false, visit });
      bars.push({ row, start, end, kind: 'actual', late, visit });
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

  if (visits.length === 0) return <Empty>The ticket has not entered a workflow stage yet.</Empty>;
  return (
    <>
      <p className="legend small">
        <span className="swatch planned" aria-hidden="true" /> planned (until due) <span className="swatch actual" aria-hidden="true" />{' '}
        actual <span className="swatch late" aria-hidden="true" /> actual, late
      </p>
      <Chart option={option} height={Math.max(160, visits.length * 40 + 80)} label="Stage visits, planned against actual" />
      {/* A table stretches to its content, so the visually hidden box is a div around it. */}
      <div className="sr-only">
        <table>
          <caption>Stage visits</caption>
          <tbody>
            {visits.map((visit) => (
              <tr key={visit.stage_id}>
                <th scope="row">{visit.name}</th>
                <td>{formatExact(visit.started_at)}</td>
                <td>{visit.ended_at ? formatExact(visit.ended_at) : 'now'}</td>
                <td>{visit.due_at ? `due ${formatExact(visit.due_at)}` : 'no target'}</td>
                <td>{formatDuration(visit.duration_ms)}</td>
                <td>{visit.overdue_by ? `late by ${formatDuration(visit.overdue_by * 1000)}` : 'on time'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
