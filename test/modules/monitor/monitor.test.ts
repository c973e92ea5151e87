import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { supportWorkflow } from '../../helpers/fixtures.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
let t: TestApp;
before(async () => {
  t = await testApp();
  for (const key of ['MON', 'OV', 'FLOW']) {
    assert.equal((await t.api.post('/api/projects', supportWorkflow(key))).statusCode, 201);
  }
});
after(() => t.close());

const move = async (id: string, to: string) => {
  const res = await t.api.post(`/api/tickets/${id}/transitions`, { to });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().data;
};
const get = async (url: string) => {
  const res = await t.api.get(url);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().data;
};

/** The exact continuous percentile (what `percentile_cont` computes). */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = p * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

test('stage percentiles match an exact reference on random data', async () => {
  let seed = 2026;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const durations: number[] = [];
  const start = Date.parse('2026-01-05T08:00:00Z');
  for (let i = 0; i < 41; i++) {
    const duration = Math.floor(random() * 600 * MINUTE) + Math.floor(random() * 1000) * 1000 + 1000;
    durations.push(duration);
    t.clock.set(new Date(start + i * 3 * 3_600_000));
    const ticket = await t.create.ticket({ project: 'MON' });
    await move(ticket.id, 'intake');
    t.clock.advance(duration);
    await move(ticket.id, 'triage');
  }
  t.clock.set('2026-01-20T00:00:00Z');
  const stats = await get('/api/monitor/stages?project=MON&from=2026-01-01T00:00:00Z&to=2026-01-20T00:00:00Z');
  const intake = stats.find((s: { key: string }) => s.key === 'intake');
  assert.equal(intake.completed, 41);
  const close = (actual: number, expected: number, what: string) =>
    assert.ok(Math.abs(actual - expected) < 1e-3, `${what}: ${actual} ≠ ${expected}`);
  close(intake.p50_ms, percentile(durations, 0.5), 'p50');
  close(intake.p90_ms, percentile(durations, 0.9), 'p90');
  close(intake.mean_ms, durations.reduce((a, b) => a + b, 0) / durations.length, 'mean');
  close(intake.p50_business_ms, percentile(durations, 0.5), 'p50 business (no calendar)');
  assert.equal(intake.within_target, durations.filter((d) => d <= 60 * MINUTE).length / durations.length);
  const triage = stats.find((s: { key: string }) => s.key === 'triage');
  assert.equal(triage.in_stage_now, 41);
  assert.equal(triage.overdue_now, 41);
  assert.equal(triage.completed, 0);
  assert.equal(triage.p50_ms, null);
});

test('overview and delayed: counts by state, status and stage, filtered', async () => {
  t.clock.set('2026-02-02T10:00:00Z');
  const mk = (fields: Record<string, unknown>) => t.create.ticket({ project: 'OV', ...fields });
  const late = await mk({ customer_name: 'Acme Corp', priority: 'high', assigned_to: 'ann' });
  await move(late.id, 'intake'); // 60 min target
  t.clock.advance(20 * MINUTE);
  const risky = await mk({ customer_name: 'Acme Corp', priority: 'low' });
  const fine = await mk({ customer_name: 'Globex', priority: 'high' });
  const done = await mk({ customer_name: 'Globex' });
  await move(risky.id, 'intake');
  await move(fine.id, 'triage'); // 240 min target
  await move(done.id, 'closed');
  t.clock.advance(50 * MINUTE); // late: 70 min in intake (overdue by 10 min); risky: 50 min (at risk)

  const overview = await get('/api/monitor/overview?project=OV');
  assert.equal(overview.open, 3);
  assert.deepEqual([overview.on_track, overview.at_risk, overview.overdue], [1, 1, 1]);
  assert.equal(overview.closed_today, 1);
  assert.equal(overview.created_today, 4);
  assert.deepEqual(overview.by_status, { open: 3 });
  assert.deepEqual(
    overview.by_stage.map((s: { key: string; count: number }) => [s.key, s.count]),
    [
      ['intake', 2],
      ['triage', 1],
    ],
  );
  assert.equal(overview.oldest_open.id, late.id);

  const acme = await get('/api/monitor/overview?project=OV&customer=acme');
  assert.equal(acme.open, 2);
  const high = await get('/api/monitor/overview?project=OV&priority=high&assigned_to=ann');
  assert.deepEqual([high.open, high.overdue], [1, 1]);

  const delayed = (await t.api.get('/api/monitor/delayed?project=OV')).json();
  assert.equal(delayed.page.total, 2);
  assert.deepEqual(
    delayed.data.map((d: { id: string; delay_state: string }) => [d.id, d.delay_state]),
    [
      [late.id, 'overdue'],
      [risky.id, 'at_risk'],
    ],
  );
  assert.equal(delayed.data[0].overdue_by, 600);
  assert.equal(delayed.data[0].stage.key, 'intake');
  assert.equal(delayed.data[0].time_in_stage_ms, 70 * MINUTE);
});

