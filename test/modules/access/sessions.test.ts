import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await testApp({
    SESSION_IDLE_MINUTES: '30',
    SESSION_MAX_HOURS: '8',
    LOGIN_MAX_FAILURES: '6',
    LOGIN_IP_MAX_FAILURES: '1000',
    LOGIN_LOCK_MINUTES: '15',
  });
});
after(() => t.close());

type Cookie = { name: string; value: string; attributes: string[] };

function cookiesOf(res: LightMyRequestResponse): Map<string, Cookie> {
  const header = res.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const cookies = new Map<string, Cookie>();
  for (const line of lines) {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const [name, value] = pair.split('=');
    cookies.set(name, { name, value, attributes: attributes.map((a) => a.toLowerCase()) });
  }
  return cookies;
}

async function login(email: string, password: string, headers: Record<string, string> = {}) {
  return t.anonymous.post('/api/auth/login', { email, password }, headers);
}

/** A browser: the session cookie on every request, the CSRF header on writes unless told otherwise. */
async function browser(role: 'admin' | 'agent' | 'viewer' | 'customer' = 'agent') {
  const user = await t.userClient(role);
  const res = await login(user.user.email, user.password);
  assert.equal(res.statusCode, 200, res.body);
  const cookies = cookiesOf(res);
  const session = cookies.get('stageline_session')!.value;
  const csrf = res.json().data.csrf_token as string;
  const cookie = `stageline_session=${session}; stageline_csrf=${csrf}`;
  return { user, session, csrf, cookie, res, withCsrf: t.as({ cookie, 'x-csrf-token': csrf }), withoutCsrf: t.as({ cookie }) };
}

describe('login', () => {
  test('sets an HttpOnly, SameSite=Lax session cookie and a readable CSRF cookie; /api/me answers', async () => {
    const b = await browser('viewer');
    const cookies = cookiesOf(b.res);
    const session = cookies.get('stageline_session')!;
    assert.ok(session.attributes.includes('httponly'));
    assert.ok(session.attributes.includes('samesite=lax'));
    assert.ok(session.attributes.includes('path=/'));
    assert.ok(!session.attributes.includes('secure'), 'not Secure over plain HTTP');
    const csrf = cookies.get('stageline_csrf')!;
    assert.ok(!csrf.attributes.includes('httponly'));
    assert.equal(csrf.value, b.csrf);
    const me = await b.withoutCsrf.get('/api/me');
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().data.user.email, b.user.user.email);
    assert.equal(me.json().data.via, 'session');
    assert.equal(me.json().data.user.password_hash, undefined);
  });

  test('the cookies are Secure when served over TLS (here: behind a trusted TLS proxy)', async () => {
    const proxied = await testApp({ TRUST_PROXY: 'true' });
    try {
      const user = await proxied.userClient('viewer');
      const res = await proxied.anonymous.post(
        '/api/auth/login',
        { email: user.user.email, password: user.password },
        { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.9' },
      );
      assert.equal(res.statusCode, 200);
      const cookies = cookiesOf(res);
      assert.ok(cookies.get('stageline_session')!.attributes.includes('secure'));
      assert.ok(cookies.get('stageline_csrf')!.attributes.includes('secure'));
      const [entry] = (await proxied.api.get('/api/audit?action=auth.login')).json().data;
      assert.equal(entry.ip, '198.51.100.9', 'the audit log and per-address throttling see the real client');
    } finally {
      await proxied.close();
    }
  });

  test('wrong password, unknown email and disabled user all answer the same 401', async () => {
    const user = await t.userClient('agent');
    const wrong = await login(user.user.email, 'not-the-password');
    const unknown = await login('nobody@example.com', 'whatever-password');
    await t.api.patch(`/api/users/${user.user.id}`, { disabled: true });
    const disabled = await login(user.user.email, user.password);
    for (const res of [wrong, unknown, disabled]) {
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error.code, 'UNAUTHENTICATED');
      assert.equal(res.json().message, 'email or password is wrong');
      assert.equal(res.headers['set-cookie'], undefined);
    }
  });

  test('emails are case-insensitive', async () => {
    const user = await t.userClient('viewer');
    const res = await login(user.user.email.toUpperCase(), user.password);
    assert.equal(res.statusCode, 200);
  });

  test('logging in again rotates the session: the old cookie stops working', async () => {
    const b = await browser('agent');
    const again = await login(b.user.user.email, b.user.password, { cookie: b.cookie });
    assert.equal(again.statusCode, 200);
    const fresh = cookiesOf(again).get('stageline_session')!.value;
    assert.notEqual(fresh, b.session);
    assert.equal((await b.withoutCsrf.get('/api/me')).statusCode, 401);
    assert.equal((await t.as({ cookie: `stageline_session=${fresh}` }).get('/api/me')).statusCode, 200);
  });

  test('bad bodies answer 400 naming the field', async () => {
    const missing = await t.anonymous.post('/api/auth/login', { email: 'a@b.c' });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error.details[0].field, 'password');
    const extra = await t.anonymous.post('/api/auth/login', { email: 'a@b.c', password: 'x', remember: true });
    assert.equal(extra.statusCode, 400);
  });
});

