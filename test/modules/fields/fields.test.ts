import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { supportWorkflow } from '../../helpers/fixtures.js';

let t: TestApp;
let userId: string;
before(async () => {
  t = await testApp();
  assert.equal((await t.api.post('/api/projects', supportWorkflow('SUP'))).statusCode, 201);
  assert.equal((await t.api.post('/api/projects', supportWorkflow('OPS'))).statusCode, 201);
  userId = (await t.userClient('agent')).user.id;
});
after(() => t.close());

const define = async (project: string, body: Record<string, unknown>) => {
  const res = await t.api.post(`/api/projects/${project}/fields`, body);
  assert.equal(res.statusCode, 201, res.body);
  return res.json().data;
};

const problemsOf = (res: { json(): any }) => res.json().error.details as { field: string; problem: string }[];

test('definitions: create, list in order, key rules, archive keeps the key taken', async () => {
  const field = await define('SUP', { key: 'severity', label: 'Severity', type: 'select', options: ['low', 'high'], show_on_card: true });
  assert.deepEqual(
    { key: field.key, type: field.type, options: field.options, required: field.required, archived_at: field.archived_at },
    { key: 'severity', type: 'select', options: ['low', 'high'], required: null, archived_at: null },
  );
  assert.equal((await t.api.post('/api/projects/SUP/fields', { key: 'Bad-Key', label: 'x', type: 'text' })).statusCode, 400);
  const noOptions = await t.api.post('/api/projects/SUP/fields', { key: 'tier', label: 'Tier', type: 'select' });
  assert.equal(noOptions.statusCode, 400);
  assert.equal(problemsOf(noOptions)[0].field, 'options');
  const badStage = await t.api.post('/api/projects/SUP/fields', { key: 'x', label: 'X', type: 'text', required: { leave_stage: 'nope' } });
  assert.equal(problemsOf(badStage)[0].field, 'required.leave_stage');
  assert.equal((await t.api.post('/api/projects/SUP/fields', { key: 'severity', label: 'Again', type: 'text' })).statusCode, 409);

  await define('SUP', { key: 'obsolete', label: 'Obsolete', type: 'text' });
  const archived = await t.api.delete('/api/projects/SUP/fields/obsolete');
  assert.equal(archived.statusCode, 200);
  assert.ok(archived.json().data.archived_at);
  const keys = async (query = '') => (await t.api.get(`/api/projects/SUP/fields${query}`)).json().data.map((f: any) => f.key);
  assert.ok(!(await keys()).includes('obsolete'));
  assert.ok((await keys('?include_archived=true')).includes('obsolete'));
  assert.equal((await t.api.post('/api/projects/SUP/fields', { key: 'obsolete', label: 'x', type: 'text' })).statusCode, 409);
  const ticket = await t.create.ticket({ project: 'SUP' });
  const refused = await t.api.patch(`/api/tickets/${ticket.id}`, { fields: { obsolete: 'x' } });
  assert.equal(refused.statusCode, 400);
  assert.deepEqual(problemsOf(refused), [{ field: 'fields.obsolete', problem: 'field "obsolete" is archived' }]);
  // Only admins define fields.
  const agent = await t.userClient('agent');
  assert.equal((await agent.post('/api/projects/SUP/fields', { key: 'zz', label: 'Z', type: 'text' })).statusCode, 403);
  assert.equal((await agent.get('/api/projects/SUP/fields')).statusCode, 200);
});

const typeCases: { type: string; options?: string[]; valid: unknown[]; invalid: unknown[]; stored?: [unknown, unknown] }[] = [
  { type: 'text', valid: ['hello'], invalid: [3, '', 'x'.repeat(501)] },
  { type: 'long_text', valid: ['line\nline'], invalid: [true, 'x'.repeat(20_001)] },
  { type: 'number', valid: [3, -1.5, 0], invalid: ['3', [1], true] },
  { type: 'date', valid: ['2026-12-01'], invalid: ['2026-02-30', '2026-12-01T00:00:00Z', 20261201] },
  {
    type: 'datetime',
    valid: ['2026-12-01T10:00:00.000Z'],
    invalid: ['2026-12-01', 'soon'],
    stored: ['2026-12-01T12:00:00+02:00', '2026-12-01T10:00:00.000Z'],
  },
  { type: 'select', options: ['a', 'b'], valid: ['a'], invalid: ['c', ['a']] },
  { type: 'multi_select', options: ['a', 'b'], valid: [['a', 'b']], invalid: ['a', ['a', 'c'], ['a', 'a']] },
  { type: 'checkbox', valid: [true, false], invalid: ['true', 1] },
  { type: 'url', valid: ['https://example.com/x'], invalid: ['ftp://example.com', 'example.com'] },
  { type: 'email', valid: ['a@example.com'], invalid: ['not-an-email'] },
  { type: 'user', valid: [], invalid: ['no-such-user', 5] },
];

