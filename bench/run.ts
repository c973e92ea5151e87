/**
 * The load benchmark: `npm run bench [-- --quick] [-- --tickets N] [-- --skip-data]`.
 * Starts the real server (src/server.ts) against DATABASE_URL or a fresh embedded database, loads each endpoint with
 * autocannon from this process, and writes bench/results/<date>-<db>.md and .json. It asserts nothing about speed.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import { generateData, tenFieldValues } from './data.js';

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
  },
});
const quick = values.quick;
const tickets = Number(values.tickets ?? (quick ? 20_000 : 1_000_000));
const seconds = Number(values.seconds ?? (quick ? 2 : 10));
const connections = Number(values.connections);
const only = values.only ? new RegExp(values.only) : null;
const acceptEncoding = values['accept-encoding'];
const databaseUrl = process.env.DATABASE_URL || null;
const kind = databaseUrl ? 'postgres' : 'pglite';
const token = process.env.ADMIN_API_TOKEN || 'bench-admin-token-0123456789abcdef';
const dataDir = databaseUrl ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-bench-'));

type Result = {
  name: string;
  method: string;
  path: string;
  requests_per_second: number;
  ratio_to_baseline: number | null;
  p50_ms: number;
  p90_ms: number;
  p97_5_ms: number;
  p99_ms: number;
  errors: number;
  non_2xx: number;
  /** The status answered other than 2xx (from one request, when there were any). */
  non_2xx_status: number | null;
  /** When no request completed within the window: the time one request on its own took. */
  single_request_ms: number | null;
  /** One request on its own before the load (nothing cached yet): what a first dashboard visit waits. */
  first_request_ms: number | null;
  server_rss_mb: number;
};

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

