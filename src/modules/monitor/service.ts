import { DateTime, IANAZone } from 'luxon';
import type { Clock } from '../../clock.js';
import type { Database, Db } from '../../db/database.js';
import type { Priority } from '../../db/types.js';
import { invalid } from '../../errors.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, type Actor } from '../access/policy.js';
import type { ProjectsService } from '../projects/service.js';
import { ResultCache } from './result-cache.js';
import {
  MonitorRepository,
  tallyAnswers,
  type DelayedCursor,
  type DelayedSort,
  utcDay,
  visitsByDefinitionAlone,
  type MonitorFilters,
  type Window,
} from './repository.js';
import type { MonitorQueryType } from './schemas.js';
import { decodeCursor, encodeCursor } from '../../db/keyset.js';
import { delayOf } from '../workflow/delay.js';

/** A Delayed page's cursor: [k1, k2, id] as the last row had them (see `delayedKey`). */
function decodeDelayedCursor(cursor: string): DelayedCursor {
  // An empty string stands for "no such moment" (the cursor holds no nulls).
  const [k1, k2, id] = decodeCursor(cursor, 3).map((value) => (value === '' ? null : value));
  const moment = (value: unknown) => value === null || (typeof value === 'string' && !Number.isNaN(Date.parse(value)));
  if (!moment(k2) || typeof id !== 'string' || !(typeof k1 === 'number' || moment(k1))) {
    invalid([{ field: 'cursor', problem: 'is not a cursor this list gave out (or one for another sort order)' }]);
  }
  return { k1, k2: k2 as string | null, id };
}

const DAY = 86_400_000;
const DEFAULT_WINDOW_DAYS = 30;
const MAX_WINDOW_DAYS = 1000;
/** Open tickets by age: 0–1 day, 1–3, 3–7, 7–14, 14–30, 30+. */
const AGING_EDGES = [0, 1, 3, 7, 14, 30] as const;
/**
 * Exact percentiles sort every ended visit of the window (four `percentile_cont` sorts over rows fetched from the
 * heap): 16,808 visits cost ~230 ms and 4,268 buffers at 100,000 tickets, so beyond a few thousand the duration
 * histograms answer (within a bucket, 4.4 %, of the exact value; counts, means and shares on time stay exact).
 */
const EXACT_PERCENTILES_UP_TO = 2_000;

/**
 * Zones known valid: luxon checks one by building an `Intl.DateTimeFormat` (~3 ms of CPU per request in a profile of
 * the stage statistics). Only valid names are kept, and there are a few hundred of them.
 */
const validZones = new Set<string>(['UTC']);
function isZone(name: string): boolean {
  if (validZones.has(name)) return true;
  if (!IANAZone.isValidZone(name)) return false;
  validZones.add(name);
  return true;
}

/** The window when the query names no `from` (and no `to`: then it ends now). */
const defaultWindow = (to: Date): Window => ({ from: new Date(to.getTime() - DEFAULT_WINDOW_DAYS * DAY), to, timeZone: 'UTC' });

const iso = (value: Date | null | undefined) => (value ? value.toISOString() : null);
const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/** Dashboard numbers, all computed in SQL over indexes, partial indexes on open tickets and the flow rollup. */
export class MonitorService {
  private readonly db: Db;
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly monitor = new MonitorRepository();

  private readonly results: ResultCache;

  constructor(
    context: ServiceContext,
    private readonly projects: ProjectsService,
  ) {
    this.db = context.database.db;
    this.database = context.database;
    this.clock = context.clock;
    this.results = new ResultCache(context.clock, context.config.monitorCacheSeconds * 1000);
  }

  /**
   * Merges the tallies' deltas; the server runs it every few seconds (answers are the same before and after). Then
   * builds, once a day, the sum of the default window's whole days that the stage statistics read (migration 0025).
   */
  async foldTallies(): Promise<void> {
    await this.monitor.foldTallies(this.db);
    await this.monitor.buildDurationSpan(this.db, defaultWindow(this.clock.now()));
  }

  /** Called after every successful write: kept answers describe the data before it. */
  forgetAnswers(): void {
    this.results.clear();
  }

  /**
   * Dashboard answers do not depend on who asks (only staff may ask), so one computation per question serves every
   * dashboard until the data changes or MONITOR_CACHE_SECONDS pass (at-risk and overdue move with time alone): at a
   * million tickets, some of these aggregates cost hundreds of milliseconds.
   */
  private cached<T>(actor: Actor, name: string, question: unknown, compute: (db: Db) => Promise<T>): Promise<T> {
    assertCan(actor, 'monitor:read');
    // With read replicas, an answer is kept per source and position: one computed on a replica that had not yet
    // replayed someone's write is never handed to them (read-your-writes holds for the cache too).
    const db = this.database.reader(actor);
    const source = this.database.positionOf(db);
    return this.results.get(`${name} ${JSON.stringify(question)}${source ? ` @${source}` : ''}`, () => compute(db));
  }

