import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { supportWorkflow } from '../../helpers/fixtures.js';

// Sorting a list by a custom field (issue 25): numbers by value, text and dates by text, nulls last both ways, a keyset
// cursor that walks every ticket once; saved views keep field columns and a field sort.
let t: TestApp;
const byNumber: Record<number, string> = {};
before(async () => {
  t = await testApp();
  assert.equal((await t.api.post('/api/projects', supportWorkflow('SRT'))).statusCode, 201);
  for (const field of [
    { key: 'impact', label: 'Impact', type: 'number' },
    { key: 'due', label: 'Due', type: 'date' },
    { key: 'team', label: 'Team', type: 'text', customer_visible: true },
    { key: 'secret', label: 'Secret', type: 'text' },
  ]) {
    const res = await t.api.post('/api/projects/SRT/fields', field);
    assert.equal(res.statusCode, 201, res.body);
  }
  // Impacts with ties, a fraction and a negative, so the keyset must break ties by id; two tickets with no value.
  const tickets: [string, Record<string, unknown>][] = [
    ['a', { impact: 10, due: '2026-12-01', team: 'ops' }],
    ['b', { impact: 2, due: '2027-01-15', team: 'billing' }],
    ['c', { impact: 2.5, team: 'ops' }],
    ['d', { impact: -1, due: '2026-01-02' }],
    ['e', {}],
    ['f', { impact: 2, due: '2026-06-30', team: 'core' }],
    ['g', { secret: 'x' }],
  ];
  for (const [name, fields] of tickets) {
    const ticket = await t.create.ticket({ subject: `sort ${name}`, project: 'SRT', customer_email: 's@example.com', fields });
    byNumber[ticket.number] = name;
  }
});
after(() => t.close());

/** Every page of the list, walked with the cursor `limit` at a time. */
async function walk(query: string, limit: number, client = t.api): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await client.get(`/api/tickets?project=SRT&limit=${limit}&${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.statusCode, 200, res.body);
    names.push(...res.json().data.map((ticket: { number: number }) => byNumber[ticket.number]));
    cursor = res.json().page.next_cursor;
  } while (cursor);
  return names;
}

test('sort=field.<key> orders numbers by value, nulls last both ways, and the cursor walks each ticket once', async () => {
  for (const limit of [1, 2, 3, 50]) {
    const up = await walk('sort=field.impact', limit);
    assert.deepEqual(up.slice(0, 1), ['d'], `limit ${limit}`);
    assert.deepEqual(new Set(up.slice(1, 3)), new Set(['b', 'f']), `the two 2s, limit ${limit}`);
    assert.deepEqual(up.slice(3, 5), ['c', 'a'], `limit ${limit}`);
    assert.deepEqual(new Set(up.slice(5)), new Set(['e', 'g']), `nulls last, limit ${limit}`);
    assert.equal(up.length, 7);
    const down = await walk('sort=-field.impact', limit);
    assert.deepEqual(down.slice(0, 2), ['a', 'c'], `limit ${limit}`);
    assert.deepEqual(new Set(down.slice(2, 4)), new Set(['b', 'f']));
    assert.equal(down[4], 'd');
    assert.deepEqual(new Set(down.slice(5)), new Set(['e', 'g']), `nulls last descending too, limit ${limit}`);
  }
});

test('dates sort in time order and text by its value', async () => {
  assert.deepEqual((await walk('sort=field.due', 2)).slice(0, 4), ['d', 'f', 'a', 'b']);
  assert.deepEqual((await walk('sort=-field.due', 2)).slice(0, 4), ['b', 'a', 'f', 'd']);
  const teams = await walk('sort=field.team', 2);
  assert.deepEqual(teams.slice(0, 2), ['b', 'f']);
  assert.deepEqual(new Set(teams.slice(2, 4)), new Set(['a', 'c']));
  assert.deepEqual(new Set(teams.slice(4)), new Set(['d', 'e', 'g']));
});

test('an unknown field, or one a customer may not see, is a 400 naming it', async () => {
  const res = await t.api.get('/api/tickets?sort=field.nope');
  assert.equal(res.statusCode, 400);
  assert.deepEqual(res.json().error.details[0].field, 'sort');
  assert.match(res.json().error.details[0].problem, /nope/);
  assert.equal((await t.api.get('/api/tickets?sort=field.Bad-Key')).statusCode, 400);
  const customer = await t.userClient('customer', { customerEmails: ['s@example.com'] });
  const secret = await customer.get('/api/tickets?sort=field.secret');
  assert.equal(secret.statusCode, 400);
  assert.match(secret.json().error.details[0].problem, /secret/);
  const mine = await walk('sort=-field.team', 1, customer);
  assert.deepEqual([new Set(mine.slice(0, 2)), mine[2], mine[3]], [new Set(['a', 'c']), 'f', 'b']);
  // The older face keeps its wire format: no field sort there.
  assert.equal((await t.api.get('/tickets?sort=field.impact')).statusCode, 400);
});

test('export sorts by a field too', async () => {
  const res = await t.api.get('/api/tickets/export?format=csv&project=SRT&columns=subject,field.impact&sort=-field.impact');
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(res.body.trim().split('\n').slice(1, 3), ['sort a,10', 'sort c,2.5']);
});

test('saved views keep field columns and a field sort, and apply the sort', async () => {
  const created = await t.api.post('/api/views', {
    name: 'By impact',
    query: '',
    sort: '-field.impact',
    columns: ['number', 'subject', 'field.impact', 'field.due'],
  });
  assert.equal(created.statusCode, 201, created.body);
  const view = created.json().data;
  assert.equal(view.sort, '-field.impact');
  assert.deepEqual(view.columns, ['number', 'subject', 'field.impact', 'field.due']);
  assert.deepEqual((await t.api.get(`/api/views/${view.id}`)).json().data.columns, ['number', 'subject', 'field.impact', 'field.due']);
  assert.deepEqual((await walk(`view=${view.id}`, 2)).slice(0, 2), ['a', 'c']);
  const patched = await t.api.patch(`/api/views/${view.id}`, { sort: 'field.due', columns: ['field.team'] });
  assert.equal(patched.statusCode, 200, patched.body);
  assert.deepEqual([patched.json().data.sort, patched.json().data.columns], ['field.due', ['field.team']]);
  assert.deepEqual((await walk(`view=${view.id}`, 3)).slice(0, 2), ['d', 'f']);

  const unknownSort = await t.api.post('/api/views', { name: 'x', sort: 'field.nope' });
  assert.equal(unknownSort.statusCode, 400);
  assert.match(unknownSort.json().error.details[0].problem, /nope/);
  const unknownColumn = await t.api.post('/api/views', { name: 'x', columns: ['field.nope'] });
  assert.equal(unknownColumn.statusCode, 400);
  assert.deepEqual(unknownColumn.json().error.details[0], { field: 'columns', problem: 'no field "nope" to show (field.nope)' });
  assert.equal((await t.api.post('/api/views', { name: 'x', columns: ['field.Bad'] })).statusCode, 400);
});
