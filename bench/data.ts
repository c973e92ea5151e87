/**
 * A realistic generated data set, written through the import path:
 *   npm run bench:data -- --tickets 1000000 [--database-url postgres://…] [--data-dir ./data] [--ndjson file]
 * Several projects and customers with skewed (power-law) shares, ~5 stage visits per ticket, some tickets overdue,
 * and OPS log rows for the tickets handed to OPS. Prints the import rate. With --ndjson the tickets are also written
 * to that file (the projects they name are created all the same), to time `npm run import` on it.
 */
import { sql } from 'kysely';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { isoTime, systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { AppError } from '../src/errors.js';
import { seededRandom } from '../src/random.js';
import { systemActor } from '../src/modules/access/policy.js';
import type { ImportReport } from '../src/modules/import/service.js';
import { createServices } from '../src/services.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const stageKeys = ['intake', 'triage', 'diagnosis', 'fix', 'verification'] as const;
const projects = [
  { key: 'web', weight: 50 },
  { key: 'mobile', weight: 25 },
  { key: 'billing', weight: 12 },
  { key: 'infra', weight: 8 },
  { key: 'data', weight: 5 },
];
const topics = ['printer', 'login', 'invoice', 'password', 'export', 'timeout', 'crash', 'email', 'sync', 'report', 'upload', 'vpn'];
const verbs = ['fails', 'is slow', 'broken after update', 'shows wrong totals', 'times out', 'needs access', 'missing data'];

/** Ten custom fields on every project (issue 25): the bench filters on `severity` and creates with all ten. */
export const benchFields = [
  { key: 'severity', label: 'Severity', type: 'select', options: ['low', 'medium', 'high', 'critical'], show_on_card: true },
  { key: 'impact', label: 'Impact', type: 'number' },
  { key: 'due', label: 'Due', type: 'date' },
  { key: 'found_at', label: 'Found at', type: 'datetime' },
  { key: 'tags', label: 'Tags', type: 'multi_select', options: ['vip', 'legal', 'press', 'security'] },
  { key: 'regression', label: 'Regression', type: 'checkbox' },
  { key: 'runbook', label: 'Runbook', type: 'url' },
  { key: 'reporter', label: 'Reporter', type: 'email' },
  { key: 'root_cause', label: 'Root cause', type: 'long_text' },
  { key: 'component', label: 'Component', type: 'text' },
] as const;

/** Values for all ten bench fields. */
export function tenFieldValues(i: number) {
  return {
    severity: ['low', 'medium', 'high', 'critical'][i % 4],
    impact: i % 10,
    due: '2026-12-01',
    found_at: '2026-11-01T09:00:00.000Z',
    tags: ['vip', 'press'],
    regression: i % 2 === 0,
    runbook: 'https://runbooks.example.com/printer',
    reporter: 'reporter@example.com',
    root_cause: 'A loose cable behind the printer.',
    component: 'printing',
  };
}

/**
 * How long a visit of the stage at `position` lasts: log-normal, as service times are (most visits short, a long tail),
 * around a median of 80 % of the stage's target (4 h × (position + 1)), shorter for high priority and longer for low.
 * So about a fifth of high-priority visits and half of low-priority ones miss their target, and how long a visit has
 * lasted says something about whether it will: what the forecast's backtest (docs/forecast.md) has to find.
 */
function stageLength(position: number, priority: string, rand: () => number): number {
  const median = 0.8 * (position + 1) * 4 * HOUR * (priority === 'high' ? 0.6 : priority === 'low' ? 1.3 : 1);
  const sigma = 0.5 + 0.1 * position;
  // Box–Muller: a standard normal from two uniforms.
  const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return median * Math.exp(sigma * normal);
}

function* ticketLines(count: number, seed: number, now: number): Generator<string> {
  const rand = seededRandom(seed);
  // Field values from a generator of their own, so the rest of the data set stays what it was before fields.
  const fieldRand = seededRandom(seed + 1);
  const severity = () => {
    const r = fieldRand();
    return r < 0.5 ? 'low' : r < 0.8 ? 'medium' : r < 0.95 ? 'high' : 'critical';
  };
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
  const totalWeight = projects.reduce((sum, p) => sum + p.weight, 0);
  const project = () => {
    let r = rand() * totalWeight;
    for (const p of projects) if ((r -= p.weight) < 0) return p.key;
    return projects[0]!.key;
  };
  const lines: string[] = [];
  for (let n = 1; n <= count; n += 1) {
    // Customers by a power law: a few big customers open most tickets.
    const customer = Math.floor(2000 * rand() ** 3);
    const created = now - Math.floor(rand() ** 0.7 * 180 * DAY);
    const closed = created < now - 14 * DAY ? rand() < 0.9 : rand() < 0.3;
    const visitCount = closed ? 5 : 1 + Math.floor(rand() * 5);
    const priority = rand() < 0.15 ? 'high' : rand() < 0.6 ? 'medium' : 'low';
    const visits: Record<string, unknown>[] = [];
    let at = created;
    for (let v = 0; v < visitCount; v += 1) {
      const start = at;
      const last = v === visitCount - 1;
      const length = Math.floor(stageLength(v, priority, rand));
      const ends = !last || closed;
      const end = ends ? Math.min(start + length, now) : null;
      // Ended visits are due when the workflow's target says (as a live transition would time them); open visits:
      // most are still within their target, some are overdue.
      const due =
        last && !closed ? (rand() < 0.2 ? now - Math.floor(rand() * 3 * DAY) - HOUR : now + Math.floor(rand() * 3 * DAY) + HOUR) : null;
      visits.push({
        key: stageKeys[v],
        stage_start_time: isoTime(new Date(start)),
        ...(end === null ? {} : { stage_end_time: isoTime(new Date(end)) }),
        ...(due === null ? {} : { due_at: isoTime(new Date(Math.max(due, start))) }),
      });
      at = end ?? at;
    }
    const topic = pick(topics);
    lines.push(
      JSON.stringify({
        external_id: `bench-${n}`,
        subject: `${topic[0]!.toUpperCase()}${topic.slice(1)} ${pick(verbs)} (#${n})`,
        description: `Customer reports that the ${topic} ${pick(verbs)}. Steps to reproduce attached.`,
        status: closed ? 'closed' : pick(['open', 'open', 'in_progress', 'pending', 'new']),
        priority,
        category: pick(['bug', 'question', 'incident', 'request']),
        project: project(),
        customer_name: `Customer ${customer}`,
        customer_email: `support@customer${customer}.example.com`,
        assigned_to: `agent${Math.floor(40 * rand() ** 2)}@stageline.example.com`,
        created_at: isoTime(new Date(created)),
        fields: {
          severity: severity(),
          impact: Math.floor(fieldRand() * 10),
          ...(fieldRand() < 0.3 ? { due: isoTime(new Date(created + 14 * DAY)).slice(0, 10) } : {}),
        },
        visits,
      }) + '\n',
    );
    if (lines.length === 500) yield lines.splice(0).join('');
  }
  if (lines.length) yield lines.join('');
}

async function ensureProjects(database: Database) {
  const context = { config: loadConfig({ LOG_LEVEL: 'silent' }), database, clock: systemClock, metrics: new Registry() };
  const { projects: service, fields } = createServices(context);
  for (const { key } of projects) {
    try {
      await service.create(systemActor, {
        key,
        name: `Support ${key}`,
        stages: stageKeys.map((stage, index) => ({
          key: stage,
          name: stage[0]!.toUpperCase() + stage.slice(1),
          target_minutes: 240 * (index + 1),
        })),
      } as never);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
    }
    for (const field of benchFields) {
      try {
        await fields.create(systemActor, key, field as never);
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
      }
    }
  }
}

/** OPS exchanges for about a fifth of the tickets: a send, sometimes a retry, a status query. */
async function generateOpsLog(database: Database) {
  await sql`
    insert into log_entries (id, ticket_id, action, status, timestamp, attempt, http_status, latency_ms, ops_id)
    select t.id || ':' || a.action, t.id, a.action, case when a.action = 'retry' then 'failed' else 'success' end,
      t.created_at + a.delay, 1, case when a.action = 'retry' then 503 else 200 end, 20 + (t.number % 180), 'OPS-' || t.number
    from tickets t
    cross join (values ('send', interval '1 minute'), ('query', interval '2 hours'), ('retry', interval '30 seconds')) as a(action, delay)
    where t.external_id like 'bench-%' and t.number % 5 = 0 and (a.action <> 'retry' or t.number % 15 = 0)
    on conflict (id, timestamp) do nothing`.execute(database.db);
  await sql`update tickets set ops_id = 'OPS-' || number where external_id like 'bench-%' and number % 5 = 0 and ops_id is null`.execute(
    database.db,
  );
}

export async function generateData(database: Database, tickets: number, seed = 42): Promise<ImportReport> {
  await ensureProjects(database);
  const context = { config: loadConfig({ LOG_LEVEL: 'silent' }), database, clock: systemClock, metrics: new Registry() };
  const report = await createServices(context).imports.run(systemActor, Readable.from(ticketLines(tickets, seed, Date.now())), {
    format: 'ndjson',
    strict: false,
    batchSize: 2000,
  });
  await generateOpsLog(database);
  return report;
}

async function main() {
  const { values } = parseArgs({
    options: {
      tickets: { type: 'string', default: '100000' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      ndjson: { type: 'string' },
    },
  });
  const tickets = Number(values.tickets);
  if (!Number.isSafeInteger(tickets) || tickets < 1) throw new Error('--tickets must be a positive whole number');
  const config = loadConfig({
    ...process.env,
    ...(values['database-url'] ? { DATABASE_URL: values['database-url'] } : {}),
    ...(values['data-dir'] ? { DATA_DIR: values['data-dir'] } : {}),
  });
  // A batch job: the OPS log's one statement over every ticket may take longer than a request's query timeout.
  const database = await openDatabase(
    config.databaseUrl ? { databaseUrl: config.databaseUrl, queryTimeoutMs: 0 } : { dataDir: config.dataDir },
  );
  try {
    if (values.ndjson) {
      await ensureProjects(database);
      await pipeline(Readable.from(ticketLines(tickets, 42, Date.now())), fs.createWriteStream(values.ndjson));
      console.log(`${tickets} tickets written to ${values.ndjson}; their projects are in the database`);
      return;
    }
    const report = await generateData(database, tickets);
    console.log(
      `${report.imported} tickets imported (${report.existing} already there, ${report.rejected} rejected) in ${report.seconds} s: ${report.tickets_per_second} tickets/s`,
    );
    if (report.errors.length) console.log(report.errors.slice(0, 5));
  } finally {
    await database.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
