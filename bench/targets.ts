/**
 * The targets the bench reports on (issue 19's data core, issue 25's custom fields, issue 23's forecast cost): each
 * one judged from a run's summary as pass, miss, or why it was not judged. Pure functions, so a summary written by an
 * older run can be judged again.
 */

/** Which reference an endpoint is read against: reads against the naive lookup, writes against the lean insert. */
export type Reference = 'naive lookup' | 'lean insert';

export type Result = {
  name: string;
  method: string;
  path: string;
  requests_per_second: number;
  /** Against the bare-Fastify route answering constant JSON (no database). */
  ratio_to_baseline: number | null;
  /** The reference this endpoint is read against, and its req/s as a share of the reference's (same run). */
  reference: Reference | null;
  ratio_to_reference: number | null;
  p50_ms: number;
  p90_ms: number;
  p95_ms: number;
  p97_5_ms: number;
  p99_ms: number;
  errors: number;
  non_2xx: number;
  /** The status answered other than 2xx (from one request, when there were any). */
  non_2xx_status: number | null;
  /** When no request completed within the window: the time one request on its own took. */
  single_request_ms: number | null;
  /** One request on its own before the load (nothing cached yet): what a first dashboard visit waits. */
  first_request_ms: number | null;
  server_rss_mb: number;
};

/** The parts of a run's summary the targets read. */
export type Summary = {
  database: 'postgres' | 'pglite';
  compiled: boolean;
  tickets_in_database: number;
  monitor_cache_seconds: number;
  import_tickets_per_second: number | null;
  storage: { bytes_per_ticket: number | null; gb_per_million_tickets: number | null };
  server_peak_rss_mb: number;
  create_with_10_fields_cost_ratio: number | null;
  endpoints: Result[];
};

export type Verdict = 'pass' | 'miss' | 'not measured' | 'not judged';

export type Target = {
  issue: number;
  target: string;
  figure: string;
  verdict: Verdict;
  /** Why a target was not judged or not measured. */
  note?: string;
};

/** Endpoint names the targets look up (bench/run.ts loads them under these names). */
export const names = {
  lookup: 'GET /api/tickets/:id',
  list: 'filtered list page',
  search: 'q search',
  create: 'POST /api/tickets',
  createWithFields: 'POST /api/tickets with 10 fields',
  transition: 'POST /api/tickets/:id/transitions',
  patch: 'PATCH /api/tickets/:id',
  fieldFilter: 'list filtered on a select field',
  listOf50: 'list page of 50 open tickets',
  listOf50Forecast: 'list page of 50 open tickets, forecast=true',
  naiveLookup: 'reference: naive lookup',
  leanInsert: 'reference: lean insert',
  baseline: 'baseline (bare Fastify, constant JSON)',
} as const;

/** Whether an endpoint is one of Stageline's own (not the baseline or a reference). */
export const isStageline = (r: Result) => r.name !== names.baseline && !r.name.startsWith('reference: ');

/** A latency as judged: none completed (Infinity, or null once read back from the JSON) fails every bound. */
const lat = (value: number | null) => value ?? Infinity;
const ms = (value: number | null) => (Number.isFinite(lat(value)) ? `${value} ms` : 'none completed');
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const fmt = (value: number) => value.toLocaleString('en-US');
const signed = (value: number) => (value < 0 ? `− ${-value}` : `+ ${value}`);

