/**
 * What the forecast's background work costs (issue 19): CPU of the process and PostgreSQL execution time
 * (`pg_stat_statements`, this database's statements only, diffed rather than reset since the cluster may be shared) for
 *   1. a server's start until it has settled (spawn, `/readyz`, then until a few seconds pass with almost no CPU in it
 *      and no statement time in the database; the first scan runs 2 minutes after start, so it is not included);
 *   2. one periodic scan, after a previous one (the clock moved on by a scan interval between them);
 *   3. one periodic model refresh when nothing changed since the last one.
 *   DATABASE_URL=… npx tsx bench/forecast-background.ts [--port 4200] [--scans 3] [--skip-start]
 * The database needs `create extension pg_stat_statements` (the bench cluster preloads it).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import type { Clock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { ForecastService, SCAN_INTERVAL_MS } from '../src/modules/forecast/service.js';
import { benchServerCommand, benchServerEnv } from './server-env.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4200' },
    scans: { type: 'string', default: '3' },
    'skip-start': { type: 'boolean', default: false },
    top: { type: 'string', default: '0' },
  },
});
const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
if (!config.databaseUrl) throw new Error('set DATABASE_URL to the bench database');
const database = await openDatabase({ databaseUrl: config.databaseUrl, queryTimeoutMs: 0, migrate: false });
const db = database.db;
await sql`create extension if not exists pg_stat_statements`.execute(db);

type PgStats = Map<string, { ms: number; calls: number; query: string }>;
/** This database's statements' times, by statement. */
async function pgStats(): Promise<PgStats> {
  const { rows } = await sql<{ key: string; ms: number; calls: number; query: string }>`
    select userid || ':' || queryid || ':' || toplevel as key, (total_exec_time + total_plan_time)::float8 as ms, calls::int8 as calls,
      left(regexp_replace(query, '\\s+', ' ', 'g'), 110) as query
    from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
      and query not like '%pg_stat_statements%'`.execute(db);
  return new Map(rows.map((row) => [row.key, { ms: Number(row.ms), calls: Number(row.calls), query: row.query }]));
}
/**
 * The time and calls between two snapshots. The view keeps a bounded number of statements for the whole (shared)
 * cluster and evicts the least used: a statement missing from `before`, or with fewer calls than then, counts whole.
 */
function pgDiff(before: PgStats, after: PgStats, print = false): { ms: number; calls: number } {
  let ms = 0;
  let calls = 0;
  const top: { ms: number; calls: number; query: string }[] = [];
  for (const [key, now] of after) {
    const was = before.get(key);
    const reset = !was || was.calls > now.calls;
    const one = { ms: reset ? now.ms : now.ms - was.ms, calls: reset ? now.calls : now.calls - was.calls, query: now.query };
    ms += one.ms;
    calls += one.calls;
    if (one.calls > 0) top.push(one);
  }
  top.sort((a, b) => b.ms - a.ms);
  for (const one of print ? top.slice(0, Number(values.top)) : []) console.log(`    ${one.ms.toFixed(0)} ms ${one.calls}× ${one.query}`);
  return { ms, calls };
}
async function pgTime(since: PgStats, print = false): Promise<{ ms: number; calls: number }> {
  return pgDiff(since, await pgStats(), print);
}
/** This probe's own statements, counted to subtract them. */
const PROBE_CALLS = 1;

function procCpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime, stime: fields 14 and 15 of the whole line (12 and 13 after the command), in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(label: string, work: () => Promise<unknown>) {
  const pgBefore = await pgStats();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await work();
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const pg = await pgTime(pgBefore, true);
  console.log(
    `${label}: process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, PostgreSQL ${pg.ms.toFixed(0)} ms ` +
      `in ${pg.calls - PROBE_CALLS} statements, wall ${wall.toFixed(0)} ms`,
  );
}

const { rows: sizes } = await sql<{ tickets: number; open: number }>`
  select count(*)::int as tickets, count(*) filter (where status <> 'closed')::int as open from tickets`.execute(db);
console.log(`${sizes[0]!.tickets} tickets, ${sizes[0]!.open} open`);

// 1. A server's start until it settles.
if (!values['skip-start']) {
  const root = path.resolve(import.meta.dirname, '..');
  const pgBefore = await pgStats();
  const command = benchServerCommand(false);
  const child = spawn(process.execPath, command.args, {
    cwd: root,
    env: {
      ...command.env,
      ...process.env,
      ...benchServerEnv(Number(values.port), 'forecast-background-bench-token'),
      DATABASE_URL: config.databaseUrl,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const spawned = performance.now();
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error('the server exited before it was ready');
    const ok = await fetch(`http://127.0.0.1:${values.port}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) break;
    if (performance.now() - spawned > 120_000) throw new Error('the server did not become ready');
    await sleep(200);
  }
  const ready = performance.now() - spawned;
  // Settled: 5 s in a row with < 50 ms of the server's CPU and < 50 ms of statement time each.
  let quiet = 0;
  let lastCpu = procCpuMs(child.pid!);
  let lastPg = await pgTime(pgBefore);
  while (quiet < 5 && performance.now() - spawned < 110_000) {
    await sleep(1000);
    const cpu = procCpuMs(child.pid!);
    const pg = await pgTime(pgBefore);
    quiet = cpu - lastCpu < 50 && pg.ms - lastPg.ms < 50 ? quiet + 1 : 0;
    lastCpu = cpu;
    lastPg = pg;
  }
  const settled = performance.now() - spawned - quiet * 1000;
  const cpu = procCpuMs(child.pid!);
  const pg = await pgTime(pgBefore, true);
  console.log(
    `start: ready after ${ready.toFixed(0)} ms, settled after ${settled.toFixed(0)} ms; server CPU ${cpu} ms, ` +
      `PostgreSQL ${pg.ms.toFixed(0)} ms in ${pg.calls} statements`,
  );
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

// 2. and 3. In this process, on a clock that moves a scan interval ahead between scans.
let offset = 0;
const clock: Clock = { now: () => new Date(Date.now() + offset) };
const context = { config, database, clock, metrics: new Registry() };
// Refreshes on the real clock (a model checked on a clock ahead would be recomputed by the next server's start).
const refresher = new ForecastService({ ...context, clock: { now: () => new Date() } });
await measure('refresh (this process builds its models)', () => refresher.refresh());
await refresher.close();
const forecast = new ForecastService(context);
await measure('scan (the first of this process)', () => forecast.scan());
for (let i = 1; i <= Number(values.scans); i += 1) {
  offset += SCAN_INTERVAL_MS;
  await measure(`scan ${i} interval(s) later`, () => forecast.scan());
}
await forecast.close();
const next = new ForecastService({ ...context, clock: { now: () => new Date() } });
await measure('refresh, nothing changed (a new process: builds its models)', () => next.refresh());
await measure('refresh again, nothing changed', () => next.refresh());
await next.close();
await database.close();