test('every type: valid values stored, invalid ones named, null clears, unknown keys refused', async () => {
  for (const c of typeCases) {
    await define('OPS', { key: `f_${c.type}`, label: `F ${c.type}`, type: c.type, ...(c.options ? { options: c.options } : {}) });
  }
  typeCases.find((c) => c.type === 'user')!.valid.push(userId);
  const ticket = await t.create.ticket({ project: 'OPS' });
  for (const c of typeCases) {
    const key = `f_${c.type}`;
    for (const value of c.valid) {
      const res = await t.api.patch(`/api/tickets/${ticket.id}`, { fields: { [key]: value } });
      assert.equal(res.statusCode, 200, `${c.type} ${JSON.stringify(value)}: ${res.body}`);
      assert.deepEqual(res.json().data.fields[key], value);
    }
    for (const value of c.invalid) {
      const res = await t.api.patch(`/api/tickets/${ticket.id}`, { fields: { [key]: value } });
      assert.equal(res.statusCode, 400, `${c.type} ${JSON.stringify(value)} should be refused`);
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
      assert.equal(problemsOf(res)[0].field, `fields.${key}`);
    }
    if (c.stored) {
      const res = await t.api.patch(`/api/tickets/${ticket.id}`, { fields: { [key]: c.stored[0] } });
      assert.equal(res.json().data.fields[key], c.stored[1]);
    }
    const cleared = await t.api.patch(`/api/tickets/${ticket.id}`, { fields: { [key]: null } });
    assert.equal(cleared.statusCode, 200);
    assert.ok(!(key in cleared.json().data.fields), `${c.type} cleared`);
  }
  const unknown = await t.api.patch(`/api/tickets/${ticket.id}`, { fields: { nope: 1 } });
  assert.equal(unknown.statusCode, 400);
  assert.deepEqual(problemsOf(unknown), [{ field: 'fields.nope', problem: 'unknown field "nope" in this project' }]);
  const noProject = await t.api.post('/api/tickets', { subject: 'x', fields: { f_text: 'x' } });
  assert.equal(noProject.statusCode, 400);
  assert.equal(problemsOf(noProject)[0].field, 'fields.f_text');
});

test('defaults apply on create; required always is a 400 naming the field; history names the label', async () => {
  await define('OPS', { key: 'channel', label: 'Channel', type: 'select', options: ['mail', 'phone'], default: 'mail' });
  await define('OPS', { key: 'impact', label: 'Impact', type: 'number', required: 'always' });
  const missing = await t.api.post('/api/tickets', { subject: 'x', project: 'OPS' });
  assert.equal(missing.statusCode, 400);
  assert.deepEqual(problemsOf(missing), [{ field: 'fields.impact', problem: 'Impact is required' }]);
  const created = await t.api.post('/api/tickets', { subject: 'x', project: 'OPS', fields: { impact: 2 } });
  assert.equal(created.statusCode, 201, created.body);
  assert.deepEqual(created.json().data.fields, { channel: 'mail', impact: 2 });
  const id = created.json().data.id;
  const cleared = await t.api.patch(`/api/tickets/${id}`, { fields: { impact: null } });
  assert.equal(cleared.statusCode, 400);
  await t.api.patch(`/api/tickets/${id}`, { fields: { impact: 5, channel: 'phone' } });
  const history = (await t.api.get(`/api/tickets/${id}/history`)).json().data;
  const change = history.find((event: any) => event.data?.field === 'fields.impact');
  assert.deepEqual({ label: change.data.label, old: change.data.old, new: change.data.new }, { label: 'Impact', old: 2, new: 5 });
  // The older face knows nothing of fields.
  const legacy = (await t.api.get(`/tickets/${id}`)).json();
  assert.ok(!JSON.stringify(legacy).includes('"fields"'));
  await t.api.patch('/api/projects/OPS/fields/impact', { required: null });
});