describe('CSRF', () => {
  test('a cookie-authenticated write without the X-CSRF-Token header is refused', async () => {
    const b = await browser('agent');
    const res = await b.withoutCsrf.post('/api/tokens', { name: 'from a forged form' });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.details[0].field, 'header x-csrf-token');
    const wrong = await t.as({ cookie: b.cookie, 'x-csrf-token': 'guessed' }).post('/api/tokens', { name: 'forged' });
    assert.equal(wrong.statusCode, 403);
    const good = await b.withCsrf.post('/api/tokens', { name: 'mine' });
    assert.equal(good.statusCode, 201);
  });

  test('another session’s CSRF token does not fit this session', async () => {
    const a = await browser('agent');
    const b = await browser('agent');
    const res = await t.as({ cookie: a.cookie, 'x-csrf-token': b.csrf }).post('/api/tokens', { name: 'x' });
    assert.equal(res.statusCode, 403);
  });

  test('reads need no CSRF token, and bearer tokens need none at all', async () => {
    const b = await browser('agent');
    assert.equal((await b.withoutCsrf.get('/api/tokens')).statusCode, 200);
    assert.equal((await b.user.post('/api/tokens', { name: 'by token' })).statusCode, 201);
  });
});

describe('session expiry and logout', () => {
  test('a session idle longer than SESSION_IDLE_MINUTES ends', async () => {
    const b = await browser('viewer');
    t.clock.advance(29 * 60_000);
    assert.equal((await b.withoutCsrf.get('/api/me')).statusCode, 200, 'used within the idle time');
    t.clock.advance(29 * 60_000);
    assert.equal((await b.withoutCsrf.get('/api/me')).statusCode, 200, 'each use restarts the idle time');
    t.clock.advance(31 * 60_000);
    const res = await b.withoutCsrf.get('/api/me');
    assert.equal(res.statusCode, 401);
    assert.match(String(res.headers['set-cookie']), /stageline_session=;/, 'the dead cookie is cleared');
  });

  test('a session in use still ends at SESSION_MAX_HOURS', async () => {
    const b = await browser('viewer');
    for (let i = 0; i < 16; i++) {
      t.clock.advance(29 * 60_000);
      assert.equal((await b.withoutCsrf.get('/api/me')).statusCode, 200);
    }
    t.clock.advance(25 * 60_000); // 8 h 29 min after login
    assert.equal((await b.withoutCsrf.get('/api/me')).statusCode, 401);
  });

  test('logout ends the session for good', async () => {
    const b = await browser('agent');
    const out = await b.withCsrf.post('/api/auth/logout');
    assert.equal(out.statusCode, 204);
    assert.match(String(out.headers['set-cookie']), /stageline_session=;/);
    assert.equal((await b.withoutCsrf.get('/api/me')).statusCode, 401);
  });
});

describe('disabling a user', () => {
  test('ends their sessions and tokens at once; enabling again does not bring the tokens back', async () => {
    const b = await browser('agent');
    const token = b.user;
    assert.equal((await token.get('/api/me')).statusCode, 200);
    const disabled = await t.api.patch(`/api/users/${b.user.user.id}`, { disabled: true });
    assert.equal(disabled.statusCode, 200);
    assert.equal(disabled.json().data.disabled, true);
    assert.equal((await token.get('/api/me')).statusCode, 401);
    assert.equal((await b.withoutCsrf.get('/api/me')).statusCode, 401);
    await t.api.patch(`/api/users/${b.user.user.id}`, { disabled: false });
    assert.equal((await token.get('/api/me')).statusCode, 401, 'revoked tokens stay revoked');
    assert.equal((await login(b.user.user.email, b.user.password)).statusCode, 200, 'the password works again');
  });

  test('a new password ends the sessions', async () => {
    const b = await browser('viewer');
    await t.api.patch(`/api/users/${b.user.user.id}`, { password: 'a-brand-new-password' });
    assert.equal((await b.withoutCsrf.get('/api/me')).statusCode, 401);
    assert.equal((await login(b.user.user.email, b.user.password)).statusCode, 401);
    assert.equal((await login(b.user.user.email, 'a-brand-new-password')).statusCode, 200);
  });
});

