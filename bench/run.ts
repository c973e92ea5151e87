/**
 * The load benchmark: `npm run bench [-- --quick] [-- --tickets N] [-- --skip-data]`.
 * Starts the real server (src/server.ts) against DATABASE_URL or a fresh embedded database, loads each endpoint with
 * autocannon from this process, and writes bench/results/<date>-<db>.md and .json. Beside the endpoints, in the same
 * run: a bare-Fastify baseline, the two references of issue 19 (bench/references.ts: a naive lookup and a lean insert
 * on the same database and driver) and, on PostgreSQL, `pgbench -S` and `pgbench -N`; every endpoint is reported as a
 * ratio of its reference and the issues' targets get a pass/miss table (docs/performance.md). It asserts nothing about
 * speed.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../src/db/database.js';
import { generateData, tenFieldValues } from './data.js';
import { benchServerCommand, benchServerEnv } from './server-env.js';
import { isStageline, judge, names, type Result, targetsMarkdown } from './targets.js';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    tickets: { type: 'string' },
    'skip-data': { type: 'boolean', default: false },
    connections: { type: 'string', default: '10' },
    seconds: { type: 'string' },
    /** Run the server compiled (`npm run build:server`, then node dist/src/server.js) instead of through tsx. */
    compiled: { type: 'boolean', default: false },
    /** Only the endpoints whose name matches this regular expression (the baseline always runs). */
    only: { type: 'string' },
    /** The lookups' Accept-Encoding, as browsers send it; `--accept-encoding identity` measures uncompressed answers. */
    'accept-encoding': { type: 'string', default: 'gzip, br' },
    /** A streaming replica of DATABASE_URL: the server reads from it (DATABASE_READ_URL); compare with a run without. */
    'read-url': { type: 'string' },
    /** Appended to the results' file name (e.g. a run of only some endpoints). */
    label: { type: 'string' },
    /** With --skip-data: the tickets/s that `npm run bench:data` printed for this data set, reported as the import rate. */
    'import-rate': { type: 'string' },
    /** The server's port (default: a free one); the yardsticks always take a free one. */
    port: { type: 'string' },
  },
});
const quick = values.quick;
const tickets = Number(values.tickets ?? (quick ? 20_000 : 1_000_000));
const seconds = Number(values.seconds ?? (quick ? 2 : 10));
const connections = Number(values.connections);
const only = values.only ? new RegExp(values.only) : null;
const acceptEncoding = values['accept-encoding'];
const databaseUrl = process.env.DATABASE_URL || null;
const kind: 'postgres' | 'pglite' = databaseUrl ? 'postgres' : 'pglite';
const token = process.env.ADMIN_API_TOKEN || 'bench-admin-token-0123456789abcdef';
const readUrl = values['read-url'] ?? null;
if (readUrl && !databaseUrl) throw new Error('--read-url needs DATABASE_URL (the embedded database has no replicas)');
const dataDir = databaseUrl ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-bench-'));

const log = (message: string) => console.log(`[bench] ${message}`);

function start(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out) ?? /"port":(\d+)/.exec(out) ?? /http:\/\/[\d.]+:(\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}: ${stderr.slice(-2000)}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

/** Busy share of all CPUs over `ms` (from /proc/stat): the server, the database and anything else on the machine. */
async function cpuBusy(ms: number): Promise<number> {
  const read = () => {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: fields[3]! + (fields[4] ?? 0), total: fields.reduce((sum, value) => sum + value, 0) };
  };
  const before = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = read();
  return after.total === before.total ? 0 : 1 - (after.idle - before.idle) / (after.total - before.total);
}

/**
 * Waits (up to `timeoutMs`) for the work a server starts with — the forecast's first model refresh, the first
 * sweeps — to end, so the first endpoint is not measured against it; returns how long that took.
 */
async function waitSettled(timeoutMs = 180_000): Promise<number> {
  const started = performance.now();
  let quiet = 0;
  while (performance.now() - started < timeoutMs && quiet < 3) quiet = (await cpuBusy(1000)) < 0.25 ? quiet + 1 : 0;
  return Math.round(performance.now() - started);
}

