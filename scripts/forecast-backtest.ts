/**
 * Replays a project's history and scores the delivery forecast (issue 23) against what happened:
 *   npm run forecast:backtest -- [--database-url postgres://… | --data-dir ./data | --demo 3000 [--database-url …]] [--project key]
 *     [--window-days 30] [--name bench] [--out bench/results]
 * For the visits (and tickets) that ended in the last `window-days`, the forecast as it would have been made at several
 * moments during each — 0, 25, 50, 75 and 90 % of the way to its due time, while it was still open — from a model of only the
 * history ended before that week began (the refresh's own model, rebuilt weekly). Beside it two baselines: the stage's
 * historical breach rate (same history) and "breaches iff already past X % of its target" (X = the project's at-risk
 * threshold). Writes the Brier scores and calibration tables as JSON and Markdown, and a calibration chart as SVG.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { loadDemoData } from '../src/demo.js';
import { forecastOne, type ForecastContext } from '../src/modules/forecast/forecast.js';
import { bucketOf, ForecastModel, type ModelInput, type ModelStage } from '../src/modules/forecast/model.js';
import { HISTORY_DAYS } from '../src/modules/forecast/repository.js';
import { businessMs, type Calendar } from '../src/modules/projects/calendar.js';
import { replayVisits, type ImportWorkflow } from '../src/modules/import/replay.js';
import type { StageDefinitionRow } from '../src/db/types.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const FRACTIONS = [0, 0.25, 0.5, 0.75, 0.9];
const MAX_CASES = 20_000;

type Visit = {
  ticket_id: string;
  priority: string;
  definition_id: string;
  start: number;
  end: number | null;
  due: number | null;
  business_ms: number | null;
  leaf: boolean;
};
type Case = { p: number; rate: number; past: number; breached: boolean };
type Score = {
  cases: number;
  breach_rate: number;
  brier: { forecast: number; historical_rate: number; past_threshold: number };
  calibration: Bin[];
};
type Bin = {
  from: number;
  to: number;
  cases: number;
  mean_predicted: number;
  observed: number;
  rate_mean_predicted: number;
  rate_observed: number;
};

/** A deterministic subset: at most MAX_CASES of the cases, the same on every run. */
function thin<T>(items: T[]): T[] {
  if (items.length <= MAX_CASES) return items;
  const step = items.length / MAX_CASES;
  return Array.from({ length: MAX_CASES }, (_, i) => items[Math.floor(i * step)]!);
}

function score(cases: Case[]): Score {
  const brier = (pick: (c: Case) => number) =>
    cases.reduce((sum, c) => sum + (pick(c) - (c.breached ? 1 : 0)) ** 2, 0) / (cases.length || 1);
  const calibration: Bin[] = [];
  for (let b = 0; b < 10; b += 1) {
    const inBin = (p: number) => (b === 9 ? p >= 0.9 : p >= b / 10 && p < (b + 1) / 10);
    const own = cases.filter((c) => inBin(c.p));
    const rate = cases.filter((c) => inBin(c.rate));
    const mean = (items: Case[], pick: (c: Case) => number) => (items.length ? items.reduce((s, c) => s + pick(c), 0) / items.length : NaN);
    calibration.push({
      from: b / 10,
      to: (b + 1) / 10,
      cases: own.length,
      mean_predicted: mean(own, (c) => c.p),
      observed: mean(own, (c) => (c.breached ? 1 : 0)),
      rate_mean_predicted: mean(rate, (c) => c.rate),
      rate_observed: mean(rate, (c) => (c.breached ? 1 : 0)),
    });
  }
  return {
    cases: cases.length,
    breach_rate: cases.filter((c) => c.breached).length / (cases.length || 1),
    brier: { forecast: brier((c) => c.p), historical_rate: brier((c) => c.rate), past_threshold: brier((c) => c.past) },
    calibration,
  };
}

