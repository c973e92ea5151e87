import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { buildApp, type App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { announceSignIn, initialPasswordFile } from '../../src/first-run.js';
import { logsArePretty } from '../../src/logging.js';
import { systemActor } from '../../src/modules/access/policy.js';
import { createDemoUsers, demoUsers } from '../../src/modules/users/demo.js';
import { freshDatabase } from '../helpers/database.js';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A fresh app (first start: no users, no ADMIN_PASSWORD) whose JSON log is kept. */
async function firstStart(env: Record<string, string> = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-first-run-'));
  const database = await freshDatabase();
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({ PASSWORD_HASH_COST: '4', DATA_DIR: dataDir, ...env });
  const app: App = await buildApp({ config, database, clock: new ManualClock(), logger: { level: 'info', stream } });
  await app.ready();
  cleanups.push(
    () => fs.rmSync(dataDir, { recursive: true, force: true }),
    () => database.close(),
    () => app.close(),
  );
  return { app, dataDir, log: () => lines.join('') };
}

function terminal(isTTY: boolean) {
  let written = '';
  return { isTTY, write: (text: string) => (written += text), text: () => written };
}

test('on a terminal: one block after start with the URL, the e-mail and the generated password, never in the log', async () => {
  const { app, log } = await firstStart();
  const screen = terminal(true);
  announceSignIn(app, 'http://localhost:4040', { demo: false, terminal: screen });
  const match = /Sign in as admin@stageline\.local with password (\S+)/.exec(screen.text());
  assert.ok(match, screen.text());
  assert.match(screen.text(), /http:\/\/localhost:4040\/app\//);
  assert.ok(!log().includes(match[1]), 'not in the JSON log');
  const login = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email: 'admin@stageline.local', password: match[1] },
  });
  assert.equal(login.statusCode, 200);
  const again = terminal(true);
  announceSignIn(app, 'http://localhost:4040', { demo: false, terminal: again });
  assert.ok(!again.text().includes(match[1]), 'shown only once');
});

test('without a terminal: the password goes to a file only this account reads; the log names the file, not the password', async () => {
  const { app, dataDir, log } = await firstStart();
  const pipe = terminal(false);
  announceSignIn(app, 'http://localhost:4040', { demo: false, terminal: pipe });
  assert.equal(pipe.text(), '', 'nothing but JSON on a pipe');
  const file = path.join(dataDir, initialPasswordFile);
  const password = fs.readFileSync(file, 'utf8').trim();
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.ok(log().includes(file));
  assert.ok(!log().includes(password));
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'admin@stageline.local', password } });
  assert.equal(login.statusCode, 200);
});

test('the demo: its admin is the first admin (no second one); the block lists every demo account', async () => {
  const admin = demoUsers[0];
  const { app } = await firstStart({ ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password });
  const screen = terminal(true);
  announceSignIn(app, 'http://localhost:4040', { demo: true, terminal: screen });
  for (const user of demoUsers) assert.match(screen.text(), new RegExp(`${user.email}\\s+${user.password}`));
  await createDemoUsers(app.services.users, app.log);
  const users = await app.services.users.list(systemActor, { limit: 100 });
  assert.deepEqual(
    users.items.filter((user) => user.role === 'admin').map((user) => user.email),
    [admin.email],
  );
  assert.equal(users.items.length, demoUsers.length);
});

test('LOG_FORMAT: pretty on a terminal in development, JSON on a pipe, in production or when asked', () => {
  assert.equal(logsArePretty({ logFormat: 'auto' }, { isTTY: true }, {}), true);
  assert.equal(logsArePretty({ logFormat: 'auto' }, { isTTY: false }, {}), false);
  assert.equal(logsArePretty({ logFormat: 'auto' }, { isTTY: true }, { NODE_ENV: 'production' }), false);
  assert.equal(logsArePretty({ logFormat: 'json' }, { isTTY: true }, {}), false);
  assert.equal(logsArePretty({ logFormat: 'pretty' }, { isTTY: false }, {}), true);
});