async function waitReady(url: string, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the server did not become ready');
}

let peakRss = 0;
let serverPid = 0;

/**
 * Percentiles of one load, from every response's own time (nearest rank, 0.1 ms). None completed in the window:
 * Infinity (written as null in the JSON), so no latency target can pass on it.
 */
function percentiles(samples: number[]) {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => (sorted.length ? Math.round(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]! * 10) / 10 : Infinity);
  return { p50_ms: at(0.5), p90_ms: at(0.9), p95_ms: at(0.95), p97_5_ms: at(0.975), p99_ms: at(0.99) };
}

/** Loads one endpoint with autocannon (`connections` at once, `seconds` long); the server's RSS is read after it. */
async function load(
  base: string,
  pid: number,
  name: string,
  method: 'GET' | 'POST' | 'PATCH',
  paths: string[],
  body?: (index: number) => string,
  duration = seconds,
): Promise<Result | null> {
  if (only && !name.startsWith('baseline') && !name.startsWith('reference: ') && !only.test(name)) return null;
  let counter = 0;
  const firstStarted = performance.now();
  const first = await fetch(`${base}${paths[0]}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'accept-encoding': acceptEncoding },
    ...(body ? { body: body(counter++) } : {}),
  });
  await first.arrayBuffer();
  const firstRequestMs = Math.round(performance.now() - firstStarted);
  const samples: number[] = [];
  const running = autocannon({
    url: base,
    connections,
    duration,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'accept-encoding': acceptEncoding },
    requests: [
      {
        method,
        setupRequest: (request) => {
          const index = counter++;
          return { ...request, path: paths[index % paths.length]!, ...(body ? { body: body(index) } : {}) };
        },
      },
    ],
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  // autocannon's own percentiles are whole milliseconds and have no p95: keep every response's time instead.
  (running as autocannon.Instance).on('response', (_client, _status, _bytes, responseTime) => samples.push(responseTime));
  const result = await running;
  const rss = rssMb(pid);
  if (pid === serverPid) peakRss = Math.max(peakRss, rss);
  const out: Result = {
    name,
    method,
    path: paths[0]!,
    requests_per_second: Math.round(result.requests.average),
    ratio_to_baseline: null,
    reference: null,
    ratio_to_reference: null,
    ...percentiles(samples),
    errors: result.errors + result.timeouts,
    non_2xx: result.non2xx,
    non_2xx_status: null,
    single_request_ms: null,
    first_request_ms: firstRequestMs,
    server_rss_mb: rss,
  };
  if (result.requests.total === 0 || result.non2xx > 0) {
    const startedAt = performance.now();
    const res = await fetch(`${base}${paths[0]}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body ? { body: body(counter++) } : {}),
    });
    await res.arrayBuffer();
    if (result.requests.total === 0) out.single_request_ms = Math.round(performance.now() - startedAt);
    if (res.status >= 300) out.non_2xx_status = res.status;
  }
  log(
    `${name}: ${out.requests_per_second} req/s, p50 ${out.p50_ms} ms, p95 ${out.p95_ms} ms, p99 ${out.p99_ms} ms, errors ${out.errors}, non-2xx ${out.non_2xx}` +
      `${out.non_2xx_status ? ` (${out.non_2xx_status})` : ''}` +
      `${out.single_request_ms === null ? '' : `, none completed in the window (one alone: ${out.single_request_ms} ms)`}, rss ${rss} MB`,
  );
  return out;
}

