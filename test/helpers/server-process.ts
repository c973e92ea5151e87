import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';

const root = path.resolve(import.meta.dirname, '../..');

/** One statement on the PostgreSQL server at `url` (create or drop a test's own database), on its own connection. */
export async function onPostgres(url: string | undefined, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

export type ServerProcess = { child: ChildProcess; base: string; exited: Promise<unknown>; output: () => string };

/**
 * `src/server.ts` as a child process on a free loopback port (with only PATH and HOME from this environment, then
 * `env`), resolved once it logs the port it listens on; rejected with its output if it exits first or takes 90 s.
 * `children` collects it for the caller's `after` to kill.
 */
export function startServerProcess(env: Record<string, string>, children: ChildProcess[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 90 s:\n${output}`)), 90_000);
    const check = setInterval(() => {
      const match = /"port":(\d+)/.exec(output);
      if (match) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ child, base: `http://127.0.0.1:${match[1]}`, exited, output: () => output });
      }
    }, 50);
    void exited.then(() => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`the server exited before listening:\n${output}`));
    });
  });
}
