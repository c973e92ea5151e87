import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CompiledQuery, sql } from 'kysely';
import { testApp, type TestApp } from '../../helpers/app.js';
import { parseSearch } from '../../../src/modules/search/parser.js';
import { searchCondition } from '../../../src/modules/search/sql.js';
import { supportWorkflow } from '../../helpers/fixtures.js';

let t: TestApp;
before(async () => {
  t = await testApp();
  t.clock.set('2026-03-01T09:00:00Z');
  assert.equal((await t.api.post('/api/projects', supportWorkflow('SUP', { ticket_target_minutes: 600 }))).statusCode, 201);
  const rows = [
    {
      subject: 'Printer on fire',
      description: 'Smoke from the tray',
      customer_name: 'Acme Corp',
      customer_email: 'ops@acme.example',
      priority: 'high',
      project: 'billing',
      category: 'hardware',
      assigned_to: 'alice',
      status: 'open',
    },
    {
      subject: 'Paper jam',
      description: 'The printer on the second floor is on fire again, maybe',
      customer_name: 'Globex',
      customer_email: 'noc@globex.example',
      priority: 'low',
      project: 'portal',
      category: 'hardware',
      status: 'pending',
    },
    {
      subject: 'Invoice wrong',
      description: 'Billing sent the invoice twice',
      customer_name: 'Initech',
      customer_email: 'bill@initech.example',
      priority: 'medium',
      project: 'billing',
      category: 'finance',
      status: 'new',
    },
    {
      subject: 'Login broken',
      description: 'Cannot sign in after the fire drill',
      customer_name: 'Acme Corp',
      customer_email: 'it@acme.example',
      priority: 'medium',
      project: 'portal',
      category: 'software',
      status: 'open',
    },
  ];
  for (const row of rows) {
    await t.create.ticket(row);
    t.clock.advance(60_000);
  }
});
after(() => t.close());