/** Stops a helper process and waits until it has exited (the references must let go of a PGlite data directory). */
async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** 200 SSE clients: time to connect them all, then how long one change takes to reach every one of them. */
async function sse(base: string, pid: number, clients = 200) {
  const controller = new AbortController();
  const connectStart = performance.now();
  const received: Promise<number>[] = [];
  const readers = await Promise.all(
    Array.from({ length: clients }, async () => {
      const res = await fetch(`${base}/api/events`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      return res.body!.getReader();
    }),
  );
  const connectMs = Math.round(performance.now() - connectStart);
  const marker = `sse-${Date.now()}`;
  let sentAt = 0;
  for (const reader of readers) {
    received.push(
      (async () => {
        const decoder = new TextDecoder();
        let text = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return -1;
          text += decoder.decode(value);
          if (sentAt && text.includes('ticket')) return performance.now() - sentAt;
          if (text.length > 100_000) text = text.slice(-10_000);
        }
      })().catch(() => -1),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  sentAt = performance.now();
  await fetch(`${base}/api/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subject: marker }),
  });
  const timeout = new Promise<number[]>((resolve) => setTimeout(() => resolve([]), 10_000));
  const delays = (await Promise.race([Promise.all(received), timeout])).filter((d) => d >= 0).sort((a, b) => a - b);
  const rss = rssMb(pid);
  peakRss = Math.max(peakRss, rss);
  controller.abort();
  const at = (q: number) => (delays.length ? Math.round(delays[Math.min(delays.length - 1, Math.floor(q * delays.length))]!) : null);
  const out = {
    clients,
    connect_all_ms: connectMs,
    delivered: delays.length,
    delivery_p50_ms: at(0.5),
    delivery_p99_ms: at(0.99),
    server_rss_mb: rss,
  };
  log(`SSE: ${JSON.stringify(out)}`);
  return out;
}

/**
 * `pgbench -S` (select only) and `pgbench -N` (simple update: three writes and a select per transaction) with the
 * bench's connections, on a scratch database of their own next to the bench's (`<database>_pgbench`, made by
 * `pgbench -i` and dropped after): what this PostgreSQL server does on this machine, beside the references.
 */
function pgbench(url: string, duration: number, scale: number) {
  const bench = new URL(url);
  const scratch = `${decodeURIComponent(bench.pathname.slice(1)) || 'stageline'}_pgbench`;
  bench.pathname = `/${encodeURIComponent(scratch)}`;
  const admin = url;
  const quoted = `"${scratch.replaceAll('"', '""')}"`;
  const psql = (command: string) => spawnSync('psql', [admin, '-qc', command], { encoding: 'utf8' });
  psql(`drop database if exists ${quoted}`);
  const created = psql(`create database ${quoted}`);
  const out = {
    scale,
    clients: connections,
    seconds: duration,
    select_only_tps: null as number | null,
    simple_update_tps: null as number | null,
  };
  try {
    if (created.status !== 0) throw new Error(`create database ${scratch}: ${created.stderr}`);
    const init = spawnSync('pgbench', ['-i', '-s', String(scale), '-q', bench.toString()], { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`pgbench -i: ${init.stderr.slice(-500)}`);
    const run = (mode: '-S' | '-N') => {
      const ran = spawnSync('pgbench', [mode, '-c', String(connections), '-j', '2', '-T', String(duration), bench.toString()], {
        encoding: 'utf8',
      });
      const tps = /tps = ([\d.]+)/.exec(ran.stdout ?? '');
      if (!tps) log(`pgbench ${mode} failed: ${(ran.stderr ?? '').slice(-500)}`);
      return tps ? Math.round(Number(tps[1])) : null;
    };
    out.select_only_tps = run('-S');
    out.simple_update_tps = run('-N');
  } catch (error) {
    log(`pgbench not run: ${(error as Error).message}`);
  } finally {
    psql(`drop database if exists ${quoted}`);
  }
  log(`pgbench (scale ${scale}, ${connections} clients): -S ${out.select_only_tps} tps, -N ${out.simple_update_tps} tps`);
  return out;
}

/**
 * What the data set takes on disk: every table of Stageline's schema with its indexes and TOAST
 * (`pg_total_relation_size`), per ticket and per million tickets, and the biggest tables; plus the whole database
 * (PostgreSQL: `pg_database_size`; PGlite: its data directory). Measured after the load, before the references add
 * their table (in a schema of their own) and before the endpoints write.
 */
async function storage(open?: Database) {
  const database =
    open ??
    (await openDatabase(
      databaseUrl ? { databaseUrl, migrate: false, queryTimeoutMs: 0, poolSize: 1 } : { dataDir: dataDir!, migrate: false },
    ));
  try {
    const { rows } = await sql<{ name: string; total: string; indexes: string }>`
      select c.relname as name, pg_total_relation_size(c.oid)::text as total, pg_indexes_size(c.oid)::text as indexes
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'm')
      order by pg_total_relation_size(c.oid) desc`.execute(database.db);
    const count = Number((await sql<{ n: string }>`select count(*)::text as n from tickets`.execute(database.db)).rows[0]!.n);
    const schemaBytes = rows.reduce((sum, row) => sum + Number(row.total), 0);
    const databaseBytes = databaseUrl
      ? Number((await sql<{ size: string }>`select pg_database_size(current_database())::text as size`.execute(database.db)).rows[0]!.size)
      : null;
    const perTicket = count > 0 ? Math.round(schemaBytes / count) : null;
    return {
      tickets: count,
      schema_bytes: schemaBytes,
      bytes_per_ticket: perTicket,
      /** Decimal gigabytes (10^9 bytes) per 1,000,000 tickets. */
      gb_per_million_tickets: perTicket === null ? null : Math.round(perTicket / 10) / 100,
      database_bytes: databaseBytes ?? directoryBytes(dataDir!),
      biggest_tables: rows
        .slice(0, 10)
        .map((row) => ({ name: row.name, total_bytes: Number(row.total), index_bytes: Number(row.indexes) })),
    };
  } finally {
    if (!open) await database.close();
  }
}

function directoryBytes(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
    const full = path.join(dir, entry.name);
    return sum + (entry.isDirectory() ? directoryBytes(full) : fs.statSync(full).size);
  }, 0);
}

/**
 * The references, on the bench's database, with the same connections as the endpoints: a naive lookup of the
 * sample tickets and a lean insert (bench/references.ts). Also hands back the sample's ids for GET /api/tickets/:id.
 */
async function references(): Promise<{ ids: string[]; results: Result[] }> {
  const server = await start('bench/references.ts', { PORT: '0', ...(dataDir ? { DATA_DIR: dataDir } : {}) });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const ids = (await (await fetch(`${base}/ids`)).json()) as string[];
    if (ids.length === 0) throw new Error('no open tickets to load');
    const lookup = await load(
      base,
      server.child.pid!,
      names.naiveLookup,
      'GET',
      ids.map((id) => `/lookup/${encodeURIComponent(id)}`),
    );
    const insert = await load(base, server.child.pid!, names.leanInsert, 'POST', ['/insert'], (i) =>
      JSON.stringify({ subject: `Bench ticket ${i}`, project: 'web' }),
    );
    return { ids, results: [lookup!, insert!] };
  } finally {
    await stop(server.child);
  }
}

async function main() {
  const started = Date.now();
  log(
    `${kind}, ${values['skip-data'] ? 'the tickets already there' : `${tickets} tickets`}, ${connections} connections, ${seconds} s per endpoint${quick ? ' (quick)' : ''}`,
  );

  // 1. Data, through the import path (PGlite: before the server opens the data directory).
  let importRate: number | null = null;
  let importSource: string | null = null;
  let existing = 0;
  let stored: Awaited<ReturnType<typeof storage>> | null = null;
  if (!values['skip-data']) {
    const database = await openDatabase(databaseUrl ? { databaseUrl } : { dataDir: dataDir! });
    try {
      const report = await generateData(database, tickets);
      importRate = report.imported > 0 ? report.tickets_per_second : null;
      if (importRate !== null) importSource = `this run: ${report.imported} tickets into a database holding ${report.existing}`;
      existing = report.existing;
      log(
        `import: ${report.imported} tickets in ${report.seconds} s (${report.tickets_per_second}/s), ${report.existing} already there, ${report.rejected} rejected`,
      );
      stored = await storage(database);
    } finally {
      await database.close();
    }
  } else if (values['import-rate']) {
    importRate = Number(values['import-rate'].replaceAll(',', ''));
    if (!Number.isFinite(importRate) || importRate <= 0) throw new Error('--import-rate must be the tickets/s npm run bench:data printed');
    importSource = 'given with --import-rate (as npm run bench:data printed it for this data set)';
  }
  stored ??= await storage();
  log(
    `storage: ${stored.tickets} tickets, ${stored.bytes_per_ticket} bytes per ticket (${stored.gb_per_million_tickets} GB per million), database ${Math.round(stored.database_bytes / 2 ** 20)} MB`,
  );

  // 2. The yardsticks, alone on the machine: bare Fastify, the two references, pgbench (PostgreSQL only).
  const baseline = await start('bench/baseline.ts', { PORT: '0' });
  const baselineResult = await load(`http://127.0.0.1:${baseline.port}`, baseline.child.pid!, names.baseline, 'GET', ['/']);
  await stop(baseline.child);
  if (!baselineResult) throw new Error('the baseline did not run');
  const reference = await references();
  const [naiveLookup, leanInsert] = reference.results as [Result, Result];
  const ids = reference.ids;
  const pgbenchResult = databaseUrl ? pgbench(databaseUrl, seconds, quick ? 1 : 10) : null;

  // 3. The real server; cold start = spawn until /readyz answers. Monitor answers are computed afresh for every
  // request (the target is on that) unless MONITOR_CACHE_SECONDS says otherwise.
  const port = values.port ? Number(values.port) : await freePort();
  if (values.compiled) {
    const build = spawnSync('npm', ['run', 'build:server'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build:server failed');
  }
  const coldStart = performance.now();
  const env = benchServerEnv(port, token);
  if (dataDir) env.DATA_DIR = dataDir;
  if (readUrl) env.DATABASE_READ_URL = readUrl;
  const command = benchServerCommand(Boolean(values.compiled));
  const server = spawn(process.execPath, command.args, {
    cwd: root,
    env: { ...command.env, ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<never>((_, reject) => server.once('exit', (code) => reject(new Error(`the server exited with ${code}`))));
  exited.catch(() => {});
  const base = `http://127.0.0.1:${port}`;
  await Promise.race([waitReady(base), exited]);
  if (readUrl) {
    // The replica must have replayed the data just loaded before it serves a read.
    const serving = async () =>
      ((await (await fetch(`${base}/readyz`)).json()) as { replicas?: { serving: boolean }[] }).replicas?.[0]?.serving;
    const deadline = Date.now() + 120_000;
    while (!(await serving())) {
      if (Date.now() > deadline) throw new Error('the read replica did not catch up');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const coldStartMs = Math.round(performance.now() - coldStart);
  const pid = server.pid!;
  serverPid = pid;
  const idleRss = rssMb(pid);
  log(`server ready in ${coldStartMs} ms on ${base}, rss ${idleRss} MB`);
  const startupWorkMs = await waitSettled();
  log(`start-up work done ${startupWorkMs} ms after /readyz (all CPUs under 25 % busy for 3 s)`);
  const api = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${url}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely read answers of many routes
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };

  try {
    const results: (Result | null)[] = [baselineResult, naiveLookup, leanInsert];
    // The same sample of open tickets as the naive lookup read.
    results.push(
      await load(
        base,
        pid,
        names.lookup,
        'GET',
        ids.map((id) => `/api/tickets/${encodeURIComponent(id)}`),
      ),
    );
    results.push(await load(base, pid, names.list, 'GET', ['/api/tickets?status=open,in_progress&project=web&priority=high&limit=50']));
    // What delivery forecasts add to a list page (issue 23): the same 50 open tickets without and with forecast=true,
    // after the models are built (the server rebuilds them every 10 minutes; a request only reads and simulates).
    if (!only || only.test(names.listOf50)) {
      const refreshed = await api('/api/forecast/refresh', { method: 'POST' });
      if (refreshed.status !== 200) throw new Error(`forecast refresh: ${refreshed.status}`);
    }
    const listOf50 = '/api/tickets?status=open,in_progress&limit=50';
    results.push(await load(base, pid, names.listOf50, 'GET', [listOf50]));
    results.push(await load(base, pid, names.listOf50Forecast, 'GET', [`${listOf50}&forecast=true`]));
    results.push(
      await load(
        base,
        pid,
        names.search,
        'GET',
        ['printer', 'invoice', 'vpn', 'crash'].map((q) => `/api/tickets?q=${q}&limit=50`),
      ),
    );
    // Custom fields (issue 25): a list filtered on a select field (15 % of the tickets are `high`).
    results.push(await load(base, pid, names.fieldFilter, 'GET', ['/api/tickets?field.severity=high&limit=50']));

    const spec = (await api('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const monitor = Object.keys(spec.paths).filter((p) => p.startsWith('/api/monitor/') && !p.includes('{') && spec.paths[p]!.get);
    // Each monitor endpoint for the biggest project (the per-project ones need one; the rest take it as a filter).
    for (const route of monitor) results.push(await load(base, pid, `GET ${route}?project=web`, 'GET', [`${route}?project=web`]));

    const hasEvents = Boolean(spec.paths['/api/events']?.get);
    const sseResult = hasEvents ? await sse(base, pid) : null;

    const createResult = await load(base, pid, names.create, 'POST', ['/api/tickets'], (i) =>
      JSON.stringify({ subject: `Bench ticket ${i}`, project: 'web', priority: 'low' }),
    );
    results.push(createResult);
    // Custom fields (issue 25): the same create with ten field values.
    const createFieldsResult = await load(base, pid, names.createWithFields, 'POST', ['/api/tickets'], (i) =>
      JSON.stringify({ subject: `Bench ticket ${i}`, project: 'web', priority: 'low', fields: tenFieldValues(i) }),
    );
    results.push(createFieldsResult);
    const createWithFieldsRatio =
      createResult?.requests_per_second && createFieldsResult?.requests_per_second
        ? Math.round((createResult.requests_per_second / createFieldsResult.requests_per_second) * 100) / 100
        : null;
    if (createWithFieldsRatio !== null) log(`create with 10 fields costs ${createWithFieldsRatio}x a create without`);

    // A PATCH that changes one field of a ticket each time (its priority, round the three), on tickets the
    // transitions below do not move.
    const patched = ids.length > 100 ? ids.slice(100) : ids;
    const priorities = ['low', 'medium', 'high'];
    results.push(
      await load(
        base,
        pid,
        names.patch,
        'PATCH',
        patched.map((id) => `/api/tickets/${encodeURIComponent(id)}`),
        (i) => JSON.stringify({ priority: priorities[(i + Math.floor(i / patched.length)) % priorities.length] }),
      ),
    );

    if (spec.paths['/api/tickets/{id}/transitions']?.post) {
      // 100 tickets move on along the workflow (any stage to any stage in the bench's projects), one step per request,
      // each from the stage it is in now: a move to the stage a ticket is already in would be a cheap 409.
      const order = ['intake', 'triage', 'diagnosis', 'fix', 'verification'];
      const moving = ids.slice(0, 100);
      const from = await Promise.all(
        moving.map(async (id) => order.indexOf((await api(`/api/tickets/${encodeURIComponent(id)}`)).body?.data?.stage?.key)),
      );
      results.push(
        await load(
          base,
          pid,
          names.transition,
          'POST',
          moving.map((id) => `/api/tickets/${encodeURIComponent(id)}/transitions`),
          (i) => JSON.stringify({ to: order[(from[i % moving.length]! + 1 + Math.floor(i / moving.length)) % order.length] }),
        ),
      );
    }
    if (spec.paths['/api/ops/{id}']?.post) {
      const fresh: string[] = [];
      for (let i = 0; i < 200; i += 1)
        fresh.push((await api('/api/tickets', { method: 'POST', body: JSON.stringify({ subject: `Ops bench ${i}` }) })).body.data.id);
      results.push(
        await load(
          base,
          pid,
          'POST /api/ops/:id (simulator)',
          'POST',
          fresh.map((id) => `/api/ops/${id}?force=true`),
          () => '{}',
        ),
      );
    }

    const measured = results.filter((result): result is Result => result !== null);
    const share = (value: number, of: number) => (of > 0 ? Math.round((value / of) * 1000) / 1000 : null);
    for (const result of measured) {
      result.ratio_to_baseline = share(result.requests_per_second, baselineResult.requests_per_second);
      if (!isStageline(result)) continue;
      const ref = result.method === 'GET' ? naiveLookup : leanInsert;
      result.reference = ref === naiveLookup ? 'naive lookup' : 'lean insert';
      result.ratio_to_reference = share(result.requests_per_second, ref.requests_per_second);
    }

    const date = new Date().toISOString().slice(0, 10);
    const summary = {
      date: new Date().toISOString(),
      database: kind,
      read_replica: readUrl !== null,
      monitor_cache_seconds: Number(env.MONITOR_CACHE_SECONDS),
      quick,
      compiled: values.compiled,
      server: values.compiled ? 'compiled (node dist/src/server.js)' : 'tsx src/server.ts',
      tickets,
      tickets_existing_before: existing,
      tickets_in_database: stored.tickets,
      connections,
      seconds_per_endpoint: seconds,
      machine: {
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        memory_gb: Math.round(os.totalmem() / 2 ** 30),
        load_average: os.loadavg().map((l) => Math.round(l * 10) / 10),
      },
      import_tickets_per_second: importRate,
      import_source: importSource,
      storage: stored,
      database_bytes: stored.database_bytes,
      database_mb_per_million_tickets:
        stored.tickets > 0 ? Math.round((stored.database_bytes / 2 ** 20) * (1_000_000 / stored.tickets)) : null,
      cold_start_ms: coldStartMs,
      startup_work_ms: startupWorkMs,
      server_idle_rss_mb: idleRss,
      server_peak_rss_mb: peakRss,
      references: {
        naive_lookup_rps: naiveLookup.requests_per_second,
        lean_insert_rps: leanInsert.requests_per_second,
        baseline_rps: baselineResult.requests_per_second,
      },
      pgbench: pgbenchResult,
      /** Kept for older readers of these files: pgbench.select_only_tps. */
      pgbench_select_tps: pgbenchResult?.select_only_tps ?? null,
      sse: sseResult,
      create_with_10_fields_cost_ratio: createWithFieldsRatio,
      endpoints: measured,
      targets: [] as ReturnType<typeof judge>,
      total_seconds: Math.round((Date.now() - started) / 1000),
    };
    summary.targets = judge(summary);
    for (const t of summary.targets)
      log(`target (issue ${t.issue}) ${t.target}: ${t.figure} — ${t.verdict}${t.note ? ` (${t.note})` : ''}`);
    const file = path.join(
      root,
      'bench/results',
      `${date}-${kind}${readUrl ? '-replica' : ''}${values.compiled ? '-compiled' : ''}${quick ? '-quick' : ''}${values.label ? `-${values.label}` : ''}`,
    );
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.json`, JSON.stringify(summary, null, 2) + '\n');
    fs.writeFileSync(`${file}.md`, markdown(summary));
    log(`wrote ${path.relative(root, file)}.md and .json in ${summary.total_seconds} s`);
  } finally {
    server.kill('SIGTERM');
    if (server.exitCode === null) await new Promise((resolve) => server.once('exit', resolve));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A latency for the table: none completed (Infinity, or null once read back from the JSON) is a dash. */
const ms = (value: number | null) => (value !== null && Number.isFinite(value) ? String(value) : '—');
const fmt = (value: number | null | undefined) => (value === null || value === undefined ? 'n/a' : value.toLocaleString('en-US'));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the summary object built above
function markdown(s: Record<string, any>): string {
  const endpoints = s.endpoints as Result[];
  const row = (r: Result) =>
    `| ${r.name} | ${fmt(r.requests_per_second)} | ${r.ratio_to_reference === null ? '' : `${r.ratio_to_reference}× ${r.reference}`} | ${ms(r.p50_ms)} | ${ms(r.p95_ms)} | ${ms(r.p99_ms)} | ${r.errors} | ${r.non_2xx}${r.non_2xx_status ? ` (${r.non_2xx_status})` : ''} | ${r.first_request_ms ?? ''} | ${r.single_request_ms ?? ''} | ${r.server_rss_mb} |`;
  const header = [
    '| endpoint | req/s | × reference | p50 ms | p95 ms | p99 ms | errors | non-2xx | first ms | one alone ms | RSS MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const pgb = s.pgbench;
  return [
    `# Stageline benchmark — ${s.date.slice(0, 10)}, ${s.database}${s.read_replica ? ', reads on a streaming replica' : ''}${s.quick ? ' (quick)' : ''}`,
    '',
    `${fmt(s.tickets_in_database)} tickets, ${s.connections} connections, ${s.seconds_per_endpoint} s per endpoint, server run by ${s.server}, monitor answers ${s.monitor_cache_seconds > 0 ? `reused for ${s.monitor_cache_seconds} s` : 'computed afresh'}; ${s.machine.cpus} CPUs (${s.machine.cpu}), ${s.machine.memory_gb} GB; load average at the end ${s.machine.load_average.join(' / ')}${s.machine.load_average[0] > 1.5 ? ' (a busy machine: other work was running)' : ''}.`,
    '',
    '## Targets',
    '',
    ...targetsMarkdown(s.targets, s as never),
    '',
    '## References, same run',
    '',
    ...header,
    ...endpoints.filter((r) => !isStageline(r)).map(row),
    '',
    `- pgbench (scratch database, scale ${pgb?.scale ?? 'n/a'}, ${s.connections} clients, ${s.seconds_per_endpoint} s): ${
      pgb ? `-S ${fmt(pgb.select_only_tps)} tps, -N ${fmt(pgb.simple_update_tps)} tps` : 'n/a (embedded database)'
    }`,
    '',
    '## Endpoints',
    '',
    'Reads are read against the naive lookup, writes against the lean insert: the share of its req/s (docs/performance.md).',
    '',
    ...header,
    ...endpoints.filter(isStageline).map(row),
    '',
    `- Import: ${s.import_tickets_per_second === null ? 'not measured (the run loaded no data; --import-rate gives bench:data’s figure)' : `${fmt(s.import_tickets_per_second)} tickets/s (${s.import_source})`}`,
    `- Storage: ${fmt(s.storage.schema_bytes)} bytes in Stageline's tables and indexes = ${fmt(s.storage.bytes_per_ticket)} bytes per ticket, ${s.storage.gb_per_million_tickets ?? 'n/a'} GB per million; whole database ${Math.round(s.database_bytes / 2 ** 20)} MB`,
    `- Biggest tables (with indexes, MB): ${(s.storage.biggest_tables as { name: string; total_bytes: number; index_bytes: number }[])
      .map((t) => `${t.name} ${Math.round(t.total_bytes / 2 ** 20)} (indexes ${Math.round(t.index_bytes / 2 ** 20)})`)
      .join(', ')}`,
    `- Cold start (spawn to /readyz): ${s.cold_start_ms} ms; the work a server starts with (the forecast's first model refresh, the first sweeps) then ran ${s.startup_work_ms} ms more, and the endpoints were measured after it`,
    `- Server RSS: ${s.server_idle_rss_mb} MB when ready, peak ${s.server_peak_rss_mb} MB`,
    `- Create with 10 custom fields: ${s.create_with_10_fields_cost_ratio ?? 'n/a'}× the cost of a create without (req/s ratio)`,
    `- SSE: ${s.sse ? `${s.sse.clients} clients connected in ${s.sse.connect_all_ms} ms; one change reached ${s.sse.delivered} of them, p50 ${s.sse.delivery_p50_ms} ms, p99 ${s.sse.delivery_p99_ms} ms` : 'n/a'}`,
    '',
    'Reproduce: see docs/performance.md (`npm run bench:data`, then `npm run bench -- --skip-data --compiled` on the same DATABASE_URL; `-- --quick` for the CI-sized run).',
    '',
  ].join('\n');
}

await main();
