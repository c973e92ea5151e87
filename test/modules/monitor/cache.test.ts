import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { eventually } from '../../helpers/eventually.js';

let t: TestApp;
before(async () => {
  t = await testApp({ MONITOR_CACHE_SECONDS: '5' });
});
after(() => t.close());

const openNow = async () => (await t.api.get('/api/monitor/overview')).json().data.open as number;

test('a kept answer is retired by a change, and by time', async () => {
  const before = await openNow();
  const firstNow = (await t.api.get('/api/monitor/overview')).json().data.now;
  // Asked again at once: the same answer (its `now` has not moved although the clock has).
  t.clock.advance(1000);
  assert.equal((await t.api.get('/api/monitor/overview')).json().data.now, firstNow);
  await t.create.ticket({ subject: 'counts' });
  await eventually(async () => (await openNow()) === before + 1, 'the open count includes the new ticket');
  const kept = (await t.api.get('/api/monitor/overview')).json().data.now;
  t.clock.advance(5001);
  assert.notEqual((await t.api.get('/api/monitor/overview')).json().data.now, kept);
});

test('the same question from two dashboards at once is computed once; another question is not mixed up with it', async () => {
  const [a, b, other] = await Promise.all([
    t.api.get('/api/monitor/aging?priority=high'),
    t.api.get('/api/monitor/aging?priority=high'),
    t.api.get('/api/monitor/aging?priority=low'),
  ]);
  assert.deepEqual(a.json().data, b.json().data);
  assert.equal(other.statusCode, 200);
});

test('access is checked before a kept answer is handed out', async () => {
  await t.api.get('/api/monitor/overview');
  const customer = await t.userClient('customer');
  assert.equal((await customer.get('/api/monitor/overview')).statusCode, 403);
});
