import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judge, names, type Result, type Summary } from '../../bench/targets.js';

function endpoint(name: string, method: string, rps: number, p99: number, ratio: number | null = null): Result {
  return {
    name,
    method,
    path: '/',
    requests_per_second: rps,
    ratio_to_baseline: null,
    reference: ratio === null ? null : method === 'GET' ? 'naive lookup' : 'lean insert',
    ratio_to_reference: ratio,
    p50_ms: p99 / 4,
    p90_ms: p99 / 2,
    p95_ms: p99 / 1.5,
    p97_5_ms: p99 / 1.2,
    p99_ms: p99,
    errors: 0,
    non_2xx: 0,
    non_2xx_status: null,
    single_request_ms: null,
    first_request_ms: null,
    server_rss_mb: 200,
  };
}

const summary: Summary = {
  database: 'postgres',
  compiled: true,
  tickets_in_database: 1_000_000,
  monitor_cache_seconds: 0,
  import_tickets_per_second: null,
  storage: { bytes_per_ticket: 2_500, gb_per_million_tickets: 2.5 },
  server_peak_rss_mb: 240,
  create_with_10_fields_cost_ratio: 1.3,
  endpoints: [
    endpoint(names.naiveLookup, 'GET', 4000, 5),
    endpoint(names.lookup, 'GET', 3800, 8, 0.95),
    endpoint(names.create, 'POST', 1000, 30, 0.33),
    endpoint('GET /api/monitor/overview?project=web', 'GET', 500, 60, 0.1),
    endpoint('GET /api/monitor/delayed?project=web', 'GET', 200, 300, 0.05),
    endpoint(names.list, 'GET', 0, Infinity, 0),
    endpoint(names.listOf50, 'GET', 100, 80, 0.02),
    endpoint(names.listOf50Forecast, 'GET', 90, 120, 0.02),
  ],
};

test('each target is judged from the summary, and what was not measured says so', () => {
  const byTarget = new Map(judge(summary).map((t) => [t.target, t]));
  const verdict = (prefix: string) => [...byTarget.values()].find((t) => t.target.startsWith(prefix))?.verdict;
  assert.equal(verdict('`GET /api/tickets/:id` ≥ 0.9×'), 'pass');
  assert.equal(verdict('`GET /api/tickets/:id` p99'), 'pass');
  assert.equal(verdict('`POST /api/tickets` ≥ 0.5×'), 'miss');
  assert.equal(verdict('stage transition'), 'not measured');
  assert.equal(verdict('every monitor endpoint'), 'miss'); // delayed: p95 200 ms
  assert.equal(verdict('import'), 'not measured');
  // No request completed in the window: a miss, however the missing latency is written.
  assert.equal(verdict('filtered list page'), 'miss');
  assert.equal([...byTarget.values()].find((t) => t.target.startsWith('filtered list page'))?.figure, 'none completed');
  assert.equal(verdict('storage'), 'pass');
  assert.equal(verdict('server RSS'), 'pass');
  assert.equal(verdict('embedded PGlite'), 'not judged'); // a PostgreSQL run
  assert.equal(verdict('create with ten field values'), 'miss');
  assert.equal(verdict('forecasts add'), 'pass'); // + 10 ms at p50
});

test('monitor answers reused, or a server run through tsx, are not judged against the targets', () => {
  const targets = judge({ ...summary, monitor_cache_seconds: 5, compiled: false });
  assert.equal(targets.find((t) => t.target.startsWith('every monitor endpoint'))?.verdict, 'not measured');
  assert.equal(targets.find((t) => t.target.startsWith('server RSS'))?.verdict, 'not judged');
});
