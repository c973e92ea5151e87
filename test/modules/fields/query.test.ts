import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { supportWorkflow } from '../../helpers/fixtures.js';

// Custom fields (issue 25) where they are queried: search terms, list filters, saved views, export, import.
let t: TestApp;
const numbers: Record<string, number> = {};
before(async () => {
  t = await testApp();
  assert.equal((await t.api.post('/api/projects', supportWorkflow('QRY'))).statusCode, 201);
  for (const field of [
    { key: 'severity', label: 'Severity', type: 'select', options: ['low', 'high'] },
    { key: 'impact', label: 'Impact', type: 'number' },
    { key: 'due', label: 'Due', type: 'date' },
    { key: 'tags', label: 'Tags', type: 'multi_select', options: ['vip', 'legal', 'press'] },
    { key: 'urgent', label: 'Urgent', type: 'checkbox' },
    { key: 'secret', label: 'Secret', type: 'text' },
    { key: 'region', label: 'Region', type: 'text', customer_visible: true },
  ]) {
    const res = await t.api.post('/api/projects/QRY/fields', field);
    assert.equal(res.statusCode, 201, res.body);
  }
  const tickets: [string, Record<string, unknown>][] = [
    ['a', { severity: 'high', impact: 5, due: '2026-11-15', tags: ['vip', 'legal'], urgent: true, region: 'north' }],
    ['b', { severity: 'low', impact: 2, due: '2026-12-15', tags: ['press'], urgent: false }],
    ['c', { severity: 'high', impact: 10, due: '2027-01-10' }],
    ['d', {}],
  ];
  for (const [name, fields] of tickets) {
    const ticket = await t.create.ticket({ subject: `query ${name}`, project: 'QRY', customer_email: 'q@example.com', fields });
    numbers[name] = ticket.number;
  }
});
after(() => t.close());

const found = async (query: string) => {
  const res = await t.api.get(`/api/tickets?${query}`);
  assert.equal(res.statusCode, 200, res.body);
  const byNumber = Object.fromEntries(Object.entries(numbers).map(([name, number]) => [number, name]));
  return res
    .json()
    .data.map((ticket: any) => byNumber[ticket.number])
    .filter(Boolean)
    .sort();
};
const q = (text: string) => `q=${encodeURIComponent(text)}`;

test('search terms: equality on every form, comparisons on numbers and dates', async () => {
  assert.deepEqual(await found(q('field.severity:high')), ['a', 'c']);
  assert.deepEqual(await found(q('field.severity:high,low')), ['a', 'b', 'c']);
  assert.deepEqual(await found(q('field.tags:legal')), ['a']);
  assert.deepEqual(await found(q('field.urgent:true')), ['a']);
  assert.deepEqual(await found(q('field.impact:5')), ['a']);
  assert.deepEqual(await found(q('field.impact>3')), ['a', 'c']);
  assert.deepEqual(await found(q('field.impact:<=5')), ['a', 'b']);
  assert.deepEqual(await found(q('field.due:<2026-12-01')), ['a']);
  assert.deepEqual(await found(q('field.due>=2026-12-01 field.severity:high')), ['c']);
  const bad = await t.api.get(`/api/tickets?${q('field.impact>soon')}`);
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.details[0].field, 'q');
  assert.equal((await t.api.get(`/api/tickets?${q('field.9x:1')}`)).statusCode, 400);
});

test('list filters field.<key>=… and saved views keep field terms', async () => {
  assert.deepEqual(await found('field.severity=high'), ['a', 'c']);
  assert.deepEqual(await found(`field.impact=${encodeURIComponent('>3')}&field.severity=high`), ['a', 'c']);
  assert.deepEqual(await found(`field.due=${encodeURIComponent('<2026-12-01')}`), ['a']);
  const count = await t.api.get('/api/tickets?field.severity=low&count=true');
  assert.equal(count.json().page.total, 1);
  assert.equal((await t.api.get('/api/tickets?field.bogus-key=1')).statusCode, 400);
  const view = await t.api.post('/api/views', { name: 'High impact', query: 'field.impact>3' });
  assert.equal(view.statusCode, 201, view.body);
  assert.deepEqual(await found(`view=${view.json().data.id}`), ['a', 'c']);
});

test('export: field.<key> columns in CSV and NDJSON; customers get only their fields', async () => {
  const csv = await t.api.get('/api/tickets/export?format=csv&q=field.severity:high&columns=number,field.severity,field.impact,field.tags');
  assert.equal(csv.statusCode, 200, csv.body);
  const lines = csv.body.trim().split('\n');
  assert.equal(lines[0], 'number,field.severity,field.impact,field.tags');
  assert.ok(lines.includes(`${numbers.a},high,5,"[""vip"",""legal""]"`), csv.body);
  const ndjson = await t.api.get('/api/tickets/export?format=ndjson&field.severity=low');
  const row = JSON.parse(ndjson.body.trim().split('\n')[0]);
  assert.equal(row['field.impact'], 2);
  assert.deepEqual(row['field.tags'], ['press']);
  assert.equal(row['field.region'], null);
  const customer = await t.userClient('customer', { customerEmails: ['q@example.com'] });
  const theirs = await customer.get('/api/tickets/export?format=ndjson');
  const first = JSON.parse(theirs.body.trim().split('\n')[0]);
  assert.ok('field.region' in first);
  assert.ok(!('field.secret' in first));
  assert.equal((await customer.get('/api/tickets/export?columns=field.secret')).statusCode, 400);
});

const importBody = (body: string, type: string) =>
  t.api.request({ method: 'POST', url: '/api/import', payload: body, headers: { 'content-type': type } });

test('import: NDJSON fields objects and CSV field.<key> columns, validated like the API', async () => {
  const ndjson = [
    { external_id: 'f-1', subject: 'imported 1', project: 'QRY', fields: { severity: 'high', impact: 7, tags: ['vip'] } },
    { external_id: 'f-2', subject: 'imported 2', project: 'QRY', fields: { severity: 'medium' } },
    { external_id: 'f-3', subject: 'imported 3', project: 'QRY', fields: { nope: 1 } },
  ]
    .map((row) => JSON.stringify(row))
    .join('\n');
  const report = await importBody(ndjson, 'application/x-ndjson');
  assert.equal(report.statusCode, 200, report.body);
  const data = report.json().data;
  assert.equal(data.imported, 1);
  assert.deepEqual(
    data.errors.map((error: any) => [error.line, error.reason]),
    [
      [2, 'fields.severity: must be one of low, high'],
      [3, 'fields.nope: unknown field "nope" in this project'],
    ],
  );
  const csv = [
    'external_id,subject,project,field.severity,field.impact,field.tags,field.urgent,field.due',
    'c-1,csv one,QRY,low,3.5,vip|press,true,2026-10-01',
    'c-2,csv two,QRY,low,lots,,,',
  ].join('\n');
  const csvReport = (await importBody(csv, 'text/csv')).json().data;
  assert.equal(csvReport.imported, 1);
  assert.match(csvReport.errors[0].reason, /fields\.impact: must be a finite number/);
  const imported = (await t.api.get(`/api/tickets?${q('field.impact:3.5')}`)).json().data;
  assert.equal(imported.length, 1);
  assert.deepEqual(imported[0].fields, { severity: 'low', impact: 3.5, tags: ['vip', 'press'], urgent: true, due: '2026-10-01' });
});