  private async filters(
    db: Db,
    actor: Actor,
    query: MonitorQueryType,
  ): Promise<{ filters: MonitorFilters; projectId?: string; window: Window; now: Date }> {
    assertCan(actor, 'monitor:read');
    const now = this.clock.now();
    const timeZone = query.time_zone ?? 'UTC';
    const problems = [];
    if (!isZone(timeZone)) problems.push({ field: 'time_zone', problem: `"${timeZone}" is not an IANA time zone` });
    const to = query.to ? new Date(query.to) : now;
    const from = query.from ? new Date(query.from) : defaultWindow(to).from;
    if (from.getTime() >= to.getTime()) problems.push({ field: 'from', problem: 'must be before `to`' });
    else if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY)
      problems.push({ field: 'from', problem: `the window may span at most ${MAX_WINDOW_DAYS} days` });
    if (problems.length) invalid(problems);
    const project = query.project ? await this.projects.find(db, query.project) : undefined;
    const filters: MonitorFilters = {
      ...(project ? { projectId: project.id } : query.project ? { project: query.project } : {}),
      ...(query.customer ? { customer: query.customer } : {}),
      ...(query.assigned_to ? { assignedTo: query.assigned_to } : {}),
      ...(query.priority ? { priorities: [...new Set(query.priority.split(','))] as Priority[] } : {}),
    };
    return { filters, projectId: project?.id, window: { from, to, timeZone }, now };
  }

  overview(actor: Actor, query: MonitorQueryType) {
    return this.cached(actor, 'overview', query, async (db) => {
      const { filters, window, now } = await this.filters(db, actor, query);
      const startOfDay = DateTime.fromJSDate(now, { zone: window.timeZone }).startOf('day').toJSDate();
      const [counts, { byStatus, byStage }, oldest] = await Promise.all([
        this.monitor.overviewCounts(db, filters, now, startOfDay),
        tallyAnswers(filters)
          ? this.monitor.openTally(db, filters)
          : Promise.all([this.monitor.openByStatus(db, filters), this.monitor.openByStage(db, filters)]).then(([byStatus, byStage]) => ({
              byStatus,
              byStage,
            })),
        this.monitor.oldestOpen(db, filters),
      ]);
      const open = byStatus.reduce((sum, row) => sum + Number(row.count), 0);
      return {
        now: now.toISOString(),
        open,
        by_status: Object.fromEntries(byStatus.map((row) => [row.status, Number(row.count)])),
        by_stage: byStage.map((row) => ({ ...row, count: Number(row.count) })),
        on_track: open - Number(counts.at_risk) - Number(counts.overdue),
        at_risk: Number(counts.at_risk),
        overdue: Number(counts.overdue),
        oldest_open: oldest
          ? {
              id: oldest.id,
              number: oldest.number,
              subject: oldest.subject,
              created_at: oldest.created_at.toISOString(),
              age_seconds: Math.max(0, Math.floor((now.getTime() - oldest.created_at.getTime()) / 1000)),
            }
          : null,
        created_today: Number(counts.created_today),
        closed_today: Number(counts.closed_today),
      };
    });
  }

  delayed(actor: Actor, query: MonitorQueryType, limit: number, sort: DelayedSort = 'delay', cursor?: string) {
    return this.cached(actor, 'delayed', { query, limit, sort, cursor }, async (db) => {
      const { filters, now } = await this.filters(db, actor, query);
      const after = cursor ? decodeDelayedCursor(cursor) : null;
      // A first page sorted otherwise than by `delay` counts every late ticket in its own scan (it reads them all to
      // sort them); the others are counted apart.
      const [rows, counted] = await Promise.all([
        this.monitor.delayed(db, filters, now, limit, sort, after),
        after || sort === 'delay' ? this.monitor.delayedCount(db, filters, now) : null,
      ]);
      const total = counted ?? Number(rows[0]?.total ?? 0);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const nextCursor =
        rows.length > limit && last
          ? encodeCursor([
              last.k1 instanceof Date ? last.k1.toISOString() : last.k1 === null ? '' : Number(last.k1),
              iso(last.k2) ?? '',
              last.id,
            ])
          : null;
      const items = page.map((row) => {
        const judged = delayOf(row, now);
        return {
          id: row.id,
          number: row.number,
          subject: row.subject,
          project: row.project,
          customer_name: row.customer_name,
          assigned_to: row.assigned_to,
          priority: row.priority,
          status: row.status,
          ...judged,
          delay_state: judged.delay_state === 'overdue' ? ('overdue' as const) : ('at_risk' as const),
          at_risk_since: row.at_risk_from.toISOString(),
          stage: row.stage_id
            ? {
                id: row.stage_id,
                key: row.stage_key,
                name: row.stage_name,
                started_at: iso(row.stage_start_time),
                due_at: iso(row.visit_due_at),
              }
            : null,
          time_in_stage_ms: row.stage_start_time ? Math.max(0, now.getTime() - row.stage_start_time.getTime()) : null,
        };
      });
      return { items, total, nextCursor };
    });
  }

  stages(actor: Actor, query: MonitorQueryType) {
    return this.cached(actor, 'stages', query, async (db) => {
      const { filters, projectId, window, now } = await this.filters(db, actor, query);
      const [definitions, open, completed] = await Promise.all([
        this.monitor.definitions(db, projectId),
        this.monitor.openStageCounts(db, filters, now),
        this.completedStageStats(db, filters, window),
      ]);
      const openBy = new Map(open.map((row) => [row.definition_id, row]));
      const doneBy = new Map(completed.rows.map((row) => [row.definition_id, row]));
      return definitions.map((definition) => {
        const live = openBy.get(definition.id);
        const done = doneBy.get(definition.id);
        return {
          definition_id: definition.id,
          project_key: definition.project_key,
          key: definition.key,
          name: definition.name,
          stage_type: definition.parent_id ? ('minor' as const) : ('major' as const),
          target_minutes: definition.target_minutes,
          in_stage_now: Number(live?.in_stage_now ?? 0),
          overdue_now: Number(live?.overdue_now ?? 0),
          completed: Number(done?.completed ?? 0),
          p50_ms: number(done?.p50_ms),
          p90_ms: number(done?.p90_ms),
          mean_ms: number(done?.mean_ms),
          p50_business_ms: number(done?.p50_business_ms),
          p90_business_ms: number(done?.p90_business_ms),
          within_target: number(done?.within_target),
          percentiles: completed.percentiles,
        };
      });
    });
  }

  /**
   * Exact statistics over the window's ended visits while they are few; beyond EXACT_PERCENTILES_UP_TO (a busy month
   * of a million tickets holds ~400,000), percentiles from the duration tally's histograms, which reads a few
   * thousand rows where the exact ones sort every visit.
   */
  private async completedStageStats(db: Db, filters: MonitorFilters, window: Window) {
    if (visitsByDefinitionAlone(filters)) {
      const { ended, span } = await this.monitor.endedVisitsAbout(db, filters, window);
      if (ended > EXACT_PERCENTILES_UP_TO) {
        return { percentiles: 'histogram' as const, rows: await this.monitor.endedVisitHistogramStats(db, filters, window, span) };
      }
    }
    return { percentiles: 'exact' as const, rows: await this.monitor.completedStageStats(db, filters, window) };
  }

  throughput(actor: Actor, query: MonitorQueryType, interval: 'day' | 'week') {
    return this.cached(actor, 'throughput', { query, interval }, async (db) => {
      const { filters, window } = await this.filters(db, actor, query);
      const [created, closed] = await Promise.all([
        this.monitor.throughput(db, filters, window, interval, 'created'),
        this.monitor.throughput(db, filters, window, interval, 'closed'),
      ]);
      return created.map((row, index) => ({ period: row.period, created: Number(row.n), closed: Number(closed[index]!.n) }));
    });
  }

  flow(actor: Actor, query: MonitorQueryType) {
    return this.cached(actor, 'flow', query, async (db) => {
      const { projectId, window } = await this.filters(db, actor, query);
      if (!projectId) invalid([{ field: 'project', problem: 'is required: cumulative flow is per project workflow' }]);
      const [definitions, rows] = await Promise.all([
        this.monitor.definitions(db, projectId),
        this.monitor.flow(db, projectId, utcDay(window.from), utcDay(window.to)),
      ]);
      const byDefinition = new Map<string, { day: string; count: number }[]>();
      for (const row of rows) {
        const points = byDefinition.get(row.definition_id) ?? [];
        points.push({ day: row.day, count: Number(row.count) });
        byDefinition.set(row.definition_id, points);
      }
      const stages = definitions.map((definition) => ({
        definition_id: definition.id,
        key: definition.key,
        name: definition.name,
        final: definition.final,
        points: byDefinition.get(definition.id) ?? [],
      }));
      return {
        project_key: definitions[0]?.project_key ?? query.project!,
        days: stages[0]?.points.map((point) => point.day) ?? [],
        stages,
      };
    });
  }

  aging(actor: Actor, query: MonitorQueryType) {
    return this.cached(actor, 'aging', query, async (db) => {
      const { filters, now } = await this.filters(db, actor, query);
      const counts = await this.monitor.aging(db, filters, now, AGING_EDGES);
      return AGING_EDGES.map((minDays, index) => {
        const maxDays = AGING_EDGES[index + 1] ?? null;
        return {
          bucket: maxDays === null ? `${minDays}d+` : `${minDays}-${maxDays}d`,
          min_days: minDays,
          max_days: maxDays,
          count: counts[index],
        };
      });
    });
  }
}
