import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { buildApp, type App } from '../../../src/app.js';
import { ManualClock } from '../../../src/clock.js';
import { loadConfig } from '../../../src/config.js';
import type { Database } from '../../../src/db/database.js';
import { hashPassword, verifyPassword } from '../../../src/modules/auth/secrets.js';
import { freshDatabase } from '../../helpers/database.js';

/** An app whose log lines (everything, down to trace) are kept for inspection. */
async function loggedApp(database: Database, env: Record<string, string>) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({ PASSWORD_HASH_COST: '4', RATE_LIMIT_MAX: '0', ...env });
  const app = await buildApp({ config, database, clock: new ManualClock(), logger: { level: 'trace', stream } });
  await app.ready();
  return { app, lines, log: () => lines.join('') };
}

const databases: Database[] = [];
const apps: App[] = [];
async function database() {
  const db = await freshDatabase();
  databases.push(db);
  return db;
}
after(async () => {
  for (const app of apps) await app.close();
  for (const db of databases) await db.close();
});

async function everyStoredText(db: Database): Promise<string> {
  const tables = ['users', 'sessions', 'api_tokens', 'audit_log', 'login_throttle'];
  const dumps = await Promise.all(
    tables.map((table) => sql<{ row: unknown }>`select to_jsonb(t) as row from ${sql.table(table)} t`.execute(db.db)),
  );
  return JSON.stringify(dumps.map((dump) => dump.rows));
}

describe('no password, token or session id in plain text', () => {
  test('neither in the database nor in the log, across login, failures, tokens and requests', async () => {
    const db = await database();
    const adminToken = 'automation-token-ABCDEFGHIJKLMNOP';
    const { app, log } = await loggedApp(db, {
      ADMIN_EMAIL: 'boss@example.com',
      ADMIN_PASSWORD: 'the-boss-password-1',
      ADMIN_API_TOKEN: adminToken,
    });
    apps.push(app);
    const admin = { authorization: `Bearer ${adminToken}` };
    const userPassword = 'agent-password-XYZ-123';
    const created = await app.inject({
      method: 'POST',
      url: '/api/users',
      headers: admin,
      payload: { email: 'agent@example.com', role: 'agent', password: userPassword },
    });
    assert.equal(created.statusCode, 201);
    const wrongPassword = 'wrong-password-QWERTY-999';
    assert.equal(
      (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'agent@example.com', password: wrongPassword } }))
        .statusCode,
      401,
    );
    const login = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'agent@example.com', password: userPassword },
    });
    assert.equal(login.statusCode, 200);
    const session = String(login.headers['set-cookie']).match(/stageline_session=([^;]+)/)![1];
    const csrf = login.json().data.csrf_token as string;
    const token = (
      await app.inject({
        method: 'POST',
        url: '/api/tokens',
        headers: { cookie: `stageline_session=${session}`, 'x-csrf-token': csrf },
        payload: { name: 'mine' },
      })
    ).json().data.token as string;
    assert.equal((await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
    const changed = 'changed-password-LMNOP-42';
    await app.inject({ method: 'PATCH', url: `/api/users/${created.json().data.id}`, headers: admin, payload: { password: changed } });

    const stored = await everyStoredText(db);
    const written = log();
    assert.ok(written.length > 1000, 'the log captured requests');
    for (const secret of ['the-boss-password-1', adminToken, userPassword, wrongPassword, session, csrf, token, changed]) {
      assert.ok(!stored.includes(secret), `stored in plain text: ${secret.slice(0, 6)}…`);
      assert.ok(!written.includes(secret), `logged in plain text: ${secret.slice(0, 6)}…`);
    }
    assert.match(stored, /scrypt\$4\$8\$1\$/, 'passwords are scrypt hashes');
  });

  test('scrypt hashes carry their parameters and verify only the right password', async () => {
    const hash = await hashPassword('open sesame', 5);
    assert.match(hash, /^scrypt\$5\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.notEqual(hash, await hashPassword('open sesame', 5), 'salted');
    assert.equal(await verifyPassword('open sesame', hash), true);
    assert.equal(await verifyPassword('open sesame!', hash), false);
    assert.equal(await verifyPassword('open sesame', 'md5$whatever'), false);
  });
});

describe('bootstrap', () => {
  test('first start without ADMIN_PASSWORD generates a password, never logged, handed out once; it signs in', async () => {
    const db = await database();
    const first = await loggedApp(db, {});
    assert.ok(
      first.lines.some((l) => l.includes('first admin created')),
      'the log says the admin was made',
    );
    const generated = first.app.services.auth.takeGeneratedAdmin()!;
    assert.equal(generated.email, 'admin@stageline.local');
    assert.ok(!first.log().includes(generated.password), 'the password is not in the log');
    assert.equal(first.app.services.auth.takeGeneratedAdmin(), null, 'handed out once');
    const login = await first.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'admin@stageline.local', password: generated.password },
    });
    assert.equal(login.statusCode, 200);
    assert.equal(login.json().data.user.role, 'admin');
    await first.app.close();
    const second = await loggedApp(db, {});
    apps.push(second.app);
    assert.ok(!second.log().includes('first admin created'), 'only on the first start');
    assert.equal(second.app.services.auth.takeGeneratedAdmin(), null);
  });

  test('ADMIN_API_TOKEN: exactly that value works; a new value replaces the old one (and ANONYMOUS_ROLE warns)', async () => {
    const db = await database();
    const one = await loggedApp(db, { ADMIN_API_TOKEN: 'first-value-0123456789' });
    const me = (app: App, value: string) => app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${value}` } });
    assert.equal((await me(one.app, 'first-value-0123456789')).statusCode, 200);
    await one.app.close();
    const again = await loggedApp(db, { ADMIN_API_TOKEN: 'first-value-0123456789' });
    assert.equal((await me(again.app, 'first-value-0123456789')).statusCode, 200);
    await again.app.close();
    const two = await loggedApp(db, { ADMIN_API_TOKEN: 'second-value-0123456789', ANONYMOUS_ROLE: 'viewer' });
    apps.push(two.app);
    const warning = two.lines.map((line) => JSON.parse(line)).find((entry) => String(entry.msg).includes('ANONYMOUS_ROLE'));
    assert.equal(warning?.level, 40, 'ANONYMOUS_ROLE logs a warning at start');
    assert.equal((await me(two.app, 'first-value-0123456789')).statusCode, 401);
    assert.equal((await me(two.app, 'second-value-0123456789')).statusCode, 200);
    const tokens = await two.app.inject({
      method: 'GET',
      url: '/api/tokens',
      headers: { authorization: 'Bearer second-value-0123456789' },
    });
    assert.equal(tokens.json().data.filter((row: { name: string }) => row.name === 'ADMIN_API_TOKEN').length, 1);
  });

  test('bad settings are refused with one clear message', () => {
    assert.throws(
      () => loadConfig({ ADMIN_API_TOKEN: 'short', ANONYMOUS_ROLE: 'admin', PASSWORD_HASH_COST: '40', ADMIN_EMAIL: 'nope' }),
      (error: Error) =>
        ['ADMIN_API_TOKEN', 'ANONYMOUS_ROLE', 'PASSWORD_HASH_COST', 'ADMIN_EMAIL'].every((name) => error.message.includes(name)),
    );
  });
});
