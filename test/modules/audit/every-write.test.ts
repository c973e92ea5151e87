import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { unsafeMethods } from '../../../src/modules/auth/plugin.js';
import { testApp, type TestApp } from '../../helpers/app.js';

/**
 * Every write route of the route table, with a request that succeeds and the audit entries it must leave: each
 * change is recorded once, by its service, in the change's transaction (issue 21). A write route added later fails
 * the first test until it is listed here or among the routes that change nothing worth auditing.
 */

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.close());

type Fixture = {
  ticket: string;
  stage: string;
  project: string;
  /** A text field of the project, and a ticket in its workflow. */
  field: string;
  inProject: string;
  view: string;
  webhook: string;
  delivery: string;
  user: string;
  token: string;
};
type Expected = { status: number; action: string };
type Case = (f: Fixture) => Promise<{ res: { statusCode: number; body: string }; expect: Expected }>;

let n = 0;
const uid = (prefix: string) => `${prefix}${++n}`;
const json = (res: { json(): any }) => res.json();

/** Routes that change nothing that is audited: the actor's own preferences and subscriptions, and the public ones. */
const notAudited: Record<string, string> = {
  'PUT /api/me/notifications': "the caller's own mail preferences",
  'POST /api/tickets/:id/watchers': "the caller's own subscription",
  'DELETE /api/tickets/:id/watchers': "the caller's own subscription",
  'DELETE /api/tickets/:id/watchers/:userId': 'a subscription, not the ticket',
  'POST /api/views/:id/subscriptions': "the caller's own subscription",
  'DELETE /api/views/:id/subscriptions': "the caller's own subscription",
  'POST /api/notifications/unsubscribe': 'a mail link, no actor',
  'POST /api/ops/callback': "OPS's own report, recorded in the ticket's history and the OPS log",
  'POST /api/forecast/refresh': 'rebuilds derived models (also every 10 minutes), changes no record',
};