export function judge(s: Summary): Target[] {
  const find = (name: string) => s.endpoints.find((r) => r.name === name) ?? null;
  const onPostgres = s.database === 'postgres';
  const out: Target[] = [];
  const add = (issue: number, target: string, figure: string | null, passed: boolean | null, scope: 'postgres' | 'pglite' = 'postgres') => {
    if (figure === null) return out.push({ issue, target, figure: '—', verdict: 'not measured' });
    if (scope !== s.database)
      return out.push({ issue, target, figure, verdict: 'not judged', note: `a ${scope === 'postgres' ? 'PostgreSQL' : 'PGlite'} target` });
    return out.push({ issue, target, figure, verdict: passed ? 'pass' : 'miss' });
  };
  const ratio = (name: string, min: number, label: string) => {
    const r = find(name);
    const figure =
      r && r.ratio_to_reference !== null
        ? `${r.ratio_to_reference}× (${fmt(r.requests_per_second)} req/s${r.non_2xx + r.errors > 0 ? `, of them ${fmt(r.non_2xx + r.errors)} not 2xx` : ''})`
        : null;
    add(19, `${label} ≥ ${min}× the ${r?.reference ?? 'reference'}`, figure, r !== null && (r.ratio_to_reference ?? 0) >= min);
  };
  const latency = (issue: number, name: string, label: string, at: 'p95_ms' | 'p99_ms', max: number) => {
    const r = find(name);
    add(issue, `${label} ${at.slice(0, 3)} < ${max} ms`, r ? ms(r[at]) : null, r !== null && lat(r[at]) < max && r.non_2xx === 0);
  };

  ratio(names.lookup, 0.9, '`GET /api/tickets/:id`');
  latency(19, names.lookup, '`GET /api/tickets/:id`', 'p99_ms', 10);
  ratio(names.create, 0.5, '`POST /api/tickets`');
  ratio(names.transition, 0.25, 'stage transition');
  ratio(names.patch, 0.4, '`PATCH /api/tickets/:id`');
  latency(19, names.list, 'filtered list page', 'p99_ms', 100);
  latency(19, names.search, '`q` search', 'p99_ms', 100);

  const monitor = s.endpoints.filter((r) => r.name.startsWith('GET /api/monitor/'));
  const worstMonitor = monitor.reduce<Result | null>((worst, r) => (worst && lat(worst.p95_ms) >= lat(r.p95_ms) ? worst : r), null);
  const monitorTarget = 'every monitor endpoint computed afresh p95 < 100 ms';
  if (s.monitor_cache_seconds > 0)
    out.push({
      issue: 19,
      target: monitorTarget,
      figure: worstMonitor ? `worst p95 ${ms(worstMonitor.p95_ms)}` : '—',
      verdict: 'not measured',
      note: `answers were reused (MONITOR_CACHE_SECONDS=${s.monitor_cache_seconds})`,
    });
  else
    add(
      19,
      monitorTarget,
      worstMonitor ? `worst of ${monitor.length}: ${ms(worstMonitor.p95_ms)} (${worstMonitor.name.slice(4)})` : null,
      monitor.every((r) => lat(r.p95_ms) < 100 && r.non_2xx === 0),
    );

  add(
    19,
    'import ≥ 25,000 tickets/s',
    s.import_tickets_per_second === null ? null : `${fmt(s.import_tickets_per_second)} tickets/s`,
    (s.import_tickets_per_second ?? 0) >= 25_000,
  );
  const { bytes_per_ticket: perTicket, gb_per_million_tickets: perMillion } = s.storage;
  add(
    19,
    'storage ≤ 3 GB per million tickets (all tables and indexes)',
    perTicket === null || perMillion === null ? null : `${fmt(perTicket)} bytes per ticket = ${perMillion} GB per million`,
    (perMillion ?? Infinity) <= 3,
  );
  const rss = { issue: 19, target: 'server RSS (compiled) < 250 MB on PostgreSQL', figure: `peak ${s.server_peak_rss_mb} MB` };
  if (onPostgres && !s.compiled) out.push({ ...rss, verdict: 'not judged', note: 'the server ran through tsx: run with --compiled' });
  else add(rss.issue, rss.target, rss.figure, s.server_peak_rss_mb < 250);

  const own = s.endpoints.filter(isStageline);
  const worst = own.reduce<Result | null>((w, r) => (w && lat(w.p99_ms) >= lat(r.p99_ms) ? w : r), null);
  add(
    19,
    'embedded PGlite: every endpoint p99 < 200 ms',
    worst ? `worst of ${own.length}: ${ms(worst.p99_ms)} (${worst.name})` : null,
    own.every((r) => lat(r.p99_ms) < 200 && r.non_2xx === 0),
    'pglite',
  );

  latency(25, names.fieldFilter, 'list filtered on a select field (`field.severity=high`)', 'p99_ms', 100);
  add(
    25,
    'create with ten field values ≤ 1.2× the cost of a create without',
    s.create_with_10_fields_cost_ratio === null ? null : `${s.create_with_10_fields_cost_ratio}×`,
    (s.create_with_10_fields_cost_ratio ?? Infinity) <= 1.2,
  );

  const plain = find(names.listOf50);
  const forecast = find(names.listOf50Forecast);
  const measuredBoth =
    plain && forecast && [plain, forecast].every((r) => Number.isFinite(lat(r.p50_ms)) && Number.isFinite(lat(r.p99_ms)));
  const added =
    plain && forecast && measuredBoth
      ? { p50: round(forecast.p50_ms - plain.p50_ms, 1), p99: round(forecast.p99_ms - plain.p99_ms, 1) }
      : null;
  add(
    23,
    'forecasts add < 50 ms to a list page of 50 (`?forecast=true` vs without, at p50)',
    added ? `${signed(added.p50)} ms at p50 (${signed(added.p99)} ms at p99)` : null,
    added !== null && added.p50 < 50,
  );
  return out;
}

export function targetsMarkdown(targets: Target[], s: Summary): string[] {
  return [
    `| issue | target | measured | |`,
    '|---|---|---|---|',
    ...targets.map((t) => `| ${t.issue} | ${t.target} | ${t.figure} | ${t.verdict}${t.note ? ` (${t.note})` : ''} |`),
    '',
    `The targets are stated for 1,000,000 tickets on the PostgreSQL server (PGlite: 100,000)${
      s.tickets_in_database < (s.database === 'postgres' ? 1_000_000 : 100_000)
        ? `; this run had ${fmt(s.tickets_in_database)}, so its verdicts say little about them`
        : ''
    }.`,
  ];
}
