import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.close());

let n = 0;
const email = () => `person${++n}@example.com`;

describe('users API (admin)', () => {
  test('create, get, list, patch, delete', async () => {
    const created = await t.api.post('/api/users', {
      email: 'Ada@Example.com',
      name: 'Ada',
      role: 'agent',
      password: 'correct horse battery',
    });
    assert.equal(created.statusCode, 201, created.body);
    const user = created.json().data;
    assert.equal(user.email, 'ada@example.com', 'emails are kept in lower case');
    assert.equal(user.role, 'agent');
    assert.equal(user.disabled, false);
    assert.equal(user.password, undefined);
    assert.equal(user.password_hash, undefined);

    assert.equal((await t.api.get(`/api/users/${user.id}`)).json().data.name, 'Ada');
    const list = await t.api.get('/api/users?q=ADA&limit=10');
    assert.deepEqual(
      list.json().data.map((u: { email: string }) => u.email),
      ['ada@example.com'],
    );

    const patched = await t.api.patch(`/api/users/${user.id}`, { role: 'viewer', name: 'Ada L.', version: user.version });
    assert.equal(patched.statusCode, 200);
    assert.equal(patched.json().data.role, 'viewer');
    assert.equal(patched.json().data.version, user.version + 1);
    const stale = await t.api.patch(`/api/users/${user.id}`, { name: 'x', version: user.version });
    assert.equal(stale.statusCode, 412);

    const deleted = await t.api.delete(`/api/users/${user.id}`);
    assert.equal(deleted.statusCode, 200);
    assert.equal((await t.api.get(`/api/users/${user.id}`)).statusCode, 404);
    assert.equal((await t.api.delete(`/api/users/${user.id}`)).statusCode, 404);
  });

  test('list pages by cursor and filters by role', async () => {
    for (let i = 0; i < 5; i++) await t.api.post('/api/users', { email: `pager${i}@example.com`, role: 'viewer' });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.api.get(`/api/users?role=viewer&q=pager&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.statusCode, 200);
      seen.push(...res.json().data.map((u: { email: string }) => u.email));
      cursor = res.json().page.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, ['pager0@example.com', 'pager1@example.com', 'pager2@example.com', 'pager3@example.com', 'pager4@example.com']);
    assert.equal((await t.api.get('/api/users?cursor=garbage')).statusCode, 400);
  });

  test('a taken email is 409', async () => {
    const address = email();
    assert.equal((await t.api.post('/api/users', { email: address, role: 'viewer' })).statusCode, 201);
    assert.equal((await t.api.post('/api/users', { email: address.toUpperCase(), role: 'agent' })).statusCode, 409);
  });

  test('a customer sees their own email by default, or the organisation’s emails given', async () => {
    const solo = await t.api.post('/api/users', { email: 'solo@shop.example', role: 'customer' });
    assert.deepEqual(solo.json().data.customer_emails, ['solo@shop.example']);
    const org = await t.api.post('/api/users', {
      email: 'buyer@org.example',
      role: 'customer',
      customer_emails: ['Ops@Org.example', 'billing@org.example'],
    });
    assert.deepEqual(org.json().data.customer_emails, ['ops@org.example', 'billing@org.example']);
    const none = await t.api.patch(`/api/users/${org.json().data.id}`, { customer_emails: [] });
    assert.equal(none.statusCode, 400);
    assert.equal(none.json().error.details[0].field, 'customer_emails');
    const promoted = await t.api.patch(`/api/users/${org.json().data.id}`, { role: 'agent' });
    assert.deepEqual(promoted.json().data.customer_emails, []);
    const demoted = await t.api.patch(`/api/users/${promoted.json().data.id}`, { role: 'customer' });
    assert.deepEqual(demoted.json().data.customer_emails, ['buyer@org.example']);
  });

  test('the last active admin cannot be disabled, demoted or deleted', async () => {
    const me = (await t.api.get('/api/me')).json().data.user;
    const others = (await t.api.get('/api/users?role=admin'))
      .json()
      .data.filter((u: { id: string; disabled: boolean }) => u.id !== me.id && !u.disabled);
    for (const other of others) await t.api.patch(`/api/users/${other.id}`, { disabled: true });
    assert.equal((await t.api.patch(`/api/users/${me.id}`, { disabled: true })).statusCode, 409);
    assert.equal((await t.api.patch(`/api/users/${me.id}`, { role: 'agent' })).statusCode, 409);
    assert.equal((await t.api.delete(`/api/users/${me.id}`)).statusCode, 409);
    const second = await t.api.post('/api/users', { email: email(), role: 'admin' });
    assert.equal((await t.api.delete(`/api/users/${second.json().data.id}`)).statusCode, 200, 'another admin can go while one remains');
  });

  test('bad input names the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ role: 'agent' }, 'email'],
      [{ email: 'not-an-email', role: 'agent' }, 'email'],
      [{ email: email(), role: 'root' }, 'role'],
      [{ email: email(), role: 'agent', password: 'short' }, 'password'],
      [{ email: email(), role: 'agent', is_admin: true }, 'is_admin'],
    ];
    for (const [body, field] of cases) {
      const res = await t.api.post('/api/users', body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.ok(
        res.json().error.details.some((d: { field: string }) => d.field === field),
        `${JSON.stringify(body)} → ${res.body}`,
      );
    }
  });
});

describe('API tokens', () => {
  test('created once with the secret, listed without it, revoked for good', async () => {
    const agent = await t.userClient('agent');
    const created = await agent.post('/api/tokens', { name: 'ci', scope: 'read' });
    assert.equal(created.statusCode, 201);
    const token = created.json().data;
    assert.match(token.token, /^stl_[A-Za-z0-9_-]{43}$/);
    assert.equal(token.prefix, token.token.slice(0, 8));
    const list = await agent.get('/api/tokens');
    assert.ok(list.json().data.some((row: { id: string }) => row.id === token.id));
    assert.ok(!list.body.includes(token.token), 'the secret is never shown again');

    const readOnly = t.as({ authorization: `Bearer ${token.token}` });
    assert.equal((await readOnly.get('/api/me')).json().data.scope, 'read');
    assert.equal((await readOnly.post('/api/tokens', { name: 'escalate' })).statusCode, 403, 'a read-only token cannot write');
    assert.equal((await readOnly.post('/api/tickets', { subject: 'x' })).statusCode, 403);
    assert.equal((await readOnly.get('/api/tickets')).statusCode, 200);

    assert.equal((await agent.delete(`/api/tokens/${token.id}`)).statusCode, 200);
    assert.equal((await readOnly.get('/api/me')).statusCode, 401);
    assert.equal((await agent.delete(`/api/tokens/${token.id}`)).statusCode, 404);
  });

  test('last_used_at is recorded; an expired token stops working', async () => {
    const viewer = await t.userClient('viewer');
    const created = (
      await viewer.post('/api/tokens', { name: 'short', expires_at: new Date(t.clock.now().getTime() + 60_000).toISOString() })
    ).json().data;
    const client = t.as({ authorization: `Bearer ${created.token}` });
    assert.equal((await client.get('/api/me')).statusCode, 200);
    const row = (await viewer.get('/api/tokens')).json().data.find((r: { id: string }) => r.id === created.id);
    assert.equal(row.last_used_at, t.clock.now().toISOString());
    t.clock.advance(61_000);
    assert.equal((await client.get('/api/me')).statusCode, 401);
    const past = await viewer.post('/api/tokens', { name: 'past', expires_at: '2000-01-01T00:00:00Z' });
    assert.equal(past.statusCode, 400);
    assert.equal(past.json().error.details[0].field, 'expires_at');
  });

  test("only admins make or see other users' tokens; others' tokens are 404 to revoke", async () => {
    const a = await t.userClient('agent');
    const b = await t.userClient('agent');
    assert.equal((await a.post('/api/tokens', { name: 'for b', user_id: b.user.id })).statusCode, 403);
    assert.equal((await a.get(`/api/tokens?user_id=${b.user.id}`)).statusCode, 403);
    const bToken = (await b.post('/api/tokens', { name: 'b' })).json().data;
    assert.equal((await a.delete(`/api/tokens/${bToken.id}`)).statusCode, 404);
    assert.equal((await t.api.get(`/api/tokens?user_id=${b.user.id}`)).json().data.length, 2);
    assert.equal((await t.api.delete(`/api/tokens/${bToken.id}`)).statusCode, 200);
  });

  test('tokens page by cursor', async () => {
    const viewer = await t.userClient('viewer');
    t.clock.advance(1000);
    for (let i = 0; i < 4; i++) {
      await viewer.post('/api/tokens', { name: `t${i}` });
      t.clock.advance(1000);
    }
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await viewer.get(`/api/tokens?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      names.push(...res.json().data.map((row: { name: string }) => row.name));
      cursor = res.json().page.next_cursor;
    } while (cursor);
    assert.deepEqual(names, ['t3', 't2', 't1', 't0', 'test']);
  });
});

