import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { importRows, LogNormal, MINUTE, seeded, syntheticProject } from '../forecast/synthetic.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const random = seeded(5);
const triage = new LogNormal(120, 0.8);
let t: TestApp;

/** `n` tickets that went intake → triage → closed before NOW. */
const history = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const start = NOW - 10 * 86_400_000 * random() - 86_400_000;
    const end = start + 30 * MINUTE;
    const closed = end + triage.sample(random);
    return {
      external_id: `h-${i}`,
      subject: 'history',
      project: 'SYN',
      visits: [
        { key: 'intake', stage_start_time: new Date(start).toISOString(), stage_end_time: new Date(end).toISOString() },
        { key: 'triage', stage_start_time: new Date(end).toISOString(), stage_end_time: new Date(closed).toISOString() },
        { key: 'closed', stage_start_time: new Date(closed).toISOString(), stage_end_time: new Date(closed).toISOString() },
      ],
    };
  });

before(async () => {
  t = await testApp();
  assert.equal((await t.api.post('/api/projects', syntheticProject('SYN'))).statusCode, 201);
  await importRows(t, history(80));
  const open = (id: string, elapsed: number) => ({
    id,
    external_id: id,
    subject: id,
    project: 'SYN',
    visits: [
      {
        key: 'intake',
        stage_start_time: new Date(NOW - elapsed - 30 * MINUTE).toISOString(),
        stage_end_time: new Date(NOW - elapsed).toISOString(),
      },
      { key: 'triage', stage_start_time: new Date(NOW - elapsed).toISOString() },
    ],
  });
  await importRows(t, [open('late-one', 200 * MINUTE), open('fresh-one', 5 * MINUTE)]);
  t.clock.set(new Date(NOW));
  await t.app.services.forecast.refresh();
  await t.app.services.forecast.scan();
});
after(() => t.close());

test('GET /api/board?forecast=true adds each card’s stored forecast; without it the cards have none', async () => {
  const res = await t.api.get('/api/board?project=SYN&forecast=true');
  assert.equal(res.statusCode, 200, res.body);
  const cards = new Map(res.json().data.cards.map((card: { subject: string }) => [card.subject, card]));
  const late = cards.get('late-one') as { forecast: Record<string, unknown> };
  const fresh = cards.get('fresh-one') as { forecast: Record<string, unknown> };
  assert.ok(late && fresh, res.body);
  const single = (await t.api.get('/api/tickets/late-one')).json().data.forecast;
  assert.equal(late.forecast.stage_breach_probability, single.stage_breach_probability);
  assert.equal(late.forecast.expected_finish_at, single.expected_finish_at);
  assert.equal(late.forecast.forecast_at, new Date(NOW).toISOString());
  assert.ok((late.forecast.stage_breach_probability as number) > (fresh.forecast.stage_breach_probability as number));

  const plain = (await t.api.get('/api/board?project=SYN')).json().data.cards;
  assert.ok(plain.every((card: object) => !('forecast' in card)));
  assert.equal((await t.api.get('/api/board?project=SYN&forecast=maybe')).statusCode, 400);
});