describe('login throttling', () => {
  test('per account: backoff from half the limit, then a lock with Retry-After; a success clears it', async () => {
    const user = await t.userClient('viewer');
    const email = user.user.email;
    // LOGIN_MAX_FAILURES=6: failures 1–2 free, 3–5 a growing wait (1 s, 2 s, 4 s), the 6th locks for 15 min.
    for (let i = 1; i <= 2; i++) assert.equal((await login(email, 'wrong-password')).statusCode, 401);
    assert.equal((await login(email, 'wrong-password')).statusCode, 401); // 3rd: backoff starts
    const blocked = await login(email, user.password);
    assert.equal(blocked.statusCode, 429, 'even the right password waits during backoff');
    assert.equal(blocked.json().error.code, 'RATE_LIMITED');
    assert.equal(blocked.headers['retry-after'], '1');
    t.clock.advance(1000);
    assert.equal((await login(email, 'wrong-password')).statusCode, 401); // 4th
    assert.equal((await login(email, 'wrong-password')).statusCode, 429);
    t.clock.advance(2000);
    assert.equal((await login(email, 'wrong-password')).statusCode, 401); // 5th
    t.clock.advance(4000);
    assert.equal((await login(email, 'wrong-password')).statusCode, 401); // 6th: locked
    const locked = await login(email, user.password);
    assert.equal(locked.statusCode, 429);
    assert.equal(locked.headers['retry-after'], String(15 * 60));
    t.clock.advance(15 * 60_000);
    assert.equal((await login(email, user.password)).statusCode, 200, 'the lock is temporary');
    assert.equal((await login(email, 'wrong-password')).statusCode, 401, 'a success starts the count over');
    assert.equal((await login(email, user.password)).statusCode, 200);
  });

  test('entries older than the lock time are purged, so random emails cannot grow the table for ever', async () => {
    assert.equal((await login('ghost1@example.com', 'whatever-password')).statusCode, 401);
    t.clock.advance(16 * 60_000);
    assert.equal((await login('ghost2@example.com', 'whatever-password')).statusCode, 401);
    const rows = await sql<{ key: string }>`select key from login_throttle where key like 'email:ghost%'`.execute(t.database.db);
    assert.deepEqual(
      rows.rows.map((row) => row.key),
      ['email:ghost2@example.com'],
    );
  });

  test('per address: many accounts from one IP get locked too', async () => {
    const strict = await testApp({ LOGIN_MAX_FAILURES: '100', LOGIN_IP_MAX_FAILURES: '4' });
    try {
      const attempt = (email: string, ip: string) =>
        strict.anonymous.request({
          method: 'POST',
          url: '/api/auth/login',
          payload: { email, password: 'guess-guess' },
          remoteAddress: ip,
        });
      for (let i = 0; i < 4; i++) {
        assert.equal((await attempt(`u${i}@example.com`, '10.9.9.9')).statusCode, 401);
        strict.clock.advance(60_000);
      }
      const locked = await attempt('other@example.com', '10.9.9.9');
      assert.equal(locked.statusCode, 429);
      const elsewhere = await attempt('other@example.com', '10.1.1.1');
      assert.equal(elsewhere.statusCode, 401, 'another address is not affected');
    } finally {
      await strict.close();
    }
  });
});

describe('general rate limit', () => {
  test('429 with Retry-After and RateLimit-* headers, per user', async () => {
    const limited = await testApp({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60' });
    try {
      const first = await limited.api.get('/api/me');
      assert.equal(first.statusCode, 200);
      assert.equal(first.headers['ratelimit-limit'], '3');
      assert.equal(first.headers['ratelimit-remaining'], '2');
      await limited.api.get('/api/me');
      await limited.api.get('/api/me');
      const over = await limited.api.get('/api/me');
      assert.equal(over.statusCode, 429);
      assert.equal(over.json().error.code, 'RATE_LIMITED');
      assert.ok(Number(over.headers['retry-after']) > 0);
      assert.ok(over.headers['ratelimit-reset'] !== undefined);
      assert.equal((await limited.api.get('/healthz')).statusCode, 200, 'health checks are not limited');
      assert.equal((await limited.anonymous.get('/readyz')).statusCode, 200);
    } finally {
      await limited.close();
    }
  });
});
