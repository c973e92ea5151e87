import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { Role } from '../../../src/modules/access/policy.js';
import { ruleAction, type AccessRule } from '../../../src/modules/access/route-access.js';
import type { ProtectedRoute } from '../../../src/modules/auth/plugin.js';
import { testApp, type Client, type TestApp } from '../../helpers/app.js';

/**
 * Every route × every kind of caller. Routes are discovered from the app itself, so a route added later is
 * walked too — and fails the first test until it declares how it is protected.
 */

/**
 * What each role may do, written out from the issue independently of policy.ts (so a wrong rule there fails here):
 * admin everything; agent everything but users, audit and settings; viewer reads (and their own tokens); customer
 * their own tickets. A read-only token only reads.
 */
const adminOnly = [
  'user:read',
  'user:manage',
  'audit:read',
  'project:write',
  'ticket:import',
  'settings:read',
  'settings:write',
  // Webhooks receive every event, internal ones included.
  'webhook:read',
  'webhook:manage',
  // Every mail sent, bodies included.
  'mail:read',
];
/** Saved views: everybody signed in keeps their own. */
const ownViews = ['view:read', 'view:write'];
const customerMay = ['ticket:read', 'ticket:create', 'ticket:comment', 'stage:read', 'account:read', 'account:write', ...ownViews];
function allowed(role: Role, scope: 'read' | 'read-write', action: string): boolean {
  if (scope === 'read' && !action.endsWith(':read')) return false;
  switch (role) {
    case 'admin':
      return true;
    case 'agent':
      return !adminOnly.includes(action);
    case 'viewer':
      return (action.endsWith(':read') || action === 'account:write' || ownViews.includes(action)) && !adminOnly.includes(action);
    case 'customer':
      return customerMay.includes(action);
  }
}

type Caller = { role: Role; scope: 'read' | 'read-write' };
type Identity = { name: string; client: Client; actor: Caller | 'rejected' | 'none' };

const actorOf = (role: Role, scope: 'read' | 'read-write' = 'read-write'): Caller => ({ role, scope });

function routesOf(t: TestApp): ProtectedRoute[] {
  const seen = new Set<string>();
  return t.app.protectedRoutes.filter((route) => {
    const key = `${route.method} ${route.url}`;
    if (route.method === 'HEAD' || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Server-Sent Events never end, so inject would wait forever; the events module tests its stream itself. */
const isStream = (route: ProtectedRoute) => JSON.stringify(route.schema ?? {}).includes('text/event-stream');

function send(client: Client, route: ProtectedRoute): Promise<LightMyRequestResponse> {
  const url = route.url.replace(/:[A-Za-z_]+/g, 'matrix-missing-1').replace(/\*$/, 'x');
  const withBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
  const request = client.request({ method: route.method as 'GET', url, ...(withBody ? { payload: {} } : {}) });
  // A route that never answers must fail this test, not hang it.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${route.method} ${url} did not answer within 10 s`)), 10_000);
  });
  return Promise.race([request, timeout]).finally(() => clearTimeout(timer));
}

/** (503: a dependency such as the unbuilt dashboard is missing, not a bug; 500 is.) A 401 from the authentication layer (a route may answer 401 for reasons of its own, e.g. a bad signature). */
const refusedByAuth = (res: LightMyRequestResponse) =>
  res.statusCode === 401 && res.headers['www-authenticate'] === 'Bearer realm="stageline"';
const forbiddenByPolicy = (res: LightMyRequestResponse) => res.statusCode === 403 && res.json().error?.code === 'FORBIDDEN';

function expectation(rule: AccessRule, identity: Identity, anonymousRole: Role | null): 'pass' | 401 | 403 {
  const action = ruleAction(rule);
  if (action === null) return 'pass';
  if (identity.actor === 'rejected') return 401;
  let caller: Caller;
  if (identity.actor === 'none') {
    if (typeof rule !== 'object' || anonymousRole === null) return 401;
    caller = { role: anonymousRole, scope: anonymousRole === 'agent' ? 'read-write' : 'read' };
  } else {
    caller = identity.actor;
  }
  return allowed(caller.role, caller.scope, action) ? 'pass' : 403;
}

async function identities(t: TestApp): Promise<Identity[]> {
  const agent = await t.userClient('agent');
  const viewer = await t.userClient('viewer');
  const customer = await t.userClient('customer', { customerEmails: ['matrix-customer@example.com'] });
  const readOnly = await t.userClient('agent', { scope: 'read' });
  const expiring = await t.userClient('agent');
  const expiringToken = (
    await expiring.post('/api/tokens', { name: 'short', expires_at: new Date(t.clock.now().getTime() + 3_600_000).toISOString() })
  ).json().data.token as string;
  const revoked = await t.userClient('agent');
  const revokedToken = (await revoked.post('/api/tokens', { name: 'soon revoked' })).json().data;
  assert.equal((await revoked.delete(`/api/tokens/${revokedToken.id}`)).statusCode, 200);
  const disabled = await t.userClient('admin');
  assert.equal((await t.api.patch(`/api/users/${disabled.user.id}`, { disabled: true })).statusCode, 200);
  t.clock.advance(2 * 3_600_000);
  return [
    { name: 'no credentials', client: t.anonymous, actor: 'none' },
    { name: 'admin', client: t.api, actor: actorOf('admin') },
    { name: 'agent', client: agent, actor: actorOf('agent') },
    { name: 'viewer', client: viewer, actor: actorOf('viewer') },
    { name: 'customer', client: customer, actor: actorOf('customer') },
    { name: 'read-only token', client: readOnly, actor: actorOf('agent', 'read') },
    { name: 'expired token', client: t.as({ authorization: `Bearer ${expiringToken}` }), actor: 'rejected' },
    { name: 'revoked token', client: t.as({ authorization: `Bearer ${revokedToken.token}` }), actor: 'rejected' },
    { name: 'disabled user', client: disabled, actor: 'rejected' },
    { name: 'malformed Authorization', client: t.as({ authorization: 'Basic YWRtaW46YWRtaW4=' }), actor: 'rejected' },
    { name: 'unknown token', client: t.as({ authorization: 'Bearer stl_not-a-real-token' }), actor: 'rejected' },
  ];
}

async function walk(t: TestApp, who: Identity[], anonymousRole: Role | null): Promise<string[]> {
  const wrong: string[] = [];
  let checked = 0;
  for (const route of routesOf(t)) {
    if (route.rule === null || isStream(route)) continue;
    for (const identity of who) {
      const expected = expectation(route.rule, identity, anonymousRole);
      const res = await send(identity.client, route);
      checked++;
      const ok =
        expected === 'pass'
          ? !refusedByAuth(res) && !forbiddenByPolicy(res) && res.statusCode !== 500
          : expected === 401
            ? refusedByAuth(res)
            : forbiddenByPolicy(res);
      if (!ok)
        wrong.push(
          `${route.method} ${route.url} as ${identity.name}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 160)}`,
        );
    }
  }
  assert.ok(checked >= 20 * who.length, `only ${checked} requests checked`);
  return wrong;
}

describe('route × role matrix', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp();
  });
  after(() => t.close());

  test('every route declares how it is protected', () => {
    const routes = routesOf(t);
    assert.ok(routes.length > 20, `found only ${routes.length} routes`);
    const undeclared = routes.filter((route) => route.rule === null).map((route) => `${route.method} ${route.url}`);
    assert.deepEqual(undeclared, [], 'add `config: { access }` to these routes, or a line to src/modules/access/route-access.ts');
  });

  test('every route answers each caller as its rule says', async () => {
    const wrong = await walk(t, await identities(t), null);
    assert.deepEqual(wrong, []);
  });
});