const search = async (q: string, extra = '') => {
  const res = await t.api.get(`/api/tickets?q=${encodeURIComponent(q)}${extra}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().data as any[];
};
const subjects = async (q: string, extra = '') => (await search(q, extra)).map((ticket) => ticket.subject);
const sorted = (list: string[]) => [...list].sort();

test('words rank a subject match above a description match, with rank and a highlighted snippet', async () => {
  const found = await search('printer');
  assert.deepEqual(
    found.map((ticket) => ticket.subject),
    ['Printer on fire', 'Paper jam'],
  );
  assert.ok(found[0].rank > found[1].rank, 'subject weighs more than description');
  assert.match(found[0].snippet, /<mark>Printer<\/mark>/);
  assert.match(found[1].snippet, /<mark>printer<\/mark>/);
  // Lists without words carry neither.
  const plain = await t.api.get('/api/tickets?q=status:open');
  assert.equal(plain.json().data[0].rank, undefined);
});

test('phrases, or, exclusion and prefixes', async () => {
  assert.deepEqual(sorted(await subjects('"on fire"')), ['Paper jam', 'Printer on fire']);
  assert.deepEqual(await subjects('"printer on fire"'), ['Printer on fire']);
  assert.deepEqual(await subjects('"fire printer"'), []);
  assert.deepEqual(sorted(await subjects('invoice or login')), ['Invoice wrong', 'Login broken']);
  assert.deepEqual(sorted(await subjects('fire -printer')), ['Login broken']);
  assert.deepEqual(sorted(await subjects('fire -"fire drill"')), ['Paper jam', 'Printer on fire']);
  assert.deepEqual(await subjects('prin'), ['Printer on fire', 'Paper jam'], 'a word matches as a prefix while typing');
  assert.deepEqual(await subjects('invo wro'), ['Invoice wrong']);
  assert.deepEqual(await subjects('initech'), ['Invoice wrong'], 'customer names are in the document');
  assert.deepEqual(sorted(await subjects('acme.example')), ['Login broken', 'Printer on fire']);
  const number = (await search('status:new')).at(0).number;
  assert.deepEqual(await subjects(String(number)), ['Invoice wrong'], 'the number is in the document');
});

test('typos in subject and customer still match', async () => {
  assert.deepEqual((await subjects('priner')).at(0), 'Printer on fire');
  assert.deepEqual((await subjects('invoce')).at(0), 'Invoice wrong');
  assert.deepEqual(await subjects('initek'), ['Invoice wrong']);
  assert.deepEqual((await subjects('priner fire')).at(0), 'Printer on fire');
  assert.deepEqual(await subjects('zzzzqqq'), []);
});

test('every field term narrows, alone and with text', async () => {
  const cases: [string, string[]][] = [
    ['status:open,pending', ['Login broken', 'Paper jam', 'Printer on fire']],
    ['priority:high', ['Printer on fire']],
    ['priority:low,medium', ['Invoice wrong', 'Login broken', 'Paper jam']],
    ['customer:acme', ['Login broken', 'Printer on fire']],
    ['customer:"acme corp"', ['Login broken', 'Printer on fire']],
    ['project:billing', ['Invoice wrong', 'Printer on fire']],
    ['category:hardware,finance', ['Invoice wrong', 'Paper jam', 'Printer on fire']],
    ['assignee:alice', ['Printer on fire']],
    ['assignee:none', ['Invoice wrong', 'Login broken', 'Paper jam']],
    ['created:>=2026-03-01T09:02:00Z', ['Invoice wrong', 'Login broken']],
    ['created:<2026-03-01T09:01:00Z', ['Printer on fire']],
    ['created:2026-03-01', ['Invoice wrong', 'Login broken', 'Paper jam', 'Printer on fire']],
    ['created:>2026-03-01', []],
    ['created:<=2026-02-28', []],
    ['project:billing fire', ['Printer on fire']],
    ['STATUS:OPEN fire', ['Login broken', 'Printer on fire']],
  ];
  for (const [q, expected] of cases) assert.deepEqual(sorted(await subjects(q)), expected, q);
});

test('ages count back from now; assignee:me is the caller', async () => {
  t.clock.set('2026-03-10T09:00:00Z');
  const fresh = await t.create.ticket({ subject: 'Fresh one' });
  assert.deepEqual(await subjects('created:<1d'), ['Fresh one']);
  assert.deepEqual(await subjects('updated:<2h'), ['Fresh one']);
  assert.equal((await subjects('created:>7d')).length, 4);
  const agent = await t.userClient('agent');
  await t.api.patch(`/api/tickets/${fresh.id}`, { assigned_to: agent.user.name });
  const mine = await agent.get('/api/tickets?q=assignee:me');
  assert.deepEqual(
    mine.json().data.map((ticket: any) => ticket.subject),
    ['Fresh one'],
  );
  await t.api.delete(`/api/tickets/${fresh.id}`);
});

test('stage, overdue and at_risk come from the workflow', async () => {
  t.clock.set('2026-04-01T09:00:00Z');
  const ticket = await t.create.ticket({ subject: 'Workflow one', project: 'SUP' });
  assert.equal((await t.api.post(`/api/tickets/${ticket.id}/transitions`, { to: 'intake' })).statusCode, 200);
  assert.deepEqual(await subjects('stage:intake'), ['Workflow one']);
  assert.deepEqual(await subjects('stage:Intake,triage'), ['Workflow one']);
  assert.deepEqual(await subjects('stage:triage'), []);
  assert.deepEqual(await subjects('at_risk:true'), []);
  t.clock.set('2026-04-01T09:50:00Z'); // intake's target is 60 minutes: at risk from 48
  assert.deepEqual(await subjects('at_risk:true'), ['Workflow one']);
  assert.deepEqual(await subjects('overdue:true'), []);
  t.clock.set('2026-04-01T10:01:00Z');
  assert.deepEqual(await subjects('overdue:true'), ['Workflow one']);
  assert.deepEqual(await subjects('at_risk:true'), []);
  await t.api.delete(`/api/tickets/${ticket.id}`);
});

test('a bad term is a 400 naming it and what would be valid', async () => {
  const cases: [string, RegExp][] = [
    ['colour:red', /colour:red: unknown field colour \(fields: status, priority/],
    ['status:open,shut', /status:open,shut: shut is not one of new, open/],
    ['priority:urgent', /priority:urgent: urgent is not one of low, medium, high/],
    ['created:yesterday', /created:yesterday: expected >, >=, <, <=/],
    ['created:2026-02-30', /is not a date/],
    ['updated:2026-01-01T00:00:00Z', /needs one of >, >=, <, <=/],
    ['overdue:maybe', /overdue:maybe: the only value is true/],
    ['status:', /status:: needs a value/],
    ['-status:open', /cannot be negated/],
  ];
  for (const [q, message] of cases) {
    const res = await t.api.get(`/api/tickets?q=${encodeURIComponent(q)}`);
    assert.equal(res.statusCode, 400, q);
    const body = res.json();
    assert.equal(body.error.code, 'VALIDATION_FAILED');
    assert.equal(body.error.details[0].field, 'q');
    assert.match(body.error.details[0].problem, message, q);
  }
  const long = await t.api.get(`/api/tickets?q=${'a'.repeat(1001)}`);
  assert.equal(long.statusCode, 400);
  const rankWithoutWords = await t.api.get('/api/tickets?sort=-rank');
  assert.equal(rankWithoutWords.statusCode, 400);
  assert.equal(rankWithoutWords.json().error.details[0].field, 'sort');
});

test('text that is not words still searches as "contains"; odd input never breaks the query', async () => {
  for (const q of [
    '_',
    '%',
    "'",
    '\\',
    '"',
    '""',
    '!!',
    '& | !',
    "o'reilly",
    '-',
    'or',
    'a:',
    ':b',
    '(',
    ')',
    '<->',
    'fire:*',
    '\u0000x',
  ]) {
    const res = await t.api.get(`/api/tickets?q=${encodeURIComponent(q)}`);
    assert.ok([200, 400].includes(res.statusCode), `${q}: ${res.statusCode} ${res.body}`);
  }
});

test('ranked pages walk every match once with a stable cursor', async () => {
  t.clock.set('2026-05-01T09:00:00Z');
  for (let i = 0; i < 23; i++) {
    await t.create.ticket({ subject: `Toner ${i % 3 === 0 ? 'toner ' : ''}empty ${i}`, description: i % 2 ? 'toner' : null });
    t.clock.advance(1000);
  }
  const seen: string[] = [];
  const ranks: number[] = [];
  let cursor: string | null = null;
  do {
    const res = await t.api.get(`/api/tickets?q=toner&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    for (const ticket of body.data) {
      seen.push(ticket.id);
      ranks.push(ticket.rank);
    }
    cursor = body.page.next_cursor;
  } while (cursor);
  assert.equal(seen.length, 23);
  assert.equal(new Set(seen).size, 23);
  assert.deepEqual(
    ranks,
    [...ranks].sort((a, b) => b - a),
  );
  const count = await t.api.get('/api/tickets?q=toner&count=true&limit=1');
  assert.equal(count.json().page.total, 23);
  // An explicit sort wins over rank, and still reports the rank.
  const newest = (await t.api.get('/api/tickets?q=toner&sort=-created_at&limit=1')).json().data[0];
  assert.equal(newest.subject, 'Toner empty 22');
  assert.equal(typeof newest.rank, 'number');
});