async function load(
  base: string,
  pid: number,
  name: string,
  method: 'GET' | 'POST',
  paths: string[],
  body?: (index: number) => string,
  duration = seconds,
): Promise<Result | null> {
  if (only && !name.startsWith('baseline') && !only.test(name)) return null;
  let counter = 0;
  const firstStarted = performance.now();
  const first = await fetch(`${base}${paths[0]}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'accept-encoding': acceptEncoding },
    ...(body ? { body: body(counter++) } : {}),
  });
  await first.arrayBuffer();
  const firstRequestMs = Math.round(performance.now() - firstStarted);
  const result = await autocannon({
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
  });
  const rss = rssMb(pid);
  peakRss = Math.max(peakRss, rss);
  const latency = result.latency as unknown as Record<string, number>;
  const out: Result = {
    name,
    method,
    path: paths[0]!,
    requests_per_second: Math.round(result.requests.average),
    ratio_to_baseline: null,
    p50_ms: latency.p50!,
    p90_ms: latency.p90!,
    p97_5_ms: latency.p97_5!,
    p99_ms: latency.p99!,
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
    `${name}: ${out.requests_per_second} req/s, p50 ${out.p50_ms} ms, p99 ${out.p99_ms} ms, errors ${out.errors}, non-2xx ${out.non_2xx}` +
      `${out.non_2xx_status ? ` (${out.non_2xx_status})` : ''}` +
      `${out.single_request_ms === null ? '' : `, none completed in the window (one alone: ${out.single_request_ms} ms)`}, rss ${rss} MB`,
  );
  return out;
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

function pgbench(url: string, duration: number) {
  const bench = new URL(url);
  bench.pathname = '/stageline_pgbench';
  const admin = new URL(url);
  spawnSync('psql', [admin.toString(), '-qc', 'drop database if exists stageline_pgbench', '-c', 'create database stageline_pgbench'], {
    stdio: 'ignore',
  });
  spawnSync('pgbench', ['-i', '-s', '10', '-q', bench.toString()], { stdio: 'ignore' });
  const run = spawnSync('pgbench', ['-S', '-c', String(connections), '-j', '2', '-T', String(duration), bench.toString()], {
    encoding: 'utf8',
  });
  spawnSync('psql', [admin.toString(), '-qc', 'drop database if exists stageline_pgbench'], { stdio: 'ignore' });
  const tps = /tps = ([\d.]+)/.exec(run.stdout ?? '');
  return tps ? Math.round(Number(tps[1])) : null;
}

async function databaseBytes(): Promise<number> {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query('select pg_database_size(current_database())::text as size');
    await client.end();
    return Number(rows[0].size);
  }
  const walk = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
      const full = path.join(dir, entry.name);
      return sum + (entry.isDirectory() ? walk(full) : fs.statSync(full).size);
    }, 0);
  return walk(dataDir!);
}

async function main() {
  const started = Date.now();
  log(`${kind}, ${tickets} tickets, ${connections} connections, ${seconds} s per endpoint${quick ? ' (quick)' : ''}`);

  // 1. Data, through the import path (PGlite: before the server opens the data directory).
  let importRate: number | null = null;
  let existing = 0;
  if (!values['skip-data']) {
    const database = await openDatabase(databaseUrl ? { databaseUrl } : { dataDir: dataDir! });
    try {
      const report = await generateData(database, tickets);
      importRate = report.imported > 0 ? report.tickets_per_second : null;
      existing = report.existing;
      log(
        `import: ${report.imported} tickets in ${report.seconds} s (${report.tickets_per_second}/s), ${report.existing} already there, ${report.rejected} rejected`,
      );
    } finally {
      await database.close();
    }
  }
  const dbBytes = await databaseBytes();

  // 2. The baseline, alone on the machine.
  const baseline = await start('bench/baseline.ts', { PORT: '0' });
  const baselineResult = await load(
    `http://127.0.0.1:${baseline.port}`,
    baseline.child.pid!,
    'baseline (bare Fastify, constant JSON)',
    'GET',
    ['/'],
  );
  if (!baselineResult) throw new Error('the baseline did not run');
  baseline.child.kill('SIGTERM');

  // 3. The real server; cold start = spawn until /readyz answers.
  const port = await freePort();
  if (values.compiled) {
    const build = spawnSync('npm', ['run', 'build:server'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build:server failed');
  }
  const coldStart = performance.now();
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_API_TOKEN: token,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '0',
    OPS_WAIT_MS: '0',
  };
  if (dataDir) env.DATA_DIR = dataDir;
  const serverArgs = values.compiled ? ['dist/src/server.js'] : ['--import', 'tsx', 'src/server.ts'];
  const server = spawn(process.execPath, serverArgs, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<never>((_, reject) => server.once('exit', (code) => reject(new Error(`the server exited with ${code}`))));
  exited.catch(() => {});
  const base = `http://127.0.0.1:${port}`;
  await Promise.race([waitReady(base), exited]);
  const coldStartMs = Math.round(performance.now() - coldStart);
  log(`server ready in ${coldStartMs} ms on ${base}`);
  const pid = server.pid!;
  const api = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${url}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely read answers of many routes
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };

  try {
    const sample = (await api('/api/tickets?limit=200&status=open')).body?.data ?? [];
    const ids: string[] = sample.map((t: { id: string }) => t.id);
    if (ids.length === 0) throw new Error('no open tickets to load');
    const results: (Result | null)[] = [baselineResult];
    results.push(
      await load(
        base,
        pid,
        'GET /api/tickets/:id',
        'GET',
        ids.map((id) => `/api/tickets/${id}`),
      ),
    );
    results.push(
      await load(base, pid, 'filtered list page', 'GET', ['/api/tickets?status=open,in_progress&project=web&priority=high&limit=50']),
    );
    results.push(
      await load(
        base,
        pid,
        'q search',
        'GET',
        ['printer', 'invoice', 'vpn', 'crash'].map((q) => `/api/tickets?q=${q}&limit=50`),
      ),
    );

    const spec = (await api('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const monitor = Object.keys(spec.paths).filter((p) => p.startsWith('/api/monitor/') && !p.includes('{') && spec.paths[p]!.get);
    // Each monitor endpoint for the biggest project (the per-project ones need one; the rest take it as a filter).
    for (const route of monitor) results.push(await load(base, pid, `GET ${route}?project=web`, 'GET', [`${route}?project=web`]));

    const hasEvents = Boolean(spec.paths['/api/events']?.get);
    const sseResult = hasEvents ? await sse(base, pid) : null;

    const createResult = await load(base, pid, 'POST /api/tickets', 'POST', ['/api/tickets'], (i) =>
      JSON.stringify({ subject: `Bench ticket ${i}`, project: 'web', priority: 'low' }),
    );
    results.push(createResult);
    // Custom fields (issue 25): the same create with ten field values, and a list filtered on a select field.
    const createFieldsResult = await load(base, pid, 'POST /api/tickets with 10 fields', 'POST', ['/api/tickets'], (i) =>
      JSON.stringify({ subject: `Bench ticket ${i}`, project: 'web', priority: 'low', fields: tenFieldValues(i) }),
    );
    results.push(createFieldsResult);
    const createWithFieldsRatio =
      createResult?.requests_per_second && createFieldsResult?.requests_per_second
        ? Math.round((createResult.requests_per_second / createFieldsResult.requests_per_second) * 100) / 100
        : null;
    if (createWithFieldsRatio !== null) log(`create with 10 fields costs ${createWithFieldsRatio}x a create without`);
    results.push(
      await load(
        base,
        pid,
        'list filtered on a select field',
        'GET',
        ['critical', 'high'].map((severity) => `/api/tickets?field.severity=${severity}&limit=50`),
      ),
    );

    if (spec.paths['/api/tickets/{id}/transitions']?.post) {
      // Tickets that start in intake move on along the workflow, one step per request.
      const order = ['triage', 'diagnosis', 'fix', 'verification', 'intake'];
      const moving = ids.slice(0, 100);
      results.push(
        await load(
          base,
          pid,
          'POST /api/tickets/:id/transitions',
          'POST',
          moving.map((id) => `/api/tickets/${id}/transitions`),
          (i) => JSON.stringify({ to: order[Math.floor(i / moving.length) % order.length] }),
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
    for (const result of measured)
      result.ratio_to_baseline = Math.round((result.requests_per_second / baselineResult.requests_per_second) * 1000) / 1000;
    const pgbenchTps = databaseUrl ? pgbench(databaseUrl, seconds) : null;
    if (pgbenchTps !== null) log(`pgbench -S: ${pgbenchTps} tps`);

    const date = new Date().toISOString().slice(0, 10);
    const summary = {
      date: new Date().toISOString(),
      database: kind,
      quick,
      server: values.compiled ? 'compiled (node dist/src/server.js)' : 'tsx src/server.ts',
      tickets,
      tickets_existing_before: existing,
      connections,
      seconds_per_endpoint: seconds,
      machine: {
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        memory_gb: Math.round(os.totalmem() / 2 ** 30),
        load_average: os.loadavg().map((l) => Math.round(l * 10) / 10),
      },
      import_tickets_per_second: importRate,
      database_bytes: dbBytes,
      database_mb_per_million_tickets: Math.round((dbBytes / 2 ** 20) * (1_000_000 / tickets)),
      cold_start_ms: coldStartMs,
      server_peak_rss_mb: peakRss,
      pgbench_select_tps: pgbenchTps,
      sse: sseResult,
      create_with_10_fields_cost_ratio: createWithFieldsRatio,
      endpoints: measured,
      total_seconds: Math.round((Date.now() - started) / 1000),
    };
    const file = path.join(root, 'bench/results', `${date}-${kind}${values.compiled ? '-compiled' : ''}${quick ? '-quick' : ''}`);
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the summary object built above
function markdown(s: Record<string, any>): string {
  const rows = (s.endpoints as Result[]).map(
    (r) =>
      `| ${r.name} | ${r.requests_per_second} | ${r.ratio_to_baseline ?? ''} | ${r.p50_ms} | ${r.p90_ms} | ${r.p97_5_ms} | ${r.p99_ms} | ${r.errors} | ${r.non_2xx}${r.non_2xx_status ? ` (${r.non_2xx_status})` : ''} | ${r.first_request_ms ?? ''} | ${r.single_request_ms ?? ''} | ${r.server_rss_mb} |`,
  );
  return [
    `# Stageline benchmark — ${s.date.slice(0, 10)}, ${s.database}${s.quick ? ' (quick)' : ''}`,
    '',
    `${s.tickets} tickets, ${s.connections} connections, ${s.seconds_per_endpoint} s per endpoint, server run by ${s.server}; ${s.machine.cpus} CPUs (${s.machine.cpu}), ${s.machine.memory_gb} GB; load average at the end ${s.machine.load_average.join(' / ')}${s.machine.load_average[0] > 1.5 ? ' (a busy machine: other work was running)' : ''}.`,
    '',
    '| endpoint | req/s | × baseline | p50 ms | p90 ms | p97.5 ms | p99 ms | errors | non-2xx | first ms | one alone ms | server RSS MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `- Import: ${s.import_tickets_per_second ?? 'n/a'} tickets/s`,
    `- Database size: ${Math.round(s.database_bytes / 2 ** 20)} MB, ${s.database_mb_per_million_tickets} MB per million tickets`,
    `- Cold start (spawn to /readyz): ${s.cold_start_ms} ms`,
    `- Server peak RSS: ${s.server_peak_rss_mb} MB`,
    `- pgbench -S: ${s.pgbench_select_tps ?? 'n/a (embedded database)'} tps`,
    `- Create with 10 custom fields: ${s.create_with_10_fields_cost_ratio ?? 'n/a'}× the cost of a create without (req/s ratio)`,
    `- SSE: ${s.sse ? `${s.sse.clients} clients connected in ${s.sse.connect_all_ms} ms; one change reached ${s.sse.delivered} of them, p50 ${s.sse.delivery_p50_ms} ms, p99 ${s.sse.delivery_p99_ms} ms` : 'n/a'}`,
    '',
    'Reproduce: `npm run bench` (DATABASE_URL for PostgreSQL; `-- --quick` for the CI-sized run).',
    '',
  ].join('\n');
}

await main();