describe('ANONYMOUS_ROLE for the older systems’ routes', () => {
  for (const role of ['viewer', 'agent'] as const) {
    test(`ANONYMOUS_ROLE=${role}: no credentials act as ${role} on old routes only`, async () => {
      const t = await testApp({ ANONYMOUS_ROLE: role });
      try {
        const wrong = await walk(t, [{ name: 'no credentials', client: t.anonymous, actor: 'none' }], role);
        assert.deepEqual(wrong, []);
        assert.equal((await t.anonymous.get('/tickets')).statusCode, 200);
        assert.equal((await t.anonymous.get('/api/tickets')).statusCode, 401);
        const created = await t.anonymous.post('/tickets', { subject: 'from an old client' });
        assert.equal(created.statusCode, role === 'agent' ? 201 : 403);
        assert.equal(
          (await t.as({ authorization: 'Bearer wrong-token-0000000000' }).get('/tickets')).statusCode,
          401,
          'bad credentials are never anonymous',
        );
      } finally {
        await t.close();
      }
    });
  }
});

describe('/metrics', () => {
  test('needs a token unless METRICS_PUBLIC=true', async () => {
    const closed = await testApp();
    const open = await testApp({ METRICS_PUBLIC: 'true' });
    try {
      assert.equal((await closed.anonymous.get('/metrics')).statusCode, 401);
      assert.equal((await closed.api.get('/metrics')).statusCode, 200);
      assert.equal((await (await closed.userClient('viewer')).get('/metrics')).statusCode, 200);
      assert.equal((await (await closed.userClient('customer')).get('/metrics')).statusCode, 403);
      assert.equal((await open.anonymous.get('/metrics')).statusCode, 200);
    } finally {
      await closed.close();
      await open.close();
    }
  });
});

describe('public routes', () => {
  test('health, docs, OpenAPI, login and the dashboard need no credentials', async () => {
    const t = await testApp();
    try {
      for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs/json', '/docs', '/app/', '/app/board/7']) {
        const res = await t.anonymous.get(url);
        assert.ok(res.statusCode < 400 || res.statusCode === 503, `${url}: ${res.statusCode}`);
        assert.notEqual(res.statusCode, 401, url);
      }
      assert.equal((await t.anonymous.get('/no/such/route')).statusCode, 404);
    } finally {
      await t.close();
    }
  });
});
