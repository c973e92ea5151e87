import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { spawnServerProcess, startServerProcess } from '../helpers/server-process.js';

// The real process: start-up checks, the data directory lock, graceful shutdown, data kept across restarts.
const token = 'server-test-token-0123456789';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-server-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const env = { ADMIN_API_TOKEN: token, DATA_DIR: dataDir };

test('a bad PORT or an unreachable DATABASE_URL: one clear message, exit code 1', async () => {
  const badPort = spawnServerProcess({ ...env, PORT: 'eighty' }, children);
  assert.equal(await badPort.exited, 1);
  assert.match(badPort.output(), /PORT must be a whole number/);
  const badDb = spawnServerProcess({ ...env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, children);
  assert.equal(await badDb.exited, 1);
  assert.match(badDb.output(), /cannot reach the PostgreSQL server at DATABASE_URL/);
});

test('one process per data directory; SIGTERM stops cleanly and the data survives a restart', async () => {
  const first = await startServerProcess(env, children);
  const created = await fetch(`${first.base}/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subject: 'Survives restarts', customer: { name: 'Globex', email: 'noc@globex.example' } }),
  });
  assert.equal(created.status, 201);
  const { id } = (await created.json()) as { id: string };

  const second = spawnServerProcess(env, children);
  assert.equal(await second.exited, 1);
  assert.match(second.output(), /already in use/);

  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.output());
  assert.match(first.output(), /stopped/);

  const again = await startServerProcess(env, children);
  const res = await fetch(`${again.base}/api/tickets/${id}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  again.child.kill('SIGINT');
  assert.equal(await again.exited, 0);
});
