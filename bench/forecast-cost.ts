/**
 * What forecasts cost a list page, in CPU time rather than latency (on a shared machine latency mostly measures the
 * queue for a core): `DATABASE_URL=… npx tsx bench/forecast-cost.ts [--pages 30]`. Reads pages of 50 open tickets,
 * as GET /api/tickets?status=open,in_progress&limit=50 does, and forecasts each page as forecast=true does, after one
 * page to build the models; prints the mean wall and CPU milliseconds per page of each step.
 */
import { sql } from 'kysely';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { ForecastService } from '../src/modules/forecast/service.js';
import type { ForecastTicket } from '../src/modules/forecast/repository.js';

const { values } = parseArgs({ options: { pages: { type: 'string', default: '30' } } });
const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
if (!config.databaseUrl) throw new Error('set DATABASE_URL to the bench database');
const database = await openDatabase({ databaseUrl: config.databaseUrl, queryTimeoutMs: 0, migrate: false });
const forecast = new ForecastService({ config, database, clock: systemClock, metrics: new Registry() });
const pages: ForecastTicket[][] = [];
for (let after = ''; pages.length < Number(values.pages) + 1;) {
  const { rows } = await sql<ForecastTicket>`
    select id, status, priority, project_id, current_stage_id, sla_used_ms, sla_segment_start, sla_due_at from tickets
    where status in ('open', 'in_progress') and id > ${after} order by id limit 50`.execute(database.db);
  if (rows.length === 0) break;
  pages.push(rows);
  after = rows.at(-1)!.id;
}
if ((await sql<{ n: number }>`select count(*)::int as n from forecast_models`.execute(database.db)).rows[0]!.n === 0)
  await forecast.refresh();
await forecast.forTickets(pages[0]!); // builds the models once, as the first request after a refresh does
let wall = 0;
let cpu = 0;
let forecasts = 0;
for (const page of pages.slice(1)) {
  const started = performance.now();
  const before = process.cpuUsage();
  const out = await forecast.forTickets(page);
  const used = process.cpuUsage(before);
  wall += performance.now() - started;
  cpu += (used.user + used.system) / 1000;
  forecasts += [...out.values()].filter((f) => f?.stage_breach_probability != null).length;
}
const n = pages.length - 1;
console.log(
  `${n} pages of 50: forecasts add ${(wall / n).toFixed(1)} ms wall, ${(cpu / n).toFixed(1)} ms CPU per page (${(forecasts / n).toFixed(0)} stage forecasts per page)`,
);
await forecast.close();
await database.close();
