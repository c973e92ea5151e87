import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { api, dataOf } from '../api/client';
import type { Flow, Overview as OverviewData, QueryOf } from '../api/types';
import { useCan } from '../api/session';
import { Chart } from '../components/Chart';
import { MonitorFilterBar, useProjects } from '../components/Filters';
import { ErrorState, Loading } from '../components/States';
import { Time } from '../components/Time';
import { formatDay, formatDuration } from '../lib/format';
import { monitorFilterKeys, monitorQuery, useUrlState } from '../lib/useFilters';
import Tickets from './Tickets';

type Row = Record<string, unknown>;

type MonitorQuery = QueryOf<'/api/monitor/overview'>;

function useMonitor<T>(name: string, query: MonitorQuery, fetch: (query: MonitorQuery) => Promise<T>) {
  return useQuery({ queryKey: ['monitor', name, query], queryFn: () => fetch(query) });
}

function Counter({ label, value, tone, to }: { label: string; value: number | undefined; tone?: string; to?: string }) {
  const body = (
    <>
      <span className="counter-value">{value ?? '—'}</span>
      <span className="counter-label">{label}</span>
    </>
  );
  return (
    <li className={`counter ${tone ?? ''}`}>
      {to ? (
        <Link to={to} aria-label={`${label}: ${value ?? 'unknown'}`}>
          {body}
        </Link>
      ) : (
        body
      )}
    </li>
  );
}

const opsStatuses = ['sent', 'in_progress', 'delayed'];

export default function Overview() {
  // Those who may not read the pipeline (customers) get a simple list of their own tickets instead of charts.
  if (!useCan('monitor:read')) return <Tickets />;
  return <PipelineOverview />;
}

function PipelineOverview() {
  const [filters, set] = useUrlState(monitorFilterKeys);
  const query = useMemo(() => monitorQuery(filters) as MonitorQuery, [filters]);
  const overview = useMonitor('overview', query, (query) => dataOf(api.GET('/api/monitor/overview', { params: { query } })));
  const stages = useMonitor('stages', query, (query) => dataOf(api.GET('/api/monitor/stages', { params: { query } })));
  const throughput = useMonitor('throughput', query, (query) => dataOf(api.GET('/api/monitor/throughput', { params: { query } })));
  const flow = useQuery({
    queryKey: ['monitor', 'flow', query],
    queryFn: () => dataOf(api.GET('/api/monitor/flow', { params: { query: query as QueryOf<'/api/monitor/flow'> } })),
    enabled: Boolean(filters.project),
  });
  const projects = useProjects();
  const aging = useMonitor('aging', query, (query) => dataOf(api.GET('/api/monitor/aging', { params: { query } })));

  const data = overview.data;
  const byStatus: Record<string, number> = data?.by_status ?? {};
  const withOps = opsStatuses.reduce((sum, status) => sum + (byStatus[status] ?? 0), 0);
  const delayed = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();

  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <MonitorFilterBar filters={filters} set={set} />
      {overview.isPending && <Loading />}
      {overview.isError && <ErrorState error={overview.error} retry={() => void overview.refetch()} />}
      {data && (
        <>
          <ul className="counters" aria-label="Counters">
            <Counter label="Open" value={data.open} to="/tickets" />
            <Counter label="On track" value={data.on_track} tone="ok" />
            <Counter label="At risk" value={data.at_risk} tone="warn" to={`/delayed?state=at_risk&${delayed}`} />
            <Counter label="Overdue" value={data.overdue} tone="bad" to={`/delayed?state=overdue&${delayed}`} />
            <Counter label="With OPS" value={withOps} to="/tickets?status=sent,in_progress,delayed" />
            <Counter label="OPS failed" value={byStatus.failed ?? 0} tone={byStatus.failed ? 'bad' : ''} to="/tickets?status=failed" />
          </ul>
          <p className="muted small">
            Created today: {data.created_today} · Closed today: {data.closed_today}
            {data.oldest_open ? (
              <>
                {' '}
                · Oldest open: <OldestOpen value={data.oldest_open} />
              </>
            ) : null}
          </p>
        </>
      )}
      <div className="charts">
        <ChartCard title="Throughput" query={throughput}>
          {(rows) => <ThroughputChart rows={rows} />}
        </ChartCard>
        {filters.project ? (
          <ChartCard title="Cumulative flow" query={{ ...flow, data: flow.data?.stages as Row[] | undefined }}>
            {() => <FlowChart flow={flow.data!} />}
          </ChartCard>
        ) : (
          <figure className="card chart-card">
            <figcaption>Cumulative flow</figcaption>
            <p className="state empty">Choose a project to see how its tickets flow through its stages.</p>
          </figure>
        )}
        {!filters.project && new Set((stages.data ?? []).map((row) => row.project_key)).size > 1 ? (
          <figure className="card chart-card">
            <figcaption>Time in stage (p50 / p90)</figcaption>
            <div className="state empty">
              <p>Each project has its own stages. Choose one to see how long its tickets stay in each:</p>
              <p className="choices">
                {(projects.data ?? [])
                  .filter((project) => (stages.data ?? []).some((row) => row.project_key === project.key))
                  .map((project) => (
                    <button key={project.key} type="button" className="link" onClick={() => set({ project: project.key })}>
                      {project.name}
                    </button>
                  ))}
              </p>
            </div>
          </figure>
        ) : (
          <ChartCard
            title={
              (stages.data as Row[] | undefined)?.some((row) => row.percentiles === 'histogram')
                ? 'Time in stage (p50 / p90, from duration histograms: within 4.4 %)'
                : 'Time in stage (p50 / p90)'
            }
            query={stages}
          >
            {(rows) => <StageTimesChart rows={rows} />}
          </ChartCard>
        )}
        <ChartCard title="Age of open tickets" query={aging}>
          {(rows) => <AgingChart rows={rows} />}
        </ChartCard>
      </div>
    </section>
  );
}

