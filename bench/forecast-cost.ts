/**
 * What forecasts add to a list page (issue 23: < 50 ms per page of 50 at a million tickets), in CPU time beside wall
 * time (on a shared machine wall time mostly measures the queue for a core):
 *   DATABASE_URL=… npx tsx bench/forecast-cost.ts [--pages 40] [--rounds 3]
 * Walks pages of 50 open tickets as GET /api/tickets?status=open,in_progress&limit=50 does (the tickets service's
 * list), then forecasts each page as forecast=true does, and counts the statements each forecast sends. The first
 * forecast after a model refresh builds the project's model (the cold page, reported apart); every later page of the
 * first round builds the remaining-time table rows it is the first to need, and the next rounds read them only.
 * Run it at two data-set sizes to see that the cost does not grow with the number of tickets.
 */
import { parseArgs } from 'node:util';
import { sql, type KyselyPlugin } from 'kysely';
import { Registry } from 'prom-client';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { ForecastService } from '../src/modules/forecast/service.js';
import { systemActor } from '../src/modules/access/policy.js';
import { ticketListOptions } from '../src/modules/tickets/query.js';
import type { TicketView } from '../src/modules/tickets/service.js';
import { createServices } from '../src/services.js';

const { values } = parseArgs({ options: { pages: { type: 'string', default: '40' }, rounds: { type: 'string', default: '3' } } });
const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
if (!config.databaseUrl) throw new Error('set DATABASE_URL to the bench database');
const database = await openDatabase({ databaseUrl: config.databaseUrl, queryTimeoutMs: 0, migrate: false });
const context = { config, database, clock: systemClock, metrics: new Registry() };
const services = createServices(context);
// The forecast's own service over a connection that counts its statements (N+1 would show here).
let statements = 0;
const counting: KyselyPlugin = {
  transformQuery: (args) => ((statements += 1), args.node),
  transformResult: async (args) => args.result,
};
const forecast = new ForecastService({ ...context, database: { ...database, db: database.db.withPlugin(counting) } as Database });

type Sample = { wall: number; cpu: number };
async function measure<T>(work: () => Promise<T>): Promise<{ value: T } & Sample> {
  const started = performance.now();
  const before = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(before);
  return { value, wall: performance.now() - started, cpu: (used.user + used.system) / 1000 };
}
const summary = (samples: Sample[]) => {
  const at = (pick: (s: Sample) => number, q: number) => {
    const sorted = samples.map(pick).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  };
  const mean = (pick: (s: Sample) => number) => samples.reduce((sum, s) => sum + pick(s), 0) / (samples.length || 1);
  return `wall p50 ${at((s) => s.wall, 0.5).toFixed(1)} / p90 ${at((s) => s.wall, 0.9).toFixed(1)} ms, CPU mean ${mean((s) => s.cpu).toFixed(1)} ms`;
};

const { rows: sizes } = await sql<{ tickets: number; open: number }>`
  select count(*)::int as tickets, count(*) filter (where status in ('open', 'in_progress'))::int as open from tickets`.execute(
  database.db,
);
console.log(`${sizes[0]!.tickets} tickets, ${sizes[0]!.open} open or in progress`);
if ((await sql<{ n: number }>`select count(*)::int as n from forecast_models`.execute(database.db)).rows[0]!.n === 0) {
  const refresh = await measure(() => forecast.refresh());
  console.log(`model refresh (not per request): ${refresh.wall.toFixed(0)} ms wall`);
}

const list: Sample[] = [];
const pages: TicketView[][] = [];
for (let cursor: string | undefined; pages.length < Number(values.pages);) {
  const page = await measure(() =>
    services.tickets.list(systemActor, ticketListOptions({ status: 'open,in_progress', ...(cursor ? { cursor } : {}) }, 50, true)),
  );
  list.push(page);
  pages.push(page.value.items);
  if (!page.value.nextCursor) break;
  cursor = page.value.nextCursor;
}
console.log(`list page without forecasts (${list.length} pages): ${summary(list)}`);

const cold = await measure(() => forecast.forTickets(pages[0]!));
console.log(`first page of a process (builds its models): ${summary([cold])}`);
const perStatement: number[] = [];
for (let round = 1; round <= Number(values.rounds); round += 1) {
  const samples: Sample[] = [];
  let forecasts = 0;
  for (const page of pages.slice(1)) {
    const before = statements;
    const out = await measure(() => forecast.forTickets(page));
    perStatement.push(statements - before);
    samples.push(out);
    forecasts += [...out.value.values()].filter((f) => f?.ticket_breach_probability != null || f?.expected_finish_at != null).length;
  }
  console.log(
    `round ${round}: forecasts add ${summary(samples)} per page of 50 (${(forecasts / samples.length).toFixed(0)} ticket forecasts per page)`,
  );
}
console.log(`statements per forecast page: ${Math.min(...perStatement)}–${Math.max(...perStatement)}`);
await forecast.close();
await database.close();
