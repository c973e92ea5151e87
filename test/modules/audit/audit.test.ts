import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { anonymousActor } from '../../../src/modules/access/policy.js';
import { testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.close());

type Entry = {
  id: number;
  action: string;
  actor_id: string | null;
  actor_name: string;
  actor_role: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  at: string;
};

async function entries(query = ''): Promise<Entry[]> {
  const res = await t.api.get(`/api/audit?limit=500${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().data;
}

test('logins, failures, tokens and user changes are recorded with actor, time, address and target', async () => {
  const admin = (await t.api.get('/api/me')).json().data.user;
  const agent = await t.userClient('agent');
  const login = (password: string) =>
    t.anonymous.request({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: agent.user.email, password },
      remoteAddress: '203.0.113.7',
    });
  assert.equal((await login('wrong-password')).statusCode, 401);
  assert.equal((await login(agent.password)).statusCode, 200);
  const token = (await agent.post('/api/tokens', { name: 'laptop' })).json().data;
  await agent.delete(`/api/tokens/${token.id}`);
  await t.api.patch(`/api/users/${agent.user.id}`, { role: 'viewer', disabled: true });

  const log = await entries(`&target_id=${agent.user.id}`);
  const actions = log.map((entry) => entry.action).reverse();
  assert.deepEqual(actions, ['user.created', 'auth.login_failed', 'auth.login', 'user.updated', 'user.disabled']);
  const failed = log.find((entry) => entry.action === 'auth.login_failed')!;
  assert.equal(failed.actor_name, 'anonymous');
  assert.equal(failed.ip, '203.0.113.7');
  assert.equal(failed.details.reason, 'wrong password');
  assert.equal(failed.at, t.clock.now().toISOString());
  const loggedIn = log.find((entry) => entry.action === 'auth.login')!;
  assert.equal(loggedIn.actor_id, agent.user.id);
  const updated = log.find((entry) => entry.action === 'user.updated')!;
  assert.equal(updated.actor_id, admin.id);
  assert.deepEqual(updated.details.role, { old: 'agent', new: 'viewer' });
  const tokenEntries = await entries(`&target_type=token&target_id=${token.id}`);
  assert.deepEqual(
    tokenEntries.map((entry) => entry.action),
    ['token.revoked', 'token.created'],
  );
  assert.equal(tokenEntries[0].actor_id, agent.user.id);
});

test('filters by action and actor, and by time; pages by cursor', async () => {
  const viewer = await t.userClient('viewer');
  const from = t.clock.now().toISOString();
  t.clock.advance(1000);
  for (let i = 0; i < 5; i++) await viewer.post('/api/tokens', { name: `k${i}` });
  const mine = await entries(`&action=token.created,token.revoked&actor_id=${viewer.user.id}`);
  assert.equal(mine.length, 5);
  assert.ok(mine.every((entry) => entry.action === 'token.created'));
  const pages: number[] = [];
  let cursor: string | null = null;
  do {
    const res = await t.api.get(`/api/audit?actor_id=${viewer.user.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    pages.push(res.json().data.length);
    cursor = res.json().page.next_cursor;
  } while (cursor);
  assert.deepEqual(pages, [2, 2, 1]);
  assert.equal((await entries(`&from=${encodeURIComponent(from)}&to=${encodeURIComponent(from)}`)).length, 0);
  assert.ok((await entries(`&from=${encodeURIComponent(from)}`)).length >= 5);
  assert.equal((await t.api.get('/api/audit?cursor=bm90LWEtY3Vyc29y')).statusCode, 400);
  assert.equal((await t.api.get('/api/audit?from=yesterday')).statusCode, 400);
});

test('only admins read it', async () => {
  for (const role of ['agent', 'viewer', 'customer'] as const) {
    assert.equal((await (await t.userClient(role)).get('/api/audit')).statusCode, 403, role);
  }
  assert.equal((await t.anonymous.get('/api/audit')).statusCode, 401);
});

test('other services record inside their transactions; anonymous callers appear as anonymous', async () => {
  await t.database.db.transaction().execute(async (tx) => {
    await t.app.services.audit.record(tx, {
      actor: anonymousActor('agent', '198.51.100.1'),
      action: 'ticket.deleted',
      target: { type: 'ticket', id: 'T-1' },
      details: { subject: 'gone' },
    });
  });
  const [entry] = await entries('&action=ticket.deleted');
  assert.equal(entry.actor_name, 'anonymous');
  assert.equal(entry.actor_role, 'agent');
  assert.equal(entry.ip, '198.51.100.1');
  await assert.rejects(
    t.database.db.transaction().execute(async (tx) => {
      await t.app.services.audit.record(tx, { actor: anonymousActor(), action: 'ticket.updated', target: { type: 'ticket', id: 'T-2' } });
      throw new Error('the change failed');
    }),
  );
  assert.equal((await entries('&action=ticket.updated')).length, 0, 'a rolled-back change leaves no entry');
});

test('the log is append-only, enforced by the database', async () => {
  await assert.rejects(sql`update audit_log set action = 'nothing'`.execute(t.database.db), /append-only/);
  await assert.rejects(sql`delete from audit_log`.execute(t.database.db), /append-only/);
  await assert.rejects(sql`truncate audit_log`.execute(t.database.db), /append-only/);
  assert.ok((await entries()).length > 0);
});

test('ticket and stage changes and deletions are recorded, on both faces, with the fields sent', async () => {
  const agent = await t.userClient('agent');
  const ticket = (await agent.post('/api/tickets', { subject: 'audited', priority: 'high' })).json().data;
  await agent.patch(`/api/tickets/${ticket.id}`, { priority: 'low' });
  const stage = (await agent.post('/stages', { stage_type: 'major', stage_description: 'legacy face' })).json();
  await agent.delete(`/api/tickets/${ticket.id}`);
  const ticketLog = await entries(`&target_type=ticket&target_id=${ticket.id}`);
  assert.deepEqual(
    ticketLog.map((entry) => entry.action),
    ['ticket.deleted', 'ticket.updated', 'ticket.created'],
  );
  assert.ok(ticketLog.every((entry) => entry.actor_id === agent.user.id));
  assert.deepEqual(ticketLog[1].details.fields, ['priority']);
  const [stageEntry] = await entries(`&target_type=stage&target_id=${stage.id}`);
  assert.equal(stageEntry.action, 'stage.created');
  assert.equal(stageEntry.actor_id, agent.user.id);
  assert.deepEqual(stageEntry.details.fields, ['stage_type', 'stage_description']);
  const refused = await (await t.userClient('viewer')).post('/api/tickets', { subject: 'not allowed' });
  assert.equal(refused.statusCode, 403);
  assert.equal((await entries('&action=ticket.created')).length, 1, 'refused writes change nothing and are not recorded as changes');
});

test('requests acting through ANONYMOUS_ROLE are recorded as anonymous', async () => {
  const open = await testApp({ ANONYMOUS_ROLE: 'agent' });
  try {
    const created = await open.anonymous.post('/tickets', { subject: 'from an old client' });
    assert.equal(created.statusCode, 201);
    const [entry] = (await open.api.get(`/api/audit?target_id=${created.json().id}`)).json().data;
    assert.equal(entry.action, 'ticket.created');
    assert.equal(entry.actor_name, 'anonymous');
    assert.equal(entry.actor_id, null);
    assert.equal(entry.actor_role, 'agent');
  } finally {
    await open.close();
  }
});
