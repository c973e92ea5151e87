import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { testApp, type TestApp } from '../../helpers/app.js';
import { systemActor } from '../../../src/modules/access/policy.js';
import { exportTickets } from '../../../src/modules/export/tickets.js';

const LARGE = 5000;
let t: TestApp;
before(async () => {
  t = await testApp();
  t.clock.set('2026-03-01T09:00:00Z');
  // A large set straight in SQL (the API would take minutes); awkward text on purpose.
  await sql`
    insert into tickets (id, subject, description, customer_name, customer_email, assigned_to, status, created_at, updated_at)
    select 'bulk-' || lpad(i::text, 5, '0'),
      'Bulk ' || i || case when i % 3 = 0 then ', with "quotes", commas' when i % 3 = 1 then E'\nand a newline' else ' ünïcødé ✓' end,
      repeat('x', 2000), 'Bulk Co', 'bulk@bulk.example', 'agent-' || (i % 5), 'open',
      timestamptz '2026-02-01T00:00:00Z' + i * interval '1 minute', timestamptz '2026-02-01T00:00:00Z' + i * interval '1 minute'
    from generate_series(1, ${LARGE}) as i`.execute(t.database.db);
  await t.create.ticket({
    subject: 'Mine',
    customer_email: 'me@customer.example',
    assigned_to: 'secret agent',
    metadata: { internal: true },
  });
});
after(() => t.close());

test('CSV streams every row with proper quoting, a header and an optional BOM', async () => {
  const res = await t.api.get('/api/tickets/export?format=csv&bom=true&columns=number,subject,assigned_to,created_at&sort=created_at');
  assert.equal(res.statusCode, 200, res.body.slice(0, 500));
  assert.match(res.headers['content-type'] as string, /^text\/csv; charset=utf-8/);
  assert.match(res.headers['content-disposition'] as string, /attachment; filename="tickets-2026-03-01\.csv"/);
  assert.ok(res.body.startsWith('\uFEFFnumber,subject,assigned_to,created_at\n'));
  const rows = parse(res.body, { bom: true, columns: true }) as Record<string, string>[];
  assert.equal(rows.length, LARGE + 1);
  assert.equal(new Set(rows.map((row) => row.number)).size, LARGE + 1);
  assert.equal(rows[2].subject, 'Bulk 3, with "quotes", commas');
  assert.equal(rows[0].subject, 'Bulk 1\nand a newline');
  assert.equal(rows[1].subject, 'Bulk 2 ünïcødé ✓');
  assert.equal(rows[0].created_at, '2026-02-01T00:01:00.000Z');
  assert.equal(rows[0].assigned_to, 'agent-1');
});

test('NDJSON with chosen columns, times in a chosen zone, same filters and q as the list', async () => {
  const res = await t.api.get(
    '/api/tickets/export?format=ndjson&columns=id,subject,created_at&time_zone=Europe/Berlin&q=bulk%2010*&status=open',
  );
  assert.equal(res.statusCode, 200, res.body.slice(0, 500));
  assert.match(res.headers['content-type'] as string, /application\/x-ndjson/);
  const lines = res.body
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  const list = await t.api.get('/api/tickets?q=bulk%2010*&status=open&count=true&limit=1');
  assert.equal(lines.length, list.json().page.total);
  assert.deepEqual(Object.keys(lines[0]), ['id', 'subject', 'created_at']);
  const one = lines.find((line) => line.id === 'bulk-00010');
  assert.equal(one.created_at, '2026-02-01T01:10:00.000+01:00');
  const filtered = await t.api.get('/api/tickets/export?format=ndjson&q=customer:bulk%20status:closed');
  assert.equal(filtered.statusCode, 200);
  assert.equal(filtered.body, '');
});