function OldestOpen({ value }: { value: NonNullable<OverviewData['oldest_open']> }) {
  return (
    <Link to={`/tickets/${encodeURIComponent(value.id)}`}>
      #{value.number} {value.subject} (<Time iso={value.created_at} />)
    </Link>
  );
}

type QueryLike = { data?: Row[] | Row; isPending: boolean; isError: boolean; error: unknown; refetch(): unknown };

/** Lists arrive as arrays, or wrapped (`{ days: [...] }`): take the first array inside. */
function rowsOf(data: Row[] | Row | undefined): Row[] {
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object') {
    const inner = Object.values(data).find(Array.isArray);
    if (inner) return inner as Row[];
  }
  return [];
}

function ChartCard({ title, query, children }: { title: string; query: QueryLike; children(rows: Row[]): React.ReactNode }) {
  const rows = rowsOf(query.data);
  return (
    <figure className="card chart-card">
      <figcaption>{title}</figcaption>
      {query.isPending ? (
        <Loading />
      ) : query.isError ? (
        <ErrorState error={query.error} retry={() => void query.refetch()} />
      ) : rows.length === 0 ? (
        <p className="state empty">No data for these filters yet.</p>
      ) : (
        children(rows)
      )}
    </figure>
  );
}

const palette = ['#245bdb', '#1f9d6b', '#c77700', '#c0392b', '#7b4fd6', '#0f8fa8', '#8a6d3b', '#d6336c', '#5c7080'];
const axisLabel = { color: '#5b6472' };
const tooltip = { trigger: 'axis' as const, confine: true };

const dayOf = (row: Row) => formatDay(String(row.day ?? row.date ?? row.period ?? row.bucket ?? '').slice(0, 10));

function ThroughputChart({ rows }: { rows: Row[] }) {
  const option = useMemo(
    () => ({
      color: palette,
      tooltip,
      legend: { bottom: 0 },
      grid: { left: 40, right: 16, top: 16, bottom: 48 },
      xAxis: { type: 'category', data: rows.map(dayOf), axisLabel },
      yAxis: { type: 'value', minInterval: 1, axisLabel },
      series: [
        { name: 'Created', type: 'bar', data: rows.map((row) => Number(row.created ?? 0)) },
        { name: 'Closed', type: 'bar', data: rows.map((row) => Number(row.closed ?? 0)) },
      ],
    }),
    [rows],
  );
  return <Chart option={option} label="Tickets created and closed per period" />;
}

function FlowChart({ flow }: { flow: Flow }) {
  const option = useMemo(
    () => ({
      color: palette,
      tooltip,
      legend: { bottom: 0, type: 'scroll' },
      grid: { left: 40, right: 16, top: 16, bottom: 48 },
      xAxis: { type: 'category', boundaryGap: false, data: flow.days.map(formatDay), axisLabel },
      yAxis: { type: 'value', minInterval: 1, axisLabel },
      // Stacked in reverse workflow order, so the final stage is the bottom band as in a classic CFD.
      series: [...flow.stages].reverse().map((stage) => {
        const counts = new Map(stage.points.map((point) => [point.day, point.count]));
        return {
          name: stage.name,
          type: 'line',
          stack: 'flow',
          areaStyle: {},
          symbol: 'none',
          data: flow.days.map((day) => counts.get(day) ?? 0),
        };
      }),
    }),
    [flow],
  );
  return <Chart option={option} label="Cumulative flow: tickets in each stage per day" />;
}

const hours = (ms: unknown) => (typeof ms === 'number' ? Math.round((ms / 3_600_000) * 10) / 10 : null);

function StageTimesChart({ rows }: { rows: Row[] }) {
  const option = useMemo(() => {
    const names = rows.map((row) => String(row.name ?? row.key ?? row.stage ?? '?'));
    const ms = (row: Row, key: 'p50' | 'p90') => row[`${key}_ms`] ?? row[key] ?? (row.time_in_stage as Row | undefined)?.[key];
    return {
      color: ['#245bdb', '#c77700'],
      tooltip: { ...tooltip, valueFormatter: (value: number) => (value === null ? '—' : formatDuration(value * 3_600_000)) },
      legend: { bottom: 0 },
      grid: { left: 110, right: 16, top: 16, bottom: 48 },
      xAxis: { type: 'value', name: 'hours', axisLabel },
      yAxis: { type: 'category', data: names, inverse: true, axisLabel },
      series: [
        { name: 'p50', type: 'bar', data: rows.map((row) => hours(ms(row, 'p50'))) },
        { name: 'p90', type: 'bar', data: rows.map((row) => hours(ms(row, 'p90'))) },
      ],
    };
  }, [rows]);
  return <Chart option={option} height={Math.max(220, rows.length * 44)} label="Median and 90th percentile time in each stage" />;
}

function AgingChart({ rows }: { rows: Row[] }) {
  const option = useMemo(
    () => ({
      color: ['#7b4fd6'],
      tooltip,
      grid: { left: 40, right: 16, top: 16, bottom: 32 },
      xAxis: { type: 'category', data: rows.map((row) => String(row.label ?? row.bucket ?? row.name ?? '')), axisLabel },
      yAxis: { type: 'value', minInterval: 1, axisLabel },
      series: [{ name: 'Open tickets', type: 'bar', data: rows.map((row) => Number(row.count ?? row.tickets ?? 0)) }],
    }),
    [rows],
  );
  return <Chart option={option} label="Open tickets by age" />;
}
