import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

// A full disk under the embedded database, for real: a tiny tmpfs as DATA_DIR. The server runs as a child
// process, so a database that freezes its event loop fails this test by timeout instead of hanging the runner.
const token = 'disk-full-test-token-0123456789';
const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-disk-full-'));
const dataDir = path.join(mountPoint, 'db');
const filler = path.join(mountPoint, 'filler');
const children: ChildProcess[] = [];

function mountTmpfs(): string | null {
  if (process.env.TEST_DATABASE_URL) return 'the embedded database only (runs in the PGlite pass)';
  if (process.platform !== 'linux') return 'needs Linux tmpfs';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return `mounting a tmpfs is not permitted here (${(error as Error).message.split('\n')[0]})`;
  }
}

const skip = mountTmpfs();
if (skip) console.log(`# disk-full test skipped: ${skip}`);

after(() => {
  for (const child of children) child.kill('SIGKILL');
  if (!skip) execFileSync('umount', ['-l', mountPoint]);
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

const startServer = (env: Record<string, string> = {}) =>
  startServerProcess(
    { ADMIN_API_TOKEN: token, DATA_DIR: dataDir, DATA_DIR_MIN_FREE_MB: '0', RATE_LIMIT_MAX: '0', OPS_SYNC_INTERVAL: '0', ...env },
    children,
    { timeoutMs: 180_000 },
  );

async function stopServer(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.output());
}

/** Every request must be answered within 5 s: a frozen database fails here, not by hanging. */
async function call(server: ServerProcess, method: string, url: string, body?: unknown) {
  const res = await fetch(`${server.base}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

const createTicket = (server: ServerProcess, n: number) =>
  // Random text does not compress, so each ticket really takes room.
  call(server, 'POST', '/api/tickets', { subject: `Disk ticket ${n}`, description: crypto.randomBytes(1500).toString('base64') });

async function assertAllThere(server: ServerProcess, ids: string[]) {
  for (const id of ids) assert.equal((await call(server, 'GET', `/api/tickets/${id}`)).status, 200, `acknowledged ticket ${id} is missing`);
}

test(
  'a full disk: writes answer 507 fast, reads and /healthz answer, writes resume once space is freed',
  { skip: skip ?? false, timeout: 600_000 },
  async () => {
    const server = await startServer();
    const acknowledged: string[] = [];
    // Leave a few MiB, then write until the database runs out of room.
    const free = fs.statfsSync(mountPoint);
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free.bavail * free.bsize - 3 * 2 ** 20)));
    let refused: { status: number; json: Record<string, any> } | null = null;
    for (let n = 0; n < 5000 && !refused; n++) {
      const res = await createTicket(server, n);
      if (res.status === 201) acknowledged.push(res.json.data.id);
      else refused = res;
    }
    assert.ok(refused, 'the disk never filled up');
    assert.ok(acknowledged.length > 0);
    assert.ok([507, 503].includes(refused.status), JSON.stringify(refused.json));
    if (refused.status === 507) {
      assert.equal(refused.json.error.code, 'INSUFFICIENT_STORAGE');
      assert.match(refused.json.message, /disk full/);
    }
    // Still full: more writes are refused quickly, the process and its reads keep answering.
    for (let n = 0; n < 5; n++) assert.ok([507, 503].includes((await createTicket(server, -n)).status));
    assert.equal((await call(server, 'GET', '/healthz')).status, 200);
    assert.equal((await call(server, 'GET', `/api/tickets/${acknowledged[0]}`)).status, 200);
    assert.equal((await call(server, 'GET', '/api/tickets?limit=5')).status, 200);

    // Space freed: writes succeed again, without a restart.
    fs.rmSync(filler);
    let created: { status: number; json: Record<string, any> } | null = null;
    for (let n = 0; n < 60 && created?.status !== 201; n++) {
      created = await createTicket(server, 10_000 + n);
      if (created.status !== 201) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(created!.status, 201, JSON.stringify(created!.json));
    acknowledged.push(created!.json.data.id);
    await assertAllThere(server, acknowledged);
    await stopServer(server);

    // A clean reopen has every acknowledged ticket. With a reserve larger than the disk, the free-space
    // guard refuses writes with 507 before PGlite is even asked, and reads still answer.
    const reopened = await startServer({ DATA_DIR_MIN_FREE_MB: '100000' });
    await assertAllThere(reopened, acknowledged);
    const guarded = await createTicket(reopened, 20_000);
    assert.equal(guarded.status, 507, JSON.stringify(guarded.json));
    assert.equal(guarded.json.error.code, 'INSUFFICIENT_STORAGE');
    assert.equal((await call(reopened, 'GET', '/healthz')).status, 200);
    await stopServer(reopened);
  },
);