test('throughput, aging and cumulative flow', async () => {
  t.clock.set('2026-03-10T12:00:00Z');
  const a = await t.create.ticket({ project: 'FLOW' });
  await move(a.id, 'intake');
  t.clock.set('2026-03-11T12:00:00Z');
  const b = await t.create.ticket({ project: 'FLOW' });
  await move(b.id, 'intake');
  await move(a.id, 'triage');
  t.clock.set('2026-03-12T12:00:00Z');
  await move(a.id, 'closed');

  const throughput = await get('/api/monitor/throughput?project=FLOW&from=2026-03-10T00:00:00Z&to=2026-03-13T00:00:00Z');
  assert.deepEqual(throughput, [
    { period: '2026-03-10', created: 1, closed: 0 },
    { period: '2026-03-11', created: 1, closed: 0 },
    { period: '2026-03-12', created: 0, closed: 1 },
    { period: '2026-03-13', created: 0, closed: 0 },
  ]);
  const weekly = await get('/api/monitor/throughput?project=FLOW&interval=week&from=2026-03-10T00:00:00Z&to=2026-03-13T00:00:00Z');
  assert.deepEqual(weekly, [{ period: '2026-03-09', created: 2, closed: 1 }]);

  const flow = await get('/api/monitor/flow?project=FLOW&from=2026-03-10T00:00:00Z&to=2026-03-12T00:00:00Z');
  assert.deepEqual(flow.days, ['2026-03-10', '2026-03-11', '2026-03-12']);
  const series = (key: string) => flow.stages.find((s: { key: string }) => s.key === key).points.map((p: { count: number }) => p.count);
  assert.deepEqual(series('intake'), [1, 1, 1]);
  assert.deepEqual(series('triage'), [0, 1, 0]);
  assert.deepEqual(series('closed'), [0, 0, 1]);

  t.clock.set(new Date(Date.parse('2026-03-11T12:00:00Z') + 5 * DAY));
  const aging = await get('/api/monitor/aging?project=FLOW');
  assert.deepEqual(
    aging.map((bucket: { bucket: string; count: number }) => [bucket.bucket, bucket.count]),
    [
      ['0-1d', 0],
      ['1-3d', 0],
      ['3-7d', 1],
      ['7-14d', 0],
      ['14-30d', 0],
      ['30d+', 0],
    ],
  );
});

test('bad monitor queries are 400 naming the parameter; customers may not read the monitor', async () => {
  const cases: [string, string][] = [
    ['/api/monitor/overview?time_zone=Mars/Base', 'time_zone'],
    ['/api/monitor/throughput?from=2026-03-10T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
    ['/api/monitor/flow', 'project'],
    ['/api/monitor/overview?priority=urgent', 'priority'],
    ['/api/monitor/overview?colour=red', 'colour'],
    ['/api/monitor/delayed?limit=0', 'limit'],
  ];
  for (const [url, field] of cases) {
    const res = await t.api.get(url);
    assert.equal(res.statusCode, 400, url);
    assert.equal(res.json().error.details[0].field, field, url);
  }
  const customer = await t.userClient('customer');
  assert.equal((await customer.get('/api/monitor/overview')).statusCode, 403);
});
