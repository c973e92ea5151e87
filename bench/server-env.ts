import fs from 'node:fs';
import path from 'node:path';

/**
 * The settings a benchmarked server runs with, for `bench/run.ts` and `bench/write-cost.ts`: a known admin token,
 * quiet logs, no rate limit, no wait on OPS, and monitor answers computed afresh unless the caller's
 * `MONITOR_CACHE_SECONDS` says otherwise.
 */
export function benchServerEnv(port: number, token: string): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_API_TOKEN: token,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '0',
    OPS_WAIT_MS: '0',
    MONITOR_CACHE_SECONDS: process.env.MONITOR_CACHE_SECONDS ?? '0',
  };
}

/**
 * How the benchmarked server is started: `compiled` as production runs it, from package.json's `start:compiled` (its
 * leading `NAME=value` settings become environment, `node` this Node), so the bench measures the memory settings the
 * Dockerfile and `npm run start:compiled` use; otherwise through tsx, as `npm start`.
 */
export function benchServerCommand(compiled: boolean): { args: string[]; env: Record<string, string> } {
  if (!compiled) return { args: ['--import', 'tsx', 'src/server.ts'], env: {} };
  const root = path.resolve(import.meta.dirname, '..');
  const script = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts[
    'start:compiled'
  ];
  const words = script.split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [name, value] = words.shift()!.split('=', 2) as [string, string];
    env[name] = value;
  }
  if (words.shift() !== 'node') throw new Error(`start:compiled does not run node: ${script}`);
  return { args: words, env };
}