test('changing a type is refused with the count of tickets in the way, else converts', async () => {
  await define('SUP', { key: 'code', label: 'Code', type: 'text' });
  const a = await t.create.ticket({ project: 'SUP', fields: { code: '42' } });
  const b = await t.create.ticket({ project: 'SUP', fields: { code: 'abc' } });
  const c = await t.create.ticket({ project: 'SUP', fields: { code: 'xyz' } });
  const refused = await t.api.patch('/api/projects/SUP/fields/code', { type: 'number' });
  assert.equal(refused.statusCode, 409);
  assert.match(refused.json().message, /2 ticket\(s\)/);
  await t.api.patch(`/api/tickets/${b.id}`, { fields: { code: null } });
  await t.api.patch(`/api/tickets/${b.id}`, { fields: { code: '7' } });
  await t.api.patch(`/api/tickets/${c.id}`, { fields: { code: '8' } });
  const changed = await t.api.patch('/api/projects/SUP/fields/code', { type: 'number' });
  assert.equal(changed.statusCode, 200, changed.body);
  assert.equal((await t.api.get(`/api/tickets/${a.id}`)).json().data.fields.code, 42);
  assert.equal((await t.api.patch('/api/projects/SUP/fields/code', { key: 'other' })).statusCode, 400);
});

test('stage gates: 409 FIELDS_REQUIRED naming the fields, passing once set, or with fields in the move', async () => {
  await define('SUP', { key: 'root_cause', label: 'Root cause', type: 'long_text', required: { leave_stage: 'diagnosis' } });
  await define('SUP', { key: 'resolution', label: 'Resolution', type: 'text', required: 'final' });
  const ticket = await t.create.ticket({ project: 'SUP' });
  const move = (to: string, extra: Record<string, unknown> = {}) => t.api.post(`/api/tickets/${ticket.id}/transitions`, { to, ...extra });
  assert.equal((await move('diagnosis')).statusCode, 200);
  // Moving inside Diagnosis leaves no Diagnosis.
  assert.equal((await move('reproduce')).statusCode, 200);
  const blocked = await move('fix');
  assert.equal(blocked.statusCode, 409);
  assert.equal(blocked.json().error.code, 'FIELDS_REQUIRED');
  assert.deepEqual(problemsOf(blocked), [{ field: 'fields.root_cause', problem: 'required to leave stage "Diagnosis"' }]);
  const bad = await move('fix', { fields: { root_cause: 5 } });
  assert.equal(bad.statusCode, 400);
  const moved = await move('fix', { fields: { root_cause: 'A loose cable' } });
  assert.equal(moved.statusCode, 200, moved.body);
  assert.equal(moved.json().data.ticket.fields.root_cause, 'A loose cable');
  const final = await move('closed');
  assert.equal(final.statusCode, 409);
  assert.deepEqual(problemsOf(final), [{ field: 'fields.resolution', problem: 'required to enter final stage "Closed"' }]);
  await t.api.patch(`/api/tickets/${ticket.id}`, { fields: { resolution: 'Replaced' } });
  assert.equal((await move('closed')).statusCode, 200);
});

test('customers see and set only customer_visible fields', async () => {
  await define('OPS', { key: 'contract', label: 'Contract', type: 'text', customer_visible: true });
  await define('OPS', { key: 'internal_note', label: 'Internal', type: 'text' });
  const customer = await t.userClient('customer', { customerEmails: ['c@example.com'] });
  const ticket = await t.create.ticket({
    project: 'OPS',
    customer_email: 'c@example.com',
    fields: { contract: 'gold', internal_note: 'vip', impact: 1 },
  });
  const seen = (await customer.get(`/api/tickets/${ticket.id}`)).json().data.fields;
  assert.deepEqual(seen, { contract: 'gold' });
  const listed = (await customer.get('/api/tickets')).json().data.find((row: any) => row.id === ticket.id);
  assert.deepEqual(listed.fields, { contract: 'gold' });
  const defs = (await customer.get('/api/projects/OPS/fields')).json().data.map((f: any) => f.key);
  assert.deepEqual(defs, ['contract']);
  const refused = await customer.post('/api/tickets', { subject: 'x', project: 'OPS', fields: { internal_note: 'x' } });
  assert.equal(refused.statusCode, 400);
  assert.equal(problemsOf(refused)[0].field, 'fields.internal_note');
  const own = await customer.post('/api/tickets', { subject: 'x', project: 'OPS', fields: { contract: 'silver' } });
  assert.equal(own.statusCode, 201, own.body);
  assert.deepEqual(own.json().data.fields, { contract: 'silver' });
  // The staff see the default the customer could not.
  assert.equal((await t.api.get(`/api/tickets/${own.json().data.id}`)).json().data.fields.channel, 'mail');
});
