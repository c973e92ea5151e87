import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
let stageId: string;
before(async () => {
  t = await testApp();
  stageId = (await t.create.stage()).id;
  const rows = [
    {
      subject: 'Printer on fire',
      status: 'open',
      priority: 'high',
      project: 'billing',
      category: 'hardware',
      customer_name: 'Acme Corp',
      customer_email: 'ops@acme.example',
      assigned_to: 'alice',
    },
    {
      subject: 'Login broken',
      status: 'pending',
      priority: 'low',
      project: 'portal',
      category: 'software',
      customer_name: 'Globex',
      customer_email: 'noc@globex.example',
      assigned_to: 'bob',
    },
    {
      subject: 'Invoice 100% wrong',
      status: 'closed',
      priority: 'medium',
      project: 'billing',
      category: 'billing',
      customer_name: 'Initech',
      customer_email: 'pay@initech.example',
    },
    {
      subject: 'Slow dashboard',
      status: 'open',
      priority: 'medium',
      project: 'portal',
      customer_name: 'ACME Corp',
      customer_email: 'it@acme.example',
      stages: [stageId],
      current_stage_id: stageId,
    },
  ];
  for (const [index, row] of rows.entries()) {
    t.clock.set(`2026-03-0${index + 1}T10:00:00Z`);
    await t.create.ticket(row);
  }
});
after(() => t.close());

const subjects = async (query: string) => {
  const res = await t.api.get(`/api/tickets?${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().data.map((ticket: any) => ticket.subject);
};

test('newest first by default, every filter narrows', async () => {
  assert.deepEqual(await subjects(''), ['Slow dashboard', 'Invoice 100% wrong', 'Login broken', 'Printer on fire']);
  assert.deepEqual(await subjects('status=open,pending'), ['Slow dashboard', 'Login broken', 'Printer on fire']);
  assert.deepEqual(await subjects('priority=high'), ['Printer on fire']);
  assert.deepEqual(await subjects('project=billing'), ['Invoice 100% wrong', 'Printer on fire']);
  assert.deepEqual(await subjects('category=software'), ['Login broken']);
  assert.deepEqual(await subjects('customer=acme'), ['Slow dashboard', 'Printer on fire']);
  assert.deepEqual(await subjects('customer=GLOBEX.example'), ['Login broken']);
  assert.deepEqual(await subjects('assigned_to=alice'), ['Printer on fire']);
  assert.deepEqual(await subjects(`current_stage_id=${stageId}`), ['Slow dashboard']);
  assert.deepEqual(await subjects('created_from=2026-03-02T00:00:00Z&created_to=2026-03-03T23:00:00Z'), [
    'Invoice 100% wrong',
    'Login broken',
  ]);
  assert.deepEqual(await subjects('updated_since=2026-03-04T00:00:00Z'), ['Slow dashboard']);
  assert.deepEqual(await subjects('q=100%25'), ['Invoice 100% wrong']);
  assert.deepEqual(await subjects('q=fire'), ['Printer on fire']);
  assert.deepEqual(await subjects('q=_'), []);
});

test('sorts by each key both ways', async () => {
  assert.deepEqual(await subjects('sort=created_at'), ['Printer on fire', 'Login broken', 'Invoice 100% wrong', 'Slow dashboard']);
  assert.deepEqual((await subjects('sort=-priority')).slice(0, 1), ['Printer on fire']);
  assert.deepEqual((await subjects('sort=priority')).slice(0, 1), ['Login broken']);
  assert.deepEqual(await subjects('sort=number'), await subjects('sort=created_at'));
  assert.deepEqual(await subjects('sort=-updated_at'), await subjects('sort=-created_at'));
});

test('bad filters are 400 naming the parameter', async () => {
  for (const [query, field] of [
    ['status=open,nope', 'status'],
    ['priority=urgent', 'priority'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['sort=subject', 'sort'],
    ['created_from=yesterday', 'created_from'],
    ['cursor=garbage', 'cursor'],
    ['colour=red', 'colour'],
  ]) {
    const res = await t.api.get(`/api/tickets?${query}`);
    assert.equal(res.statusCode, 400, query);
    assert.ok(
      res.json().error.details.some((d: any) => d.field === field),
      `${query}: ${res.body}`,
    );
  }
});

test('count=true adds the total', async () => {
  const res = await t.api.get('/api/tickets?project=portal&count=true&limit=1');
  assert.deepEqual(res.json().page.total, 2);
  assert.equal(res.json().page.limit, 1);
  assert.equal((await t.api.get('/api/tickets')).json().page.total, undefined);
});

test('the cursor walks every row once, in every sort, while rows are inserted', async () => {
  for (const sort of ['-created_at', 'created_at', '-priority', 'priority', 'number', '-updated_at']) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const res = await t.api.get(`/api/tickets?limit=1&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.statusCode, 200, res.body);
      seen.push(...res.json().data.map((ticket: any) => ticket.id));
      cursor = res.json().page.next_cursor;
      // A row inserted mid-walk before the cursor never shifts the pages (no repeats, no gaps).
      if (inserted++ < 2) {
        t.clock.set('2026-01-01T00:00:00Z');
        await t.create.ticket({ subject: `inserted during ${sort}`, priority: 'low' });
      }
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, `${sort}: no ticket twice`);
    for (const original of ['Printer on fire', 'Login broken', 'Invoice 100% wrong', 'Slow dashboard']) {
      const all = (await t.api.get('/api/tickets?limit=500')).json().data;
      assert.ok(seen.includes(all.find((x: any) => x.subject === original).id), `${sort}: saw ${original}`);
    }
  }
});

test('several statuses page in order, alone (each read along its own range) and with other filters', async () => {
  const statuses = ['new', 'open', 'pending', 'in_progress', 'open', 'new', 'in_progress', 'pending', 'open'];
  for (const [index, status] of statuses.entries()) {
    t.clock.set(`2026-04-0${index + 1}T10:00:00Z`);
    await t.create.ticket({ subject: `Mixed ${index}`, status, project: index % 2 ? 'mixed-odd' : 'mixed-even' });
  }
  for (const [query, expected] of [
    ['status=open,in_progress&q=customer:nobody', []],
    ['status=open,in_progress,pending&project=mixed-odd', [7, 3, 1]],
    ['status=open,in_progress&project=mixed-even', [8, 6, 4]],
  ] as const) {
    assert.deepEqual(
      await subjects(`${query}&limit=50`),
      expected.map((index) => `Mixed ${index}`),
      query,
    );
  }
  for (const sort of ['-created_at', 'created_at']) {
    const all = await subjects(`status=open,in_progress&sort=${sort}&limit=500`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.api.get(`/api/tickets?status=open,in_progress&sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.statusCode, 200, res.body);
      seen.push(...res.json().data.map((ticket: any) => ticket.subject));
      cursor = res.json().page.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, all, `${sort}: pages of two walk the same order`);
    const mixed = all.filter((subject: string) => subject.startsWith('Mixed'));
    const order = [8, 6, 4, 3, 1].map((index) => `Mixed ${index}`);
    assert.deepEqual(mixed, sort === '-created_at' ? order : [...order].reverse(), sort);
    assert.ok(all.includes('Printer on fire') && all.includes('Slow dashboard') && !all.includes('Login broken'));
  }
});
