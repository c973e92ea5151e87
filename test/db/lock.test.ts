import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { DataDirInUseError, lockDataDir } from '../../src/db/lock.js';

// The embedded database's lock file: PID reuse must not fool it, a live Stageline must.
const root = path.resolve(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
const dirs: string[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-lock-'));
  dirs.push(dir);
  return dir;
}

function startTime(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

const hasProc = fs.existsSync(`/proc/${process.pid}/stat`);

test('a lock naming a live process that is not Stageline (its PID reused) is taken over', { skip: !hasProc && 'needs /proc' }, () => {
  const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  children.push(sleeper);
  const dir = tempDir();
  const lockFile = path.join(dir, 'stageline.lock');
  // As a Stageline that died would have left it, with a start time that is not the sleeper's.
  fs.writeFileSync(lockFile, JSON.stringify({ pid: sleeper.pid, startedAt: '1', command: 'node src/server.ts' }));
  const unlock = lockDataDir(dir);
  assert.equal(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid, process.pid);
  unlock();
  assert.equal(fs.existsSync(lockFile), false);

  // A lock file of an older version holds the bare PID: a live `sleep` is no Stageline either.
  fs.writeFileSync(lockFile, String(sleeper.pid));
  lockDataDir(dir)();
});

test('a lock naming a process that has exited is taken over', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'stageline.lock'), JSON.stringify({ pid: 2 ** 22 + 1, startedAt: '5', command: 'node' }));
  lockDataDir(dir)();
});

test('a live Stageline holding the directory refuses a second one, with a clear message', async () => {
  const dir = tempDir();
  const holder = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import('./src/db/lock.ts').then(({ lockDataDir }) => { lockDataDir(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000); })`,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(holder);
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
    holder.on('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
  const recorded = JSON.parse(fs.readFileSync(path.join(dir, 'stageline.lock'), 'utf8'));
  assert.equal(recorded.pid, holder.pid);
  if (hasProc) assert.equal(recorded.startedAt, startTime(holder.pid!));
  assert.throws(
    () => lockDataDir(dir),
    (error: Error) => {
      assert.ok(error instanceof DataDirInUseError);
      assert.match(error.message, new RegExp(`already in use by Stageline process ${holder.pid}`));
      assert.match(error.message, /set DATA_DIR/);
      return true;
    },
  );
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
  // Killed without cleaning up: the lock it left is stale now.
  lockDataDir(dir)();
});
