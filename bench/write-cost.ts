/**
 * What one write costs, exactly (issue 19): statements per request and in the consumers it wakes, and the server's
 * CPU per write. `DATABASE_URL=postgres://…/db npx tsx bench/write-cost.ts [--writes N] [--port P] [--compiled]`
 *
 * Starts the real server on DATABASE_URL (which must have pg_stat_statements), then for each of create, PATCH and
 * transition: resets pg_stat_statements, drives N writes with autocannon (10 connections, as bench/run.ts does),
 * waits for the consumers (dispatch, outbox, folding) to settle, and reads the server's CPU time (/proc/<pid>/stat)
 * and every statement's calls and time. An idle window of the same length is measured first and subtracted, so the
 * periodic jobs' own statements do not count against the writes.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { benchServerCommand, benchServerEnv } from './server-env.js';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    writes: { type: 'string', default: '2000' },
    port: { type: 'string', default: '4102' },
    settle: { type: 'string', default: '6000' },
    compiled: { type: 'boolean', default: false },
    only: { type: 'string' },
    top: { type: 'string', default: '40' },
  },
});
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const writes = Number(values.writes);
const port = Number(values.port);
const settleMs = Number(values.settle);
const token = 'bench-admin-token-0123456789abcdef';
const base = `http://127.0.0.1:${port}`;
const ticksPerSecond = 100;

const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();

const command = benchServerCommand(Boolean(values.compiled));
const server = spawn(process.execPath, [...(process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...command.args], {
  cwd: root,
  env: { ...command.env, ...process.env, ...benchServerEnv(port, token) },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const pid = server.pid!;

function cpuMs(): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime, stime: fields 14 and 15 of stat; after "pid (comm) " they are the 12th and 13th.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function api(url: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${url}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

for (let i = 0; ; i += 1) {
  try {
    if ((await fetch(`${base}/readyz`)).ok) break;
  } catch {
    /* not yet */
  }
  if (i > 2400) throw new Error('server not ready');
  await sleep(50);
}
console.log(`server ready (pid ${pid})`);

// Open tickets of project web: the first 300 move along the workflow, the next 300 are patched.
const { rows: sample } = await client.query<{ id: string }>(
  `select id from tickets where project = 'web' and status <> 'closed' and current_stage_id is not null order by number desc limit 600`,
);
const moving = sample.slice(0, 300).map((row) => row.id);
const patched = sample.slice(300).map((row) => row.id);
const order = ['intake', 'triage', 'diagnosis', 'fix', 'verification'];
const from = await Promise.all(
  moving.map(async (id) => order.indexOf((await api(`/api/tickets/${id}`)).body?.data?.stage?.key ?? 'intake')),
);
const priorities = ['low', 'medium', 'high'];

type Kind = { name: string; method: 'POST' | 'PATCH'; paths: string[]; body: (i: number) => string };
const kinds: Kind[] = [
  {
    name: 'create',
    method: 'POST',
    paths: ['/api/tickets'],
    body: (i) => JSON.stringify({ subject: `Write cost ${i}`, project: 'web', priority: 'low' }),
  },
  {
    name: 'patch',
    method: 'PATCH',
    paths: patched.map((id) => `/api/tickets/${id}`),
    body: (i) => JSON.stringify({ priority: priorities[(i + Math.floor(i / patched.length) + 1) % priorities.length] }),
  },
  {
    name: 'transition',
    method: 'POST',
    paths: moving.map((id) => `/api/tickets/${id}/transitions`),
    body: (i) => JSON.stringify({ to: order[(from[i % moving.length]! + 1 + Math.floor(i / moving.length)) % order.length] }),
  },
];

/** Each kind's requests number on from the last one, so a ticket's next move is always from where it is. */
const counters = new Map<string, number>();
async function drive(kind: Kind, amount: number): Promise<{ ok: number; non2xx: number; seconds: number }> {
  let counter = counters.get(kind.name) ?? 0;
  const started = performance.now();
  const result = await autocannon({
    url: base,
    connections: 10,
    amount,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: [
      {
        method: kind.method,
        setupRequest: (request) => {
          const index = counter++;
          return { ...request, path: kind.paths[index % kind.paths.length]!, body: kind.body(index) };
        },
      },
    ],
  });
  counters.set(kind.name, counter);
  return { ok: result['2xx'], non2xx: result.non2xx, seconds: (performance.now() - started) / 1000 };
}

type Stat = { queryid: string; toplevel: boolean; query: string; calls: number; total_ms: number; rows: number };
async function stats(): Promise<Map<string, Stat>> {
  const { rows } = await client.query<Stat>(
    `select queryid::text || toplevel::text as queryid, toplevel, query, calls::int, total_exec_time as total_ms, rows::int from pg_stat_statements
     where dbid = (select oid from pg_database where datname = current_database()) and query not ilike '%pg_stat_statements%'`,
  );
  return new Map(rows.map((row) => [row.queryid, row]));
}

