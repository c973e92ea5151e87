import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { importRows as importSynthetic, LogNormal, MINUTE, seeded, syntheticProject } from './synthetic.js';

/** A fixed path intake → triage → fix → closed, each stage's duration log-normal with known parameters. */
const truth = { intake: new LogNormal(40, 0.6), triage: new LogNormal(120, 0.8), fix: new LogNormal(300, 0.7) };
const path = ['intake', 'triage', 'fix'] as const;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const HISTORY = 1500;
const TICKET_TARGET_MINUTES = 900;

let t: TestApp;
const random = seeded(23);
let counter = 0;

const importRows = (rows: unknown[]) => importSynthetic(t, rows);

const project = syntheticProject;

/** `n` tickets that went the whole path, ending before NOW. */
function history(projectKey: string, n: number) {
  return Array.from({ length: n }, () => {
    let at = NOW - 30 * 86_400_000 * random() - 3 * 86_400_000;
    const visits: { key: string; stage_start_time: string; stage_end_time: string }[] = path.map((key) => {
      const start = at;
      at += truth[key].sample(random);
      return { key, stage_start_time: new Date(start).toISOString(), stage_end_time: new Date(at).toISOString() };
    });
    visits.push({ key: 'closed', stage_start_time: new Date(at).toISOString(), stage_end_time: new Date(at).toISOString() });
    return { external_id: `h-${++counter}`, subject: 'history', project: projectKey, visits };
  });
}

/** An open ticket that spent 30 min in intake and has been in triage for `elapsed` ms at NOW. */
function openInTriage(projectKey: string, elapsed: number, id = `open-${++counter}`) {
  const triageStart = NOW - elapsed;
  return {
    id,
    external_id: id,
    subject: 'open',
    project: projectKey,
    visits: [
      {
        key: 'intake',
        stage_start_time: new Date(triageStart - 30 * MINUTE).toISOString(),
        stage_end_time: new Date(triageStart).toISOString(),
      },
      { key: 'triage', stage_start_time: new Date(triageStart).toISOString() },
    ],
  };
}