async function backtestProject(database: Database, projectKey: string, windowDays: number) {
  const project = (
    await sql<{ id: string; calendar: Calendar | null; at_risk_threshold: number; ticket_target_minutes: number | null }>`
      select id, calendar, at_risk_threshold, ticket_target_minutes from projects where key = ${projectKey}`.execute(database.db)
  ).rows[0];
  if (!project) throw new Error(`no project ${projectKey}`);
  const definitions = (await sql<StageDefinitionRow>`select * from stage_definitions where project_id = ${project.id}`.execute(database.db))
    .rows;
  const stages: ModelStage[] = definitions.map((d) => ({
    id: d.id,
    final: d.final,
    pauses: d.pauses || (definitions.find((p) => p.id === d.parent_id)?.pauses ?? false),
  }));
  const finalIds = new Set(definitions.filter((d) => d.final).map((d) => d.id));
  const visits = (
    await sql<Visit>`
      select s.ticket_id, t.priority, s.definition_id, (extract(epoch from s.stage_start_time) * 1000)::float8 as start,
        (extract(epoch from s.stage_end_time) * 1000)::float8 as "end", (extract(epoch from s.due_at) * 1000)::float8 as due,
        s.business_ms::float8 as business_ms, not exists (select 1 from stages m where m.major_stage_id = s.id) as leaf
      from stages s join stage_definitions d on d.id = s.definition_id join tickets t on t.id = s.ticket_id
      where d.project_id = ${project.id} and s.stage_start_time is not null
      order by s.ticket_id, s.stage_start_time, s.stage_type, s.id`.execute(database.db)
  ).rows;
  const calendar = project.calendar;
  const spent = (from: number, to: number) => (calendar ? businessMs(calendar, new Date(from), new Date(to)) : Math.max(0, to - from));
  const durationOf = (v: Visit) => (calendar && v.business_ms !== null ? v.business_ms : v.end! - v.start);
  // Not Math.max(...): a large project has more visits than a call takes arguments.
  const latest = visits.reduce((max, v) => Math.max(max, v.end ?? v.start), -Infinity);
  const windowStart = latest - windowDays * DAY;
  const byTicket = new Map<string, Visit[]>();
  for (const v of visits) {
    const own = byTicket.get(v.ticket_id);
    if (own) own.push(v);
    else byTicket.set(v.ticket_id, [v]);
  }

  /** The model the refresh would have built at `at`: only visits ended (moves made) before it. */
  const models = new Map<number, { context: ForecastContext; rates: Map<string, number> }>();
  const modelAt = (moment: number) => {
    const week = Math.floor(moment / WEEK) * WEEK;
    const cached = models.get(week);
    if (cached) return cached;
    const since = week - HISTORY_DAYS * DAY;
    const counts = new Map<string, number>();
    const breaches = new Map<string, [number, number]>();
    for (const v of visits) {
      if (v.end === null || v.end >= week || v.end < since || finalIds.has(v.definition_id)) continue;
      const key = `${v.definition_id}\u0000${v.priority}\u0000${bucketOf(durationOf(v))}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const rate = breaches.get(v.definition_id) ?? [0, 0];
      if (v.due !== null) breaches.set(v.definition_id, [rate[0] + (v.end > v.due ? 1 : 0), rate[1] + 1]);
    }
    const moves = new Map<string, number>();
    const movers = new Set<string>();
    for (const [ticketId, own] of byTicket) {
      const leaves = own.filter((v) => v.leaf && v.start < week && v.start >= since);
      for (let i = 1; i < leaves.length; i += 1) {
        const key = `${leaves[i - 1]!.definition_id}\u0000${leaves[i]!.definition_id}`;
        moves.set(key, (moves.get(key) ?? 0) + 1);
        movers.add(ticketId);
      }
    }
    const input: ModelInput = {
      durations: [...counts].map(([key, n]) => {
        const [definition_id, priority, bucket] = key.split('\u0000');
        return { definition_id: definition_id!, priority: priority!, bucket: Number(bucket), n };
      }),
      transitions: [...moves].map(([key, n]) => {
        const [from_id, to_id] = key.split('\u0000');
        return { from_id: from_id!, to_id: to_id!, n };
      }),
      tickets: movers.size,
    };
    const pausing = new Set(stages.filter((s) => s.pauses).map((s) => s.id));
    const built = {
      context: {
        model: new ForecastModel(input, stages),
        calendar,
        ticketTargetMinutes: project.ticket_target_minutes,
        pauses: (id: string) => pausing.has(id),
      },
      rates: new Map([...breaches].map(([id, [b, n]]) => [id, n ? b / n : 0])),
    };
    models.set(week, built);
    return built;
  };

  // Stage visits that ended in the window, at moments on the way to their due time while still open.
  const stageCases: Case[] = [];
  for (const v of thin(visits.filter((v) => v.end !== null && v.end >= windowStart && v.due !== null && v.due > v.start))) {
    for (const fraction of FRACTIONS) {
      const moment = v.start + fraction * (v.due! - v.start);
      if (moment >= v.end!) break;
      const { context, rates } = modelAt(moment);
      const forecast = forecastOne(
        context,
        {
          id: v.ticket_id,
          priority: v.priority,
          visit: { definitionId: v.definition_id, start: new Date(v.start), dueAt: new Date(v.due!) },
          sla: { usedMs: 0, segmentStart: null, dueAt: null },
        },
        new Date(moment),
        { ticket: false },
      );
      if (forecast.stage_breach_probability === null) continue;
      const limit = spent(v.start, v.due!);
      stageCases.push({
        p: forecast.stage_breach_probability,
        rate: rates.get(v.definition_id) ?? 0,
        past: spent(v.start, moment) >= project.at_risk_threshold * limit ? 1 : 0,
        breached: v.end! > v.due!,
      });
    }
  }

  // Tickets closed in the window, at moments on the way to their overall due time, each in the leaf visit open then.
  const ticketCases: Case[] = [];
  if (project.ticket_target_minutes !== null && finalIds.size > 0) {
    const targetMs = project.ticket_target_minutes * 60_000;
    const workflow: ImportWorkflow = {
      calendar,
      atRiskThreshold: project.at_risk_threshold,
      ticketTargetMinutes: project.ticket_target_minutes,
      definitionOf: new Map(definitions.map((d) => [d.id, d])),
    };
    const replay = (own: Visit[], until: number) =>
      replayVisits(
        workflow,
        new Date(own[0]!.start),
        own
          .filter((v) => v.leaf && v.start <= until)
          .map((v) => ({ definitionId: v.definition_id, start: new Date(v.start), end: null, dueAt: null })),
      ).ticket.sla;
    const closedTickets = [...byTicket.values()].filter((own) => {
      const last = own.at(-1)!;
      return finalIds.has(last.definition_id) && last.start >= windowStart;
    });
    const rateAt = new Map<number, number>();
    const ticketRate = (moment: number) => {
      const week = Math.floor(moment / WEEK) * WEEK;
      if (!rateAt.has(week)) {
        const done = [...byTicket.values()].filter((own) => finalIds.has(own.at(-1)!.definition_id) && own.at(-1)!.start < week);
        const late = done.filter((own) => replay(own, Infinity).usedMs > targetMs).length;
        rateAt.set(week, done.length ? late / done.length : 0);
      }
      return rateAt.get(week)!;
    };
    for (const own of thin(closedTickets)) {
      const closedAt = own.at(-1)!.start;
      const breached = replay(own, Infinity).usedMs > targetMs;
      for (const fraction of FRACTIONS) {
        const moment = own[0]!.start + fraction * targetMs;
        if (moment >= closedAt) break;
        const current = own.filter((v) => v.leaf && v.start <= moment).at(-1);
        if (!current || finalIds.has(current.definition_id)) break;
        const sla = replay(own, moment);
        const { context } = modelAt(moment);
        const dueAt = sla.segmentStart && sla.usedMs < targetMs ? null : sla.dueAt;
        const forecast = forecastOne(
          context,
          {
            id: current.ticket_id,
            priority: current.priority,
            visit: { definitionId: current.definition_id, start: new Date(current.start), dueAt: null },
            sla: { usedMs: sla.usedMs, segmentStart: sla.segmentStart, dueAt },
          },
          new Date(moment),
        );
        if (forecast.ticket_breach_probability === null) continue;
        const used = sla.usedMs + (sla.segmentStart ? spent(sla.segmentStart.getTime(), moment) : 0);
        ticketCases.push({
          p: forecast.ticket_breach_probability,
          rate: ticketRate(moment),
          past: used >= project.at_risk_threshold * targetMs ? 1 : 0,
          breached,
        });
      }
    }
  }
  return {
    project: projectKey,
    window: { from: new Date(windowStart).toISOString(), to: new Date(latest).toISOString() },
    at_risk_threshold: project.at_risk_threshold,
    stage: score(stageCases),
    ticket: ticketCases.length ? score(ticketCases) : null,
  };
}

type ProjectResult = Awaited<ReturnType<typeof backtestProject>>;

const fixed = (n: number, digits = 3) => (Number.isNaN(n) ? '–' : n.toFixed(digits));

function markdown(name: string, results: ProjectResult[]): string {
  const lines = [
    `# Forecast backtest: ${name}`,
    '',
    'Brier score (lower is better) of each predictor over the same cases; see docs/forecast.md.',
    '',
  ];
  for (const r of results) {
    for (const [kind, s] of [
      ['stage', r.stage],
      ['ticket', r.ticket],
    ] as const) {
      if (!s) continue;
      lines.push(
        `## ${r.project}: ${kind} breach (${s.cases} forecasts, breach rate ${fixed(s.breach_rate)}; window ${r.window.from.slice(0, 10)} – ${r.window.to.slice(0, 10)})`,
        '',
      );
      lines.push('| predictor | Brier |', '|---|---|');
      lines.push(
        `| forecast | ${fixed(s.brier.forecast)} |`,
        `| historical breach rate | ${fixed(s.brier.historical_rate)} |`,
        `| past ${Math.round(r.at_risk_threshold * 100)} % of target | ${fixed(s.brier.past_threshold)} |`,
        '',
      );
      lines.push('| predicted | forecasts | mean predicted | observed |', '|---|---|---|---|');
      for (const bin of s.calibration)
        lines.push(
          `| ${bin.from.toFixed(1)}–${bin.to.toFixed(1)} | ${bin.cases} | ${fixed(bin.mean_predicted)} | ${fixed(bin.observed)} |`,
        );
      lines.push('');
    }
  }
  return lines.join('\n');
}

/** A calibration chart: predicted vs observed per bin, one line per project and kind, the diagonal for reference. */
function svg(name: string, results: ProjectResult[]): string {
  const size = 360;
  const pad = 40;
  const x = (p: number) => pad + p * (size - 2 * pad);
  const y = (p: number) => size - pad - p * (size - 2 * pad);
  const colours = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#be185d', '#65a30d', '#7c3aed'];
  const series = results.flatMap((r) =>
    [
      ['stage', r.stage],
      ['ticket', r.ticket],
    ].flatMap(([kind, s]) => (s ? [{ label: `${r.project} ${kind as string}`, score: s as Score }] : [])),
  );
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size + 200}" height="${size}" font-family="sans-serif" font-size="11">`,
    `<text x="${pad}" y="16">Calibration: ${name} (forecast; predicted vs observed breach rate)</text>`,
    `<rect x="${pad}" y="${pad}" width="${size - 2 * pad}" height="${size - 2 * pad}" fill="none" stroke="#999"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#bbb" stroke-dasharray="4 3"/>`,
    ...[0, 0.5, 1].flatMap((t) => [
      `<text x="${x(t) - 6}" y="${size - pad + 14}">${t}</text>`,
      `<text x="${pad - 24}" y="${y(t) + 4}">${t}</text>`,
    ]),
  ];
  series.forEach(({ label, score: s }, i) => {
    const colour = colours[i % colours.length];
    const points = s.calibration.filter((b) => b.cases >= 20).map((b) => `${x(b.mean_predicted).toFixed(1)},${y(b.observed).toFixed(1)}`);
    parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    for (const point of points) parts.push(`<circle cx="${point.split(',')[0]}" cy="${point.split(',')[1]}" r="2.5" fill="${colour}"/>`);
    parts.push(`<text x="${size + 4}" y="${pad + 14 * i}" fill="${colour}">${label} (Brier ${fixed(s.brier.forecast)})</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      demo: { type: 'string' },
      project: { type: 'string', multiple: true },
      'window-days': { type: 'string', default: '30' },
      name: { type: 'string' },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  const windowDays = Number(values['window-days']);
  let database: Database;
  let close: () => Promise<void>;
  if (values.demo) {
    // The demo data set, made by the same services the dashboard's demo uses: in a fresh embedded database, or with
    // --database-url in that (empty) database, four tickets walked at once — thousands of tickets through the
    // transition service one at a time on the embedded database take longer than anyone waits.
    const databaseUrl = values['database-url'];
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: await mkdtemp(join(tmpdir(), 'stageline-backtest-')) }),
    });
    database = await openDatabase(databaseUrl ? { databaseUrl, queryTimeoutMs: 0 } : { dataDir: config.dataDir });
    const app = await buildApp({ config, database });
    const started = Date.now();
    await loadDemoData(app, { tickets: Number(values.demo), concurrency: databaseUrl ? 4 : 1 });
    console.log(`demo data: ${values.demo} tickets in ${Math.round((Date.now() - started) / 1000)} s`);
    close = async () => {
      await app.close();
      await database.close();
    };
  } else {
    const config = loadConfig({
      ...process.env,
      LOG_LEVEL: 'silent',
      ...(values['database-url'] ? { DATABASE_URL: values['database-url'] } : {}),
      ...(values['data-dir'] ? { DATA_DIR: values['data-dir'] } : {}),
    });
    // A batch job: one grouped read of a large project's visits may take longer than a request's query timeout.
    database = await openDatabase(
      config.databaseUrl ? { databaseUrl: config.databaseUrl, queryTimeoutMs: 0 } : { dataDir: config.dataDir },
    );
    close = () => database.close();
  }
  try {
    const keys =
      values.project ??
      (
        await sql<{
          key: string;
        }>`select p.key from projects p where exists (select 1 from stage_definitions d where d.project_id = p.id) order by p.key`.execute(
          database.db,
        )
      ).rows.map((row) => row.key);
    const results: ProjectResult[] = [];
    for (const key of keys) {
      const result = await backtestProject(database, key, windowDays);
      results.push(result);
      const line = (kind: string, s: Score | null) =>
        s &&
        console.log(
          `${key} ${kind}: ${s.cases} forecasts, Brier ${fixed(s.brier.forecast)} vs rate ${fixed(s.brier.historical_rate)} vs past-threshold ${fixed(s.brier.past_threshold)}`,
        );
      line('stage', result.stage);
      line('ticket', result.ticket);
    }
    const name = values.name ?? (values.demo ? 'demo' : 'data');
    await mkdir(values.out!, { recursive: true });
    const base = join(values.out!, `forecast-${name}`);
    await writeFile(`${base}.json`, JSON.stringify({ name, window_days: windowDays, results }, null, 2) + '\n');
    await writeFile(`${base}.md`, markdown(name, results) + '\n');
    await writeFile(`${base}.svg`, svg(name, results) + '\n');
    console.log(`wrote ${base}.json, .md, .svg`);
  } finally {
    await close();
  }
}

await main();