test('a broad search exports every match: the ranked ones first, as the list shows them, then the rest newest first', async () => {
  const res = await t.api.get('/api/tickets/export?format=ndjson&columns=id,rank&q=bulk');
  assert.equal(res.statusCode, 200, res.body.slice(0, 500));
  const lines = res.body
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; rank: number });
  assert.equal(lines.length, LARGE);
  assert.equal(new Set(lines.map((line) => line.id)).size, LARGE);
  const listed: string[] = [];
  for (let cursor: string | null = ''; cursor !== null;) {
    const page = await t.api.get(`/api/tickets?q=bulk&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    listed.push(...page.json().data.map((ticket: { id: string }) => ticket.id));
    cursor = page.json().page.next_cursor;
  }
  assert.ok(listed.length < LARGE, 'the list ranks a window of the matches');
  assert.deepEqual(
    lines.slice(0, listed.length).map((line) => line.id),
    listed,
  );
  const rest = lines.slice(listed.length).map((line) => line.id);
  assert.deepEqual(rest, [...rest].sort().reverse(), 'then newest first');
});

test('customers export only their tickets and never assigned_to or metadata', async () => {
  const customer = await t.userClient('customer', { customerEmails: ['me@customer.example'] });
  const res = await customer.get('/api/tickets/export?format=ndjson');
  assert.equal(res.statusCode, 200, res.body);
  const lines = res.body
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].subject, 'Mine');
  assert.ok(!('assigned_to' in lines[0]) && !('metadata' in lines[0]));
  const asked = await customer.get('/api/tickets/export?columns=subject,assigned_to');
  assert.equal(asked.statusCode, 400);
  assert.equal(asked.json().error.details[0].field, 'columns');
  assert.equal((await t.anonymous.get('/api/tickets/export')).statusCode, 401);
});

test('bad parameters are a 400 naming them, before any byte is streamed', async () => {
  for (const [query, field] of [
    ['format=xlsx', 'format'],
    ['columns=subject,nope', 'columns'],
    ['time_zone=Mars/Olympus', 'time_zone'],
    ['q=colour:red', 'q'],
    ['view=no-such-view', null],
    ['bom=maybe', 'bom'],
  ] as const) {
    const res = await t.api.get(`/api/tickets/export?${query}`);
    assert.ok([400, 404].includes(res.statusCode), `${query}: ${res.statusCode}`);
    assert.equal(res.json().success, false);
    if (field) assert.match(JSON.stringify(res.json().error), new RegExp(field), query);
  }
});

test('memory stays flat while streaming: one page at a time, never every row', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const stream = await exportTickets(t.app.services.tickets, systemActor, { format: 'ndjson', list: { filters: {} } });
  let rows = 0;
  let early = 0;
  let peak = 0;
  for await (const chunk of stream) {
    rows += String(chunk).split('\n').length - 1;
    if (rows === 1000) {
      gc();
      early = process.memoryUsage().heapUsed;
    }
    if (rows > 1000 && rows % 500 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
  }
  assert.equal(rows, LARGE + 1);
  // The rows carry ~10 MB of text; holding them all would grow the heap by far more than a page or two.
  const growth = peak - early;
  assert.ok(growth < 6 * 1024 * 1024, `heap grew ${(growth / 1024 / 1024).toFixed(1)} MB`);
});

test('stage records export the same way, ready for a Gantt', async () => {
  const started = await t.create.stage({
    stage_description: 'Design, "v2"',
    stage_start_time: '2026-02-01T08:00:00Z',
    due_at: '2026-02-03T08:00:00Z',
  });
  t.clock.advance(1000);
  await t.create.stage({ stage_description: 'Build', stage_start_time: '2026-02-02T08:00:00Z', stage_end_time: '2026-02-04T08:00:00Z' });
  const res = await t.api.get(
    '/api/stages/export?columns=number,stage_description,stage_start_time,stage_end_time,due_at&sort=created_at&time_zone=Europe/Berlin',
  );
  assert.equal(res.statusCode, 200, res.body);
  assert.match(res.headers['content-disposition'] as string, /filename="stages-2026-03-01\.csv"/);
  const rows = parse(res.body, { columns: true }) as Record<string, string>[];
  assert.equal(rows.length, 2);
  assert.equal(rows[0].number, String(started.number));
  assert.equal(rows[0].stage_description, 'Design, "v2"');
  assert.equal(rows[0].stage_start_time, '2026-02-01T09:00:00.000+01:00');
  assert.equal(rows[0].stage_end_time, '');
  assert.equal(rows[1].stage_end_time, '2026-02-04T09:00:00.000+01:00');
  const ndjson = await t.api.get('/api/stages/export?format=ndjson&stage_type=major');
  assert.equal(ndjson.body.trimEnd().split('\n').length, 2);
  assert.equal((await t.api.get('/api/stages/export?columns=nope')).statusCode, 400);
  const customer = await t.userClient('customer', { customerEmails: ['nobody@customer.example'] });
  const theirs = await customer.get('/api/stages/export?format=ndjson');
  assert.equal(theirs.statusCode, 200, theirs.body);
  assert.equal(theirs.body, '', 'a customer sees only stages of their own tickets');
});
