import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { importRows as importSynthetic, LogNormal, MINUTE, seeded, syntheticProject } from './synthetic.js';

// The ticket list sorted and filtered by breach probability (issue 23): a keyset page over the stored forecasts.
const triage = new LogNormal(120, 0.8);
const NOW = Date.parse('2026-06-01T12:00:00Z');

let t: TestApp;
const random = seeded(7);
let counter = 0;
const importRows = (rows: unknown[]) => importSynthetic(t, rows);

function history(n: number) {
  return Array.from({ length: n }, () => {
    let at = NOW - 20 * 86_400_000 * random() - 86_400_000;
    const intake = at;
    at += 30 * MINUTE;
    const triageStart = at;
    at += triage.sample(random);
    return {
      external_id: `h-${++counter}`,
      subject: 'history',
      project: 'LST',
      visits: [
        { key: 'intake', stage_start_time: new Date(intake).toISOString(), stage_end_time: new Date(triageStart).toISOString() },
        { key: 'triage', stage_start_time: new Date(triageStart).toISOString(), stage_end_time: new Date(at).toISOString() },
        { key: 'closed', stage_start_time: new Date(at).toISOString() },
      ],
    };
  });
}

/** Open tickets in triage for 5, 20, … minutes: the longer, the likelier to miss its 240 min. */
const elapsed = [5, 20, 60, 100, 140, 180, 220, 235];
const openIds = elapsed.map((_, index) => `list-open-${index}`);

before(async () => {
  t = await testApp();
  assert.equal((await t.api.post('/api/projects', syntheticProject('LST'))).statusCode, 201);
  await importRows(history(300));
  await importRows(
    elapsed.map((minutes, index) => ({
      id: openIds[index],
      external_id: openIds[index],
      subject: `open ${minutes}`,
      project: 'LST',
      visits: [{ key: 'triage', stage_start_time: new Date(NOW - minutes * MINUTE).toISOString() }],
    })),
  );
  t.clock.set(new Date(NOW));
  await t.app.services.forecast.refresh();
  await t.app.services.forecast.scan();
});
after(() => t.close());

type Row = { id: string; forecast?: { stage_breach_probability: number } };

async function pages(url: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (let cursor: string | null = null, guard = 0; guard < 20; guard += 1) {
    const res = await t.api.get(`${url}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.statusCode, 200, res.body);
    rows.push(...res.json().data);
    cursor = res.json().page.next_cursor;
    if (!cursor) return rows;
  }
  throw new Error('too many pages');
}

test('sort=-breach_probability: open tickets with a forecast, most likely first, page by page', async () => {
  const rows = await pages('/api/tickets?sort=-breach_probability&limit=3&forecast=true');
  assert.deepEqual(
    rows.map((row) => row.id),
    [...openIds].reverse(),
  );
  const probabilities = rows.map((row) => row.forecast!.stage_breach_probability);
  assert.deepEqual(
    probabilities,
    [...probabilities].sort((a, b) => b - a),
  );
  const ascending = await pages('/api/tickets?sort=breach_probability&limit=5');
  assert.deepEqual(
    ascending.map((row) => row.id),
    openIds,
  );
});

test('breach_probability_min keeps the tickets at or above it, and counts them', async () => {
  const all = (await t.api.get('/api/tickets?sort=-breach_probability&forecast=true&limit=50')).json().data as Row[];
  const min = all[3]!.forecast!.stage_breach_probability;
  const res = await t.api.get(`/api/tickets?breach_probability_min=${min}&count=true&limit=50`);
  assert.equal(res.statusCode, 200, res.body);
  const ids = (res.json().data as Row[]).map((row) => row.id).sort();
  const expected = all.filter((row) => row.forecast!.stage_breach_probability >= min).map((row) => row.id);
  assert.deepEqual(ids, expected.sort());
  assert.equal(res.json().page.total, expected.length);
  const sorted = await t.api.get('/api/tickets?sort=-breach_probability&count=true&limit=2');
  assert.equal(sorted.json().page.total, openIds.length);
});

test('a ticket closed since the last scan drops out; bad values are a 400 naming the field', async () => {
  const closed = await t.api.post(`/api/tickets/${openIds.at(-1)}/transitions`, { to: 'closed' });
  assert.equal(closed.statusCode, 200, closed.body);
  const rows = (await t.api.get('/api/tickets?sort=-breach_probability&limit=50')).json().data as Row[];
  assert.ok(!rows.some((row) => row.id === openIds.at(-1)));
  for (const query of ['breach_probability_min=1.5', 'breach_probability_min=x', 'sort=-breach']) {
    const res = await t.api.get(`/api/tickets?${query}`);
    assert.equal(res.statusCode, 400, query);
    assert.match(res.body, query.startsWith('sort') ? /sort/ : /breach_probability_min/);
  }
});
