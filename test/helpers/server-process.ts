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

/** A server child process: its exit code once it exits, and everything it wrote so far (stdout and stderr). */
export type ChildServer = { child: ChildProcess; exited: Promise<number | null>; output: () => string };
export type ServerProcess = ChildServer & { base: string };

/** The server as the tests start it by default: the sources through tsx. */
const tsxServer = [process.execPath, '--import', 'tsx', 'src/server.ts'];

/**
 * `command` (the server through tsx unless told) as a child process in the repository, with only PATH and HOME from
 * this environment, then `env`; its output collected, not waited for: await `exited` (once its output is all read)
 * and read `output()`. `children` collects it for the caller's `after` to kill.
 */
export function spawnProcess(env: Record<string, string>, children: ChildProcess[], command = tsxServer): ChildServer {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/**
 * The server as a child process (`spawnProcess`, with loopback HOST and PORT 0 for a free port unless `env` says
 * otherwise), not waited for: for a start that must fail, await `exited` and read `output()`.
 */
export function spawnServerProcess(env: Record<string, string>, children: ChildProcess[], command = tsxServer): ChildServer {
  return spawnProcess({ HOST: '127.0.0.1', PORT: '0', ...env }, children, command);
}

/**
 * `spawnServerProcess`, resolved once the server logs the port it listens on (`base` is its URL); rejected with its
 * output if it exits first or takes longer than `timeoutMs` (90 s unless told).
 */
export function startServerProcess(
  env: Record<string, string>,
  children: ChildProcess[],
  { timeoutMs = 90_000, command = tsxServer }: { timeoutMs?: number; command?: string[] } = {},
): Promise<ServerProcess> {
  const server = spawnServerProcess(env, children, command);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within ${timeoutMs / 1000} s:\n${server.output()}`)), timeoutMs);
    const check = setInterval(() => {
      const match = /"port":(\d+)/.exec(server.output());
      if (match) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ ...server, base: `http://127.0.0.1:${match[1]}` });
      }
    }, 50);
    void server.exited.then(() => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`the server exited before listening:\n${server.output()}`));
    });
  });
}
