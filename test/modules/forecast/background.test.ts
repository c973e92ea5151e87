import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { testApp, type TestApp } from '../../helpers/app.js';
import { importRows as importSynthetic, LogNormal, MINUTE, seeded, syntheticProject } from './synthetic.js';

/** The forecast's background work (issue 19): a refresh keeps an unchanged model, a scan forecasts what can have changed. */
const NOW = Date.parse('2026-06-01T12:00:00Z');
const durations: Record<string, LogNormal> = {
  intake: new LogNormal(40, 0.5),
  triage: new LogNormal(120, 0.6),
  fix: new LogNormal(300, 0.5),
};

let t: TestApp;
const random = seeded(19);
let counter = 0;
const importRows = (rows: unknown[]) => importSynthetic(t, rows);

function history(n: number) {
  return Array.from({ length: n }, () => {
    let at = NOW - 30 * 86_400_000 * random() - 3 * 86_400_000;
    const visits = ['intake', 'triage', 'fix'].map((key) => {
      const start = at;
      at += durations[key]!.sample(random);
      return { key, stage_start_time: new Date(start).toISOString(), stage_end_time: new Date(at).toISOString() };
    });
    visits.push({ key: 'closed', stage_start_time: new Date(at).toISOString(), stage_end_time: new Date(at).toISOString() });
    return { external_id: `h-${++counter}`, subject: 'history', project: 'BG', visits };
  });
}

/** An open ticket that has been in `key` since `start`. */
function open(key: string, start: number) {
  const id = `open-${++counter}`;
  return { id, external_id: id, subject: 'open', project: 'BG', visits: [{ key, stage_start_time: new Date(start).toISOString() }] };
}

const model = async () =>
  (
    await sql<{ refreshed_at: Date; checked_at: Date }>`
      select m.refreshed_at, m.checked_at from forecast_models m join projects p on p.id = m.project_id where p.key = 'BG'`.execute(
      t.app.database.db,
    )
  ).rows[0]!;
const computedAt = async (id: string) =>
  (await sql<{ computed_at: Date }>`select computed_at from ticket_forecasts where ticket_id = ${id}`.execute(t.app.database.db)).rows[0]
    ?.computed_at;

before(async () => {
  t = await testApp();
  assert.equal((await t.api.post('/api/projects', syntheticProject('BG'))).statusCode, 201);
  await importRows(history(200));
  t.clock.set(new Date(NOW));
  await t.app.services.forecast.refresh();
});
after(() => t.close());

test('a refresh keeps a model whose history did not change; new history or a forced refresh recomputes it', async () => {
  const first = await model();
  assert.equal(first.refreshed_at.getTime(), NOW);
  t.clock.advance(10 * MINUTE);
  await t.app.services.forecast.refresh();
  const kept = await model();
  assert.equal(kept.refreshed_at.getTime(), NOW, 'nothing changed: the stored model stays');
  assert.equal(kept.checked_at.getTime(), NOW + 10 * MINUTE);

  await importRows(history(5));
  t.clock.advance(10 * MINUTE);
  await t.app.services.forecast.refresh();
  assert.equal((await model()).refreshed_at.getTime(), NOW + 20 * MINUTE, 'imported history: recomputed');

  t.clock.advance(10 * MINUTE);
  assert.equal((await t.api.post('/api/forecast/refresh', {})).statusCode, 200);
  assert.equal((await model()).refreshed_at.getTime(), NOW + 30 * MINUTE, 'POST /api/forecast/refresh recomputes');
});

test('a scan forecasts the tickets whose forecast can have changed, and records breach_likely as the forecast crosses', async () => {
  const start = t.clock.now().getTime();
  // Quiet: just arrived in a long stage. Crossing: 20 minutes into intake (due after 60), likely to breach only later.
  const quiet = open('fix', start - 5 * MINUTE);
  const crossing = open('intake', start - 20 * MINUTE);
  await importRows([quiet, crossing]);
  const first = await t.app.services.forecast.scan();
  assert.ok(!first.some((event) => event.ticket_id === crossing.id));
  assert.equal((await computedAt(quiet.id))?.getTime(), start);

  t.clock.advance(2 * MINUTE);
  await t.app.services.forecast.scan();
  assert.equal((await computedAt(quiet.id))?.getTime(), start, 'nothing changed: not forecast again');

  // A change to the ticket: forecast at the next scan.
  assert.equal((await t.api.patch(`/api/tickets/${quiet.id}`, { priority: 'high' })).statusCode, 200);
  t.clock.advance(2 * MINUTE);
  await t.app.services.forecast.scan();
  assert.equal((await computedAt(quiet.id))?.getTime(), start + 4 * MINUTE, 'changed: forecast again');

  // Past the intake's due time the stage's probability is 1: the scan after it records breach_likely.
  t.clock.set(new Date(start + 41 * MINUTE));
  const later = await t.app.services.forecast.scan();
  assert.ok(
    later.some((event) => event.ticket_id === crossing.id),
    'crossed the threshold',
  );
  const stored = (
    await sql<{ stage_probability: number }>`select stage_probability from ticket_forecasts where ticket_id = ${crossing.id}`.execute(
      t.app.database.db,
    )
  ).rows[0]!;
  assert.equal(stored.stage_probability, 1);

  // Closed: its forecast goes.
  assert.equal((await t.api.patch(`/api/tickets/${crossing.id}`, { status: 'closed' })).statusCode, 200);
  t.clock.advance(2 * MINUTE);
  await t.app.services.forecast.scan();
  assert.equal(await computedAt(crossing.id), undefined);
});
