import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

// The real process: start-up checks, the data directory lock, graceful shutdown, data kept across restarts.
const root = path.resolve(import.meta.dirname, '../..');
const token = 'server-test-token-0123456789';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-server-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

type Started = { child: ChildProcess; port: number; output: () => string; exited: Promise<number | null> };

function start(env: Record<string, string>, waitForPort = true): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_API_TOKEN: token,
      DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 90 s:\n${output}`)), 90_000);
    const check = setInterval(() => {
      const match = /"port":(\d+)/.exec(output);
      if (waitForPort && match) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), output: () => output, exited });
      }
    }, 100);
    void exited.then(() => {
      clearInterval(check);
      clearTimeout(timer);
      resolve({ child, port: 0, output: () => output, exited });
    });
  });
}

test('a bad PORT or an unreachable DATABASE_URL: one clear message, exit code 1', async () => {
  const badPort = await start({ PORT: 'eighty' }, false);
  assert.equal(await badPort.exited, 1);
  assert.match(badPort.output(), /PORT must be a whole number/);
  const badDb = await start({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, false);
  assert.equal(await badDb.exited, 1);
  assert.match(badDb.output(), /cannot reach the PostgreSQL server at DATABASE_URL/);
});

test('one process per data directory; SIGTERM stops cleanly and the data survives a restart', async () => {
  const first = await start({});
  const base = `http://127.0.0.1:${first.port}`;
  const created = await fetch(`${base}/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subject: 'Survives restarts', customer: { name: 'Globex', email: 'noc@globex.example' } }),
  });
  assert.equal(created.status, 201);
  const { id } = (await created.json()) as { id: string };

  const second = await start({}, false);
  assert.equal(await second.exited, 1);
  assert.match(second.output(), /already in use/);

  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.output());
  assert.match(first.output(), /stopped/);

  const again = await start({});
  const res = await fetch(`http://127.0.0.1:${again.port}/api/tickets/${id}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  again.child.kill('SIGINT');
  assert.equal(await again.exited, 0);
});