/** When pg_stat_statements was last reset (by anyone: the cluster is shared, so a window is diffed, not reset). */
async function resetAt(): Promise<string> {
  return (await client.query<{ at: string }>('select stats_reset::text as at from pg_stat_statements_info')).rows[0]!.at;
}

function diff(after: Map<string, Stat>, before: Map<string, Stat>): Map<string, Stat> {
  const out = new Map<string, Stat>();
  for (const [id, row] of after) {
    const was = before.get(id);
    const calls = row.calls - (was?.calls ?? 0);
    if (calls > 0) out.set(id, { ...row, calls, total_ms: row.total_ms - (was?.total_ms ?? 0), rows: row.rows - (was?.rows ?? 0) });
  }
  return out;
}

async function window(run: () => Promise<unknown>) {
  for (let attempt = 0; ; attempt += 1) {
    const reset0 = await resetAt();
    const before = await stats();
    const cpu0 = cpuMs();
    const t0 = performance.now();
    await run();
    const cpuRequests = cpuMs() - cpu0;
    const t1 = performance.now();
    await sleep(settleMs);
    const cpuAll = cpuMs() - cpu0;
    const after = await stats();
    if ((await resetAt()) === reset0 || attempt >= 3) {
      if (attempt >= 3) console.log('pg_stat_statements was reset during every attempt: statement counts are partial');
      return { cpuRequests, cpuAll, requestSeconds: (t1 - t0) / 1000, stats: diff(after, before) };
    }
    console.log('pg_stat_statements was reset by someone during the window: again');
  }
}

// Warm up: JIT, caches, the consumers' cursors.
for (const kind of kinds) await drive(kind, 300);
await sleep(settleMs);

// The periodic jobs' own statements and CPU per second with no writes, subtracted from each window by its length.
const idle = await window(() => sleep(settleMs));
const idleSeconds = idle.requestSeconds + settleMs / 1000;
const idleRate = (id: string) => (idle.stats.get(id)?.calls ?? 0) / idleSeconds;
const idleMsRate = (id: string) => (idle.stats.get(id)?.total_ms ?? 0) / idleSeconds;
const idleCpuRate = idle.cpuAll / idleSeconds;
console.log(
  `idle: server CPU ${Math.round(idleCpuRate)} ms/s, ${Math.round([...idle.stats.values()].filter((r) => r.toplevel).reduce((s, r) => s + r.calls, 0) / idleSeconds)} statements/s`,
);

const report: Record<string, unknown> = {};
for (const kind of kinds) {
  if (values.only && !new RegExp(values.only).test(kind.name)) continue;
  let driven = { ok: 0, non2xx: 0, seconds: 0 };
  const measured = await window(async () => {
    driven = await drive(kind, writes);
  });
  const n = driven.ok;
  const seconds = measured.requestSeconds + settleMs / 1000;
  const all = [...measured.stats.values()].map((row) => ({
    ...row,
    calls: row.calls - idleRate(row.queryid) * seconds,
    total_ms: row.total_ms - idleMsRate(row.queryid) * seconds,
  }));
  const top = (rows: Iterable<Stat>) => [...rows].filter((row) => row.toplevel);
  const calls = top(all).reduce((sum, row) => sum + Math.max(0, row.calls), 0);
  const nested = all.filter((row) => !row.toplevel).reduce((sum, row) => sum + Math.max(0, row.calls), 0);
  const ms = top(all).reduce((sum, row) => sum + row.total_ms, 0);
  const out = {
    writes: n,
    non2xx: driven.non2xx,
    req_per_s: Math.round(n / driven.seconds),
    server_cpu_ms_per_write_during_requests: +((measured.cpuRequests - idleCpuRate * measured.requestSeconds) / n).toFixed(2),
    server_cpu_ms_per_write_with_consumers: +((measured.cpuAll - idleCpuRate * seconds) / n).toFixed(2),
    statements_per_write: +(calls / n).toFixed(2),
    nested_statements_per_write: +(nested / n).toFixed(2),
    db_exec_ms_per_write: +(ms / n).toFixed(3),
  };
  report[kind.name] = out;
  console.log(`\n== ${kind.name}: ${JSON.stringify(out)}`);
  for (const row of all
    .filter((row) => row.calls > 0.5)
    .sort((a, b) => b.calls - a.calls || b.total_ms - a.total_ms)
    .slice(0, Number(values.top))) {
    console.log(
      `${row.toplevel ? ' ' : 'N'}${(row.calls / n).toFixed(3).padStart(7)}/w ${(row.total_ms / n).toFixed(3).padStart(7)} ms/w  ${row.query.replace(/\s+/g, ' ').slice(0, 230)}`,
    );
  }
}
console.log(`\n${JSON.stringify(report)}`);
server.kill('SIGTERM');
await client.end();