const cases: Record<string, Case> = {
  'POST /api/auth/login': async (f) => {
    const agent = await t.userClient('agent');
    void f;
    const res = await t.anonymous.post('/api/auth/login', { email: agent.user.email, password: agent.password });
    return { res, expect: { status: 200, action: 'auth.login' } };
  },
  'POST /api/auth/logout': async () => {
    const agent = await t.userClient('agent');
    const login = await t.anonymous.post('/api/auth/login', { email: agent.user.email, password: agent.password });
    const cookies = login.cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
    const csrf = login.cookies.find((cookie) => cookie.name === 'stageline_csrf')!.value;
    const res = await t.anonymous.request({ method: 'POST', url: '/api/auth/logout', headers: { cookie: cookies, 'x-csrf-token': csrf } });
    return { res, expect: { status: res.statusCode === 204 ? 204 : 200, action: 'auth.logout' } };
  },
  'POST /api/tokens': async () => ({
    res: await t.api.post('/api/tokens', { name: uid('k') }),
    expect: { status: 201, action: 'token.created' },
  }),
  'DELETE /api/tokens/:id': async (f) => ({
    res: await t.api.delete(`/api/tokens/${f.token}`),
    expect: { status: 200, action: 'token.revoked' },
  }),
  'POST /api/users': async () => ({
    res: await t.api.post('/api/users', { email: `${uid('u')}@users.example.com`, name: 'U', role: 'agent', password: 'password-long-1' }),
    expect: { status: 201, action: 'user.created' },
  }),
  'PATCH /api/users/:id': async (f) => ({
    res: await t.api.patch(`/api/users/${f.user}`, { name: uid('renamed ') }),
    expect: { status: 200, action: 'user.updated' },
  }),
  'DELETE /api/users/:id': async (f) => ({
    res: await t.api.delete(`/api/users/${f.user}`),
    expect: { status: 200, action: 'user.deleted' },
  }),

  'POST /api/tickets': async () => ({
    res: await t.api.post('/api/tickets', { subject: 'audited' }),
    expect: { status: 201, action: 'ticket.created' },
  }),
  'PUT /api/tickets/:id': async (f) => ({
    res: await t.api.put(`/api/tickets/${f.ticket}`, { subject: 'replaced' }),
    expect: { status: 200, action: 'ticket.updated' },
  }),
  'PATCH /api/tickets/:id': async (f) => ({
    res: await t.api.patch(`/api/tickets/${f.ticket}`, { priority: 'high' }),
    expect: { status: 200, action: 'ticket.updated' },
  }),
  'DELETE /api/tickets/:id': async (f) => ({
    res: await t.api.delete(`/api/tickets/${f.ticket}`),
    expect: { status: 200, action: 'ticket.deleted' },
  }),
  'POST /api/stages': async () => ({
    res: await t.api.post('/api/stages', { stage_type: 'major' }),
    expect: { status: 201, action: 'stage.created' },
  }),
  'PUT /api/stages/:id': async (f) => ({
    res: await t.api.put(`/api/stages/${f.stage}`, { stage_type: 'major', stage_description: 'put' }),
    expect: { status: 200, action: 'stage.updated' },
  }),
  'PATCH /api/stages/:id': async (f) => ({
    res: await t.api.patch(`/api/stages/${f.stage}`, { stage_description: 'patched' }),
    expect: { status: 200, action: 'stage.updated' },
  }),
  'DELETE /api/stages/:id': async (f) => ({
    res: await t.api.delete(`/api/stages/${f.stage}`),
    expect: { status: 200, action: 'stage.deleted' },
  }),

  'POST /api/projects': async () => ({
    res: await t.api.post('/api/projects', { key: uid('p'), name: 'P', stages: [{ key: 'intake', name: 'Intake', target_minutes: 60 }] }),
    expect: { status: 201, action: 'project.created' },
  }),
  'PUT /api/projects/:id': async (f) => ({
    res: await t.api.put(`/api/projects/${f.project}`, {
      key: f.project,
      name: 'Put',
      stages: [
        { key: 'intake', name: 'Intake', target_minutes: 60 },
        { key: 'fix', name: 'Fix', target_minutes: 60 },
      ],
    }),
    expect: { status: 200, action: 'project.updated' },
  }),
  'PATCH /api/projects/:id': async (f) => ({
    res: await t.api.patch(`/api/projects/${f.project}`, { name: 'Patched' }),
    expect: { status: 200, action: 'project.updated' },
  }),
  'POST /api/projects/:id/fields': async (f) => ({
    res: await t.api.post(`/api/projects/${f.project}/fields`, { key: uid('f'), label: 'F', type: 'text' }),
    expect: { status: 201, action: 'field.created' },
  }),
  'PATCH /api/projects/:id/fields/:key': async (f) => ({
    res: await t.api.patch(`/api/projects/${f.project}/fields/${f.field}`, { label: 'G' }),
    expect: { status: 200, action: 'field.updated' },
  }),
  'DELETE /api/projects/:id/fields/:key': async (f) => ({
    res: await t.api.delete(`/api/projects/${f.project}/fields/${f.field}`),
    expect: { status: 200, action: 'field.archived' },
  }),
  'POST /api/tickets/:id/transitions': async (f) => ({
    res: await t.api.post(`/api/tickets/${f.inProject}/transitions`, { to: 'fix' }),
    expect: { status: 200, action: 'ticket.transitioned' },
  }),
  'POST /api/tickets/:id/comments': async (f) => ({
    res: await t.api.post(`/api/tickets/${f.ticket}/comments`, { body: 'noted' }),
    expect: { status: 201, action: 'ticket.commented' },
  }),
  'POST /api/views': async () => ({
    res: await t.api.post('/api/views', { name: uid('v') }),
    expect: { status: 201, action: 'view.created' },
  }),
  'PUT /api/views/:id': async (f) => ({
    res: await t.api.put(`/api/views/${f.view}`, { name: uid('v') }),
    expect: { status: 200, action: 'view.updated' },
  }),
  'PATCH /api/views/:id': async (f) => ({
    res: await t.api.patch(`/api/views/${f.view}`, { query: 'status:open' }),
    expect: { status: 200, action: 'view.updated' },
  }),
  'DELETE /api/views/:id': async (f) => ({
    res: await t.api.delete(`/api/views/${f.view}`),
    expect: { status: 200, action: 'view.deleted' },
  }),
  'POST /api/ops/:id': async (f) => ({
    res: await t.api.post(`/api/ops/${f.ticket}?wait=false`),
    expect: { status: 202, action: 'ops.sent' },
  }),
  'POST /api/ops/:id/retry': async (f) => ({
    res: await t.api.post(`/api/ops/${f.ticket}/retry?wait=false&force=true`),
    expect: { status: 202, action: 'ops.retried' },
  }),
  'POST /api/import': async () => ({
    res: await t.api.request({
      method: 'POST',
      url: '/api/import',
      payload: JSON.stringify({ external_id: uid('imp'), subject: 'imported', customer_email: 'a@example.com' }),
      headers: { 'content-type': 'application/x-ndjson' },
    }),
    expect: { status: 200, action: 'ticket.imported' },
  }),
  'POST /api/webhooks': async () => ({
    res: await t.api.post('/api/webhooks', { url: 'https://hooks.example.com/a', events: ['*'] }),
    expect: { status: 201, action: 'webhook.created' },
  }),
  'PATCH /api/webhooks/:id': async (f) => ({
    res: await t.api.patch(`/api/webhooks/${f.webhook}`, { description: 'CRM' }),
    expect: { status: 200, action: 'webhook.updated' },
  }),
  'DELETE /api/webhooks/:id': async (f) => ({
    res: await t.api.delete(`/api/webhooks/${f.webhook}`),
    expect: { status: 200, action: 'webhook.deleted' },
  }),
  'POST /api/webhooks/:id/ping': async (f) => ({
    res: await t.api.post(`/api/webhooks/${f.webhook}/ping`),
    expect: { status: 202, action: 'webhook.pinged' },
  }),
  'POST /api/webhooks/:id/deliveries/:delivery/redeliver': async (f) => ({
    res: await t.api.post(`/api/webhooks/${f.webhook}/deliveries/${f.delivery}/redeliver`),
    expect: { status: 202, action: 'webhook.redelivered' },
  }),

  // The older systems' face: the same services, so the same entries.
  'POST /tickets': async () => ({
    res: await t.api.post('/tickets', { subject: 'legacy' }),
    expect: { status: 201, action: 'ticket.created' },
  }),
  'PUT /tickets/:id': async (f) => ({
    res: await t.api.put(`/tickets/${f.ticket}`, { subject: 'legacy put' }),
    expect: { status: 200, action: 'ticket.updated' },
  }),
  'DELETE /tickets/:id': async (f) => ({
    res: await t.api.delete(`/tickets/${f.ticket}`),
    expect: { status: 204, action: 'ticket.deleted' },
  }),
  'POST /stages': async () => ({
    res: await t.api.post('/stages', { stage_type: 'major' }),
    expect: { status: 201, action: 'stage.created' },
  }),
  'PUT /stages/:id': async (f) => ({
    res: await t.api.put(`/stages/${f.stage}`, { stage_type: 'major', stage_description: 'legacy put' }),
    expect: { status: 200, action: 'stage.updated' },
  }),
};