test('the older systems’ GET /tickets searches the same way', async () => {
  const res = await t.api.get('/tickets?q=priner');
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  const list = Array.isArray(body) ? body : (body.data ?? body.tickets);
  assert.ok(JSON.stringify(list).includes('Printer on fire'));
});

test('GET /api/search/help lists fields, values and text syntax', async () => {
  const res = await t.api.get('/api/search/help');
  assert.equal(res.statusCode, 200, res.body);
  const data = res.json().data;
  assert.deepEqual(
    data.fields.map((f: any) => f.field),
    [
      'status',
      'priority',
      'customer',
      'project',
      'category',
      'stage',
      'assignee',
      'overdue',
      'at_risk',
      'created',
      'updated',
      'field.<key>',
    ],
  );
  assert.ok(data.text.some((entry: any) => entry.syntax === '"exact phrase"'));
});

test('EXPLAIN: every field term and the text use an index', async () => {
  const indexFor: [string, RegExp][] = [
    ['status:open', /tickets_status|tickets_open_status/],
    ['priority:high', /tickets_priority/],
    ['customer:acme', /tickets_text_trgm/],
    ['project:billing', /tickets_project\b/],
    ['category:hardware', /tickets_category/],
    ['stage:intake', /tickets_current_stage/],
    ['assignee:alice', /tickets_assigned/],
    ['assignee:none', /tickets_assigned/],
    ['overdue:true', /tickets_overdue_from/],
    ['at_risk:true', /tickets_at_risk_from/],
    ['created:>2026-01-01', /tickets_created|tickets_open/],
    ['updated:<7d', /tickets_updated/],
    ['printer on fire', /tickets_search/],
    ['priner', /tickets_search/],
    ['"printer on fire"', /tickets_search/],
  ];
  const context = { now: new Date('2026-03-01T00:00:00Z'), me: ['alice'] };
  for (const [q, index] of indexFor) {
    const query = t.database.db
      .selectFrom('tickets')
      .selectAll()
      .where(searchCondition(parseSearch(q, context), context.now))
      .compile();
    const plan = await t.database.db.transaction().execute(async (tx) => {
      await sql`set local enable_seqscan = off`.execute(tx);
      const result = await tx.executeQuery<Record<string, string>>(CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]));
      return result.rows.map((row) => Object.values(row)[0]).join('\n');
    });
    assert.match(plan, index, `${q}:\n${plan}`);
    assert.doesNotMatch(plan, /Seq Scan on tickets/, `${q}:\n${plan}`);
  }
});
