import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { spawnProcess, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

// The way production runs it: `npm run build:server`, `npm run build:web`, then `npm run start:compiled` from dist/,
// serving the built dashboard from web/dist.
const root = path.resolve(import.meta.dirname, '../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-compiled-'));
const children: ChildProcess[] = [];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

const npm = (args: string[]) => spawnProcess({}, children, ['npm', 'run', '--silent', ...args]);

let server: ServerProcess;
let base: string;

before(async () => {
  // .ci/run builds the server before the suite; a local run builds it when the sources are newer than the build.
  const compiled = path.join(root, 'dist/src/server.js');
  if (!fs.existsSync(compiled) || fs.statSync(compiled).mtimeMs < newestMtime(path.join(root, 'src'))) {
    const build = npm(['build:server']);
    assert.equal(await build.exited, 0, build.output());
  }
  const web = npm(['build:web', '--', '--if-stale']);
  assert.equal(await web.exited, 0, web.output());

  server = await startServerProcess({ DATA_DIR: dataDir, ADMIN_API_TOKEN: 'compiled-test-token-0123456789' }, children, {
    timeoutMs: 120_000,
    command: ['npm', 'run', '--silent', 'start:compiled'],
  });
  base = server.base;
});

after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('the compiled server runs from dist/ and serves the dashboard built in web/dist', async () => {
  const pid = /"pid":(\d+)/.exec(server.output())![1];
  // Node itself (no tsx) on the compiled entry, with the memory settings of docs/production.md.
  assert.match(
    fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '),
    /^node --max-semi-space-size=4 dist\/src\/server\.js/,
  );
  assert.ok(fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('MALLOC_ARENA_MAX=2'), 'MALLOC_ARENA_MAX=2');
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const home = await fetch(`${base}/`, { redirect: 'manual' });
  assert.equal(home.headers.get('location'), '/app/');

  const index = await fetch(`${base}/app/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /text\/html/);
  const html = await index.text();
  assert.equal(html, fs.readFileSync(path.join(root, 'web/dist/index.html'), 'utf8'));
  const script = /src="(\/app\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, 'index.html loads a built script');
  const asset = await fetch(`${base}${script}`, { headers: { 'accept-encoding': 'br, gzip' } });
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  assert.ok((await asset.text()).length > 1000);

  // A page of the single-page app, reloaded or shared as a link, answers the same index.html.
  const deep = await fetch(`${base}/app/tickets/WEB-1`);
  assert.equal(deep.status, 200);
  assert.equal(await deep.text(), html);
});

test('SIGTERM stops it cleanly: exit code 0, the data directory unlocked', async () => {
  // Sent to the server, as systemd or a container engine does (npm's `sh -c` would not pass it on).
  process.kill(Number(/"pid":(\d+)/.exec(server.output())![1]), 'SIGTERM');
  assert.equal(await server.exited, 0, server.output());
  assert.ok(!fs.existsSync(path.join(dataDir, 'stageline.lock')), 'the lock is released');
  assert.match(server.output(), /"msg":"stopped"/);
});