const forecastOf = async (id: string) => {
  const res = await t.api.get(`/api/tickets/${id}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().data.forecast;
};

before(async () => {
  t = await testApp();
  for (const key of ['SYN', 'FEW']) assert.equal((await t.api.post('/api/projects', project(key))).statusCode, 201);
  const rows = history('SYN', HISTORY);
  for (let i = 0; i < rows.length; i += 500) await importRows(rows.slice(i, i + 500));
  await importRows(history('FEW', 10));
  t.clock.set(new Date(NOW));
  await t.app.services.forecast.refresh();
});
after(() => t.close());

test('the stage breach probability follows the true conditional probability of a log-normal stage', async () => {
  const elapsedMinutes = [10, 60, 120, 180, 230];
  const rows = elapsedMinutes.map((minutes) => openInTriage('SYN', minutes * MINUTE));
  await importRows(rows);
  for (const [index, minutes] of elapsedMinutes.entries()) {
    const forecast = await forecastOf(rows[index]!.id);
    const target = 240 * MINUTE;
    const want = truth.triage.survival(target) / truth.triage.survival(minutes * MINUTE);
    assert.ok(Math.abs(forecast.stage_breach_probability - want) < 0.05, `${minutes} min: ${forecast.stage_breach_probability} vs ${want}`);
    assert.equal(forecast.basis.stage_visits, HISTORY);
    assert.equal(forecast.basis.per_priority, true);
  }
});

test('the ticket breach probability and expected finish follow the true remaining path', async () => {
  const elapsedMinutes = [30, 150, 300];
  const rows = elapsedMinutes.map((minutes) => openInTriage('SYN', minutes * MINUTE));
  await importRows(rows);
  const check = seeded(7);
  for (const [index, minutes] of elapsedMinutes.entries()) {
    const forecast = await forecastOf(rows[index]!.id);
    const elapsed = minutes * MINUTE;
    const samples = 40_000;
    let breaches = 0;
    const remaining: number[] = [];
    for (let i = 0; i < samples; i += 1) {
      const rest = truth.triage.sampleBeyond(elapsed, check) - elapsed + truth.fix.sample(check);
      remaining.push(rest);
      if (30 * MINUTE + elapsed + rest > TICKET_TARGET_MINUTES * MINUTE) breaches += 1;
    }
    remaining.sort((a, b) => a - b);
    const want = breaches / samples;
    assert.ok(
      Math.abs(forecast.ticket_breach_probability - want) < 0.05,
      `${minutes} min: ${forecast.ticket_breach_probability} vs ${want}`,
    );
    const median = remaining[samples / 2]!;
    const finish = Date.parse(forecast.expected_finish_at) - NOW;
    // Within 10 % of the true median of the time left.
    assert.ok(Math.abs(finish - median) < 0.1 * median, `${minutes} min: finish in ${finish / MINUTE} min vs ${median / MINUTE}`);
    assert.ok(Date.parse(forecast.finish_p90_at) > Date.parse(forecast.expected_finish_at));
  }
});

test('too little history: null with the reason', async () => {
  const row = openInTriage('FEW', 20 * MINUTE);
  await importRows([row]);
  const forecast = await forecastOf(row.id);
  assert.equal(forecast.stage_breach_probability, null);
  assert.match(forecast.stage_reason, /10 ended visits/);
  assert.equal(forecast.ticket_breach_probability, null);
  assert.match(forecast.ticket_reason, /needs 30/);
});

test('an overdue stage reads 1; a closed ticket or one without a project has no forecast', async () => {
  const row = openInTriage('SYN', 300 * MINUTE);
  await importRows([row]);
  const forecast = await forecastOf(row.id);
  assert.equal(forecast.stage_breach_probability, 1);
  const loose = await t.create.ticket({ subject: 'no project' });
  assert.equal(await forecastOf(loose.id), null);
  const closed = history('SYN', 1)[0]!;
  await importRows([{ ...closed, id: 'closed-one' }]);
  assert.equal(await forecastOf('closed-one'), null);
});

test('lists add forecasts on request', async () => {
  const plain = await t.api.get('/api/tickets?project=SYN&limit=5');
  assert.equal(plain.json().data[0].forecast, undefined);
  const res = await t.api.get('/api/tickets?project=SYN&status=open&limit=5&forecast=true');
  assert.equal(res.statusCode, 200, res.body);
  for (const ticket of res.json().data) assert.equal(typeof ticket.forecast.stage_breach_probability, 'number');
});

test('breach_likely is recorded once per visit when the forecast first reaches the project threshold', async () => {
  const patched = await t.api.patch('/api/projects/SYN', { breach_likely_threshold: 0.6 });
  assert.equal(patched.statusCode, 200, patched.body);
  assert.equal(patched.json().data.breach_likely_threshold, 0.6);
  const likely = openInTriage('SYN', 220 * MINUTE);
  const unlikely = openInTriage('SYN', 5 * MINUTE);
  await importRows([likely, unlikely]);
  const [first, second] = [await t.app.services.forecast.scan(), await t.app.services.forecast.scan()];
  assert.ok(first.some((event) => event.ticket_id === likely.id));
  assert.ok(!first.some((event) => event.ticket_id === unlikely.id));
  assert.equal(second.length, 0);
  const history = (await t.api.get(`/api/tickets/${likely.id}/history`)).json().data;
  const events = history.filter((event: { type: string }) => event.type === 'breach_likely');
  assert.equal(events.length, 1);
  assert.ok(events[0].data.probability >= 0.6);
  assert.equal(events[0].data.key, 'triage');
});

test('Delayed "likely to breach": tickets at or above the threshold, most likely first', async () => {
  await t.app.services.forecast.scan();
  const res = await t.api.get('/api/monitor/likely?project=SYN');
  assert.equal(res.statusCode, 200, res.body);
  const items = res.json().data;
  assert.ok(items.length > 0);
  const probabilities = items.map((item: { probability: number }) => item.probability);
  assert.deepEqual(
    probabilities,
    [...probabilities].sort((a, b) => b - a),
  );
  assert.ok(probabilities.every((p: number) => p >= 0.6));
  // Predicted before the fixed at-risk threshold: some of them are still on track.
  assert.ok(items.some((item: { delay_state: string }) => item.delay_state === 'on_track'));
  assert.equal((await t.api.get('/api/monitor/likely?limit=0')).statusCode, 400);
});