/** Fresh targets for each case, made before the count is taken (their own entries do not count). */
async function fixture(): Promise<Fixture> {
  const project = uid('wf');
  await t.api.post('/api/projects', {
    key: project,
    name: 'Workflow',
    new_tickets_enter_first_stage: true,
    stages: [
      { key: 'intake', name: 'Intake', target_minutes: 60 },
      { key: 'fix', name: 'Fix', target_minutes: 60 },
    ],
  });
  const webhook = json(await t.api.post('/api/webhooks', { url: 'https://hooks.example.com/f', events: ['*'] })).data.id;
  const user = await t.userClient('agent');
  return {
    ticket: (await t.create.ticket({ subject: 'target' })).id,
    stage: (await t.create.stage({ stage_type: 'major' })).id,
    project,
    field: json(await t.api.post(`/api/projects/${project}/fields`, { key: uid('f'), label: 'F', type: 'text' })).data.key,
    inProject: json(await t.api.post('/api/tickets', { subject: 'moves', project })).data.id,
    view: json(await t.api.post('/api/views', { name: uid('view') })).data.id,
    webhook,
    delivery: json(await t.api.post(`/api/webhooks/${webhook}/ping`)).data.id,
    user: user.user.id,
    token: json(await t.api.post('/api/tokens', { name: uid('t') })).data.id,
  };
}

async function auditCount(): Promise<number> {
  const row = await t.database.db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const writeRoutes = () => [
  ...new Set(t.app.protectedRoutes.filter((route) => unsafeMethods.has(route.method)).map((route) => `${route.method} ${route.url}`)),
];

test('every write route of the route table is either audited (with a case below) or listed as changing nothing audited', () => {
  const missing = writeRoutes().filter((route) => !(route in cases) && !(route in notAudited));
  assert.deepEqual(missing, [], 'add a case (or a reason in notAudited) for these write routes');
  const stale = [...Object.keys(cases), ...Object.keys(notAudited)].filter((route) => !writeRoutes().includes(route));
  assert.deepEqual(stale, [], 'these listed routes no longer exist');
});

for (const route of Object.keys(cases)) {
  test(`${route}: one audit entry per change, written with it`, async () => {
    const f = await fixture();
    const before = await auditCount();
    const { res, expect } = await cases[route](f);
    assert.equal(res.statusCode, expect.status, res.body);
    const added = await t.database.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(5).execute();
    const count = (await auditCount()) - before;
    // The login and logout cases sign a fresh user in first: that user's creation is theirs, not the route's.
    const own = added.slice(0, count).filter((entry) => entry.action === expect.action);
    assert.equal(own.length, 1, `${route} left ${JSON.stringify(added.slice(0, count).map((entry) => entry.action))}`);
    if (!route.startsWith('POST /api/auth/')) assert.equal(count, 1, `${route} left ${count} entries`);
  });
}
