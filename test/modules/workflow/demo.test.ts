import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadDemoData } from '../../../src/demo.js';
import { testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.close());

test('demo data: projects, tickets in every state, through the services; loading twice is harmless', async () => {
  t.clock.set('2026-03-20T10:00:00Z');
  await loadDemoData(t.app, { tickets: 60 });
  await loadDemoData(t.app, { tickets: 60 });
  const projects = (await t.api.get('/api/projects')).json().data;
  assert.deepEqual(projects.map((p: { key: string }) => p.key).sort(), ['BILL', 'MOB', 'OPS', 'WEB']);
  const overview = (await t.api.get('/api/monitor/overview')).json().data;
  const total = (await t.api.get('/api/tickets?count=true&limit=1')).json().page.total;
  assert.equal(total, 60);
  assert.ok(overview.open > 0 && overview.open < 60, `open ${overview.open}`);
  assert.ok(overview.overdue > 0, 'some overdue');
  assert.ok(overview.on_track > 0, 'some on track');
  const stages = (await t.api.get('/api/monitor/stages?project=WEB')).json().data;
  assert.ok(stages.some((s: { completed: number }) => s.completed > 0));
});