describe('fuzz: account write routes answer only 2xx/4xx with the error shape', () => {
  const junk: unknown[] = [
    null,
    [],
    'text',
    42,
    { email: 123 },
    { email: 'a@b.co', role: ['admin'] },
    { email: 'x'.repeat(5000) + '@b.co', role: 'agent' },
    { email: 'a@b.co', role: 'agent', customer_emails: 'nope' },
    { name: '' },
    { disabled: 'yes' },
    { password: null },
    { version: -1 },
    { scope: 'write' },
    { expires_at: 'tomorrow' },
    { user_id: {} },
    { password: 'p'.repeat(300) },
    { email: 'a@b.co\u0000', role: 'agent' },
    { __proto__: { role: 'admin' } },
  ];
  const ids = ['nope', '1', '../etc/passwd', '%00', 'a'.repeat(90), "' or 1=1 --"];

  test('POST/PATCH/DELETE with random bodies, ids and headers', async () => {
    const target = (await t.api.post('/api/users', { email: email(), role: 'viewer' })).json().data;
    const requests: { method: 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: unknown; headers?: Record<string, string> }[] = [];
    for (const body of junk) {
      requests.push({ method: 'POST', url: '/api/users', payload: body });
      requests.push({ method: 'PATCH', url: `/api/users/${target.id}`, payload: body });
      requests.push({ method: 'POST', url: '/api/tokens', payload: body });
      requests.push({ method: 'POST', url: '/api/auth/login', payload: body });
    }
    for (const id of ids) {
      requests.push({ method: 'PATCH', url: `/api/users/${encodeURIComponent(id)}`, payload: { name: 'x' } });
      requests.push({ method: 'DELETE', url: `/api/users/${encodeURIComponent(id)}` });
      requests.push({ method: 'DELETE', url: `/api/tokens/${encodeURIComponent(id)}` });
    }
    for (const headers of [
      { 'content-type': 'text/plain' } as Record<string, string>,
      { 'content-type': 'application/json', 'x-csrf-token': '\u00ff' },
      { authorization: 'Bearer ' },
    ]) {
      requests.push({ method: 'POST', url: '/api/users', payload: '{"email":', headers });
      requests.push({ method: 'POST', url: '/api/auth/login', payload: '{{{', headers });
    }
    for (const request of requests) {
      const payload =
        request.payload === undefined
          ? {}
          : { payload: typeof request.payload === 'string' ? request.payload : JSON.stringify(request.payload) };
      const res = await t.api.request({
        method: request.method,
        url: request.url,
        ...payload,
        headers: { 'content-type': 'application/json', ...request.headers },
      });
      const what = `${request.method} ${request.url} ${JSON.stringify(request.payload)?.slice(0, 80)} → ${res.statusCode} ${res.body.slice(0, 200)}`;
      assert.ok(res.statusCode < 500, what);
      if (res.statusCode >= 400) {
        const body = res.json();
        assert.equal(body.success, false, what);
        assert.equal(typeof body.error.code, 'string', what);
        assert.ok(Array.isArray(body.error.details), what);
      }
    }
    const after = (await t.api.get(`/api/users/${target.id}`)).json().data;
    assert.equal(after.role, 'viewer', 'no junk request changed the role');
  });
});

describe('demo users', () => {
  test('one per role, idempotent, each can sign in', async () => {
    const { createDemoUsers, demoUsers } = await import('../../../src/modules/users/demo.js');
    await createDemoUsers(t.app.services.users, t.app.log, ['demo-customer@example.com']);
    await createDemoUsers(t.app.services.users, t.app.log);
    for (const demo of demoUsers) {
      const res = await t.anonymous.post('/api/auth/login', { email: demo.email, password: demo.password });
      assert.equal(res.statusCode, 200, demo.email);
      assert.equal(res.json().data.user.role, demo.role);
    }
    const customer = (await t.api.get('/api/users?role=customer&q=demo.stageline')).json().data[0];
    assert.deepEqual(customer.customer_emails, ['demo-customer@example.com']);
  });
});
