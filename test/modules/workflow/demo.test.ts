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

test('demo data looks like a real helpdesk: numbers in creation order, history in time order, updated_at varied', async () => {
  const tickets = (await t.api.get('/api/tickets?sort=number&limit=100')).json().data;
  const created = tickets.map((x: { created_at: string }) => x.created_at);
  assert.deepEqual(created, [...created].sort(), 'ticket numbers run in creation order');
  assert.ok(new Set(tickets.map((x: { updated_at: string }) => x.updated_at)).size > tickets.length / 2, 'updated_at varies');
  for (const ticket of tickets.slice(0, 20)) {
    const history = (await t.api.get(`/api/tickets/${ticket.id}/history?limit=200`)).json().data;
    const times = history.map((event: { created_at: string }) => event.created_at);
    const sorted = [...times].sort();
    assert.ok(
      JSON.stringify(times) === JSON.stringify(sorted) || JSON.stringify(times) === JSON.stringify([...sorted].reverse()),
      `history of #${ticket.number} is in time order`,
    );
    assert.equal(history.find((event: { type: string }) => event.type === 'created')?.created_at, ticket.created_at);
    assert.ok(ticket.updated_at >= sorted.at(-1)! || ticket.updated_at >= ticket.created_at);
  }
});
