import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../../db/database.js';
import { containsPattern } from '../../db/sql-helpers.js';
import type { Priority } from '../../db/types.js';
import { DURATION_BUCKETS_PER_DOUBLING } from '../../db/migrations/0011_tallies.js';
import { delayPredicates } from '../workflow/delay.js';

/** Ticket filters every monitor answer accepts; `projectId` wins over the free-text `project`. */
export type MonitorFilters = {
  projectId?: string;
  project?: string;
  customer?: string;
  assignedTo?: string;
  priorities?: Priority[];
};

export type Window = { from: Date; to: Date; timeZone: string };

/** The filters as one SQL condition over a `tickets` row aliased `t` (each served by an index of its own). */
function ticketCondition(filters: MonitorFilters): RawBuilder<boolean> {
  const parts: RawBuilder<unknown>[] = [sql`true`];
  if (filters.projectId) parts.push(sql`t.project_id = ${filters.projectId}`);
  else if (filters.project) parts.push(sql`t.project = ${filters.project}`);
  // Must equal the trigram-indexed expression of migration 0001.
  if (filters.customer) {
    parts.push(
      sql`lower(coalesce(t.customer_name, '') || ' ' || coalesce(t.customer_email, '')) like ${containsPattern(filters.customer)}`,
    );
  }
  if (filters.assignedTo) parts.push(sql`t.assigned_to = ${filters.assignedTo}`);
  if (filters.priorities?.length) parts.push(sql`t.priority in (${sql.join(filters.priorities)})`);
  return sql<boolean>`(${sql.join(parts, sql` and `)})`;
}

const DAY = 86_400_000;
/** The UTC day of a moment, as YYYY-MM-DD: the day the tallies and the flow chart count it in. */
export const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/** A window's whole UTC days [firstWholeDay, wholeDaysEnd): the ones the duration tally answers for. */
export function wholeDays(window: Window): { firstWholeDay: Date; wholeDaysEnd: Date } {
  const firstWholeDay = new Date(Math.ceil(window.from.getTime() / DAY) * DAY);
  const wholeDaysEnd = new Date(Math.max(firstWholeDay.getTime(), Math.floor(window.to.getTime() / DAY) * DAY));
  return { firstWholeDay, wholeDaysEnd };
}

/** Stage definitions in scope: a project's definitions are its own, so a project filter needs no ticket row. */
function definitionScope(filters: MonitorFilters, column: RawBuilder<unknown> | ReturnType<typeof sql.ref>): RawBuilder<boolean> {
  return filters.projectId
    ? // An array, not a subquery: the planner then looks each definition up in the (definition_id, …) indexes.
      sql<boolean>`${column} = any(array(select id from stage_definitions where project_id = ${filters.projectId}))`
    : sql<boolean>`true`;
}

/** Whether visits can be filtered by their definitions alone (no ticket column but the project is filtered). */
export function visitsByDefinitionAlone(filters: MonitorFilters): boolean {
  return tallyAnswers(filters) && !filters.priorities?.length;
}

/** How visits (`stages s`) are filtered: by their definitions alone when no other ticket column is filtered. */
function visitScope(filters: MonitorFilters): { join: RawBuilder<unknown>; where: RawBuilder<boolean> } {
  if (visitsByDefinitionAlone(filters)) return { join: sql``, where: definitionScope(filters, sql.ref('s.definition_id')) };
  return { join: sql`join tickets t on t.id = s.ticket_id`, where: ticketCondition(filters) };
}

/** Whether the open-ticket tally (keyed by project, status, priority and stage) can answer for these filters. */
export function tallyAnswers(filters: MonitorFilters): boolean {
  return !filters.project && !filters.customer && !filters.assignedTo;
}

/** Per definition, over the visits that ended in the window. */
type CompletedStageStats = {
  definition_id: string;
  completed: number;
  p50_ms: number | null;
  p90_ms: number | null;
  mean_ms: number | null;
  p50_business_ms: number | null;
  p90_business_ms: number | null;
  within_target: number | null;
};

/**
 * `delayPredicates` among the open tickets with an at-risk moment (`open`, the predicate of `tickets_open_delay`):
 * `atRisk` and `overdue` without the columns that index does not hold, so both counts are one index-only pass.
 */
function timedDelay(now: Date) {
  return {
    open: sql<boolean>`(t.status <> 'closed' and t.at_risk_from is not null)`,
    atRisk: sql<boolean>`(t.at_risk_from <= ${now} and (t.overdue_from is null or t.overdue_from > ${now}))`,
    overdue: sql<boolean>`(t.overdue_from <= ${now})`,
  };
}

export type OpenByStage = { definition_id: string | null; key: string | null; name: string; project_key: string | null; count: number };

export class MonitorRepository {
  /**
   * At risk and overdue from ONE pass over the open tickets with an at-risk moment (`tickets_open_delay`,
   * index-only; `timedDelay`): they were two scans, and nearly every open ticket is late.
   */
  async overviewCounts(db: Executor, filters: MonitorFilters, now: Date, startOfDay: Date) {
    const where = ticketCondition(filters);
    const delay = timedDelay(now);
    const { rows } = await sql<{ at_risk: number; overdue: number; created_today: number; closed_today: number }>`
      select l.at_risk, l.overdue,
        (select count(*) from tickets t where t.created_at >= ${startOfDay} and t.created_at <= ${now} and ${where}) as created_today,
        (select count(*) from tickets t where t.closed_at >= ${startOfDay} and t.closed_at <= ${now} and ${where}) as closed_today
      from (
        select count(*) filter (where ${delay.atRisk}) as at_risk, count(*) filter (where ${delay.overdue}) as overdue
        from tickets t where ${delay.open} and ${where}
      ) l`.execute(db);
    return rows[0];
  }

  async openByStatus(db: Executor, filters: MonitorFilters) {
    const { rows } = await sql<{ status: string; count: number }>`
      select t.status, count(*) as count from tickets t where t.status <> 'closed' and ${ticketCondition(filters)}
      group by t.status order by t.status`.execute(db);
    return rows;
  }

  /** Open tickets by status and by stage from the tally (a sum over its few rows per key, no scan of tickets). */
  async openTally(db: Executor, filters: MonitorFilters) {
    const parts: RawBuilder<unknown>[] = [sql`true`];
    if (filters.projectId) parts.push(sql`x.project_id = ${filters.projectId}`);
    if (filters.priorities?.length) parts.push(sql`x.priority in (${sql.join(filters.priorities)})`);
    const { rows } = await sql<OpenByStage & { status: string | null; by_status: boolean }>`
      select grouping(x.status) = 0 as by_status, x.status, d.id as definition_id, d.key,
        coalesce(d.name, x.stage_label, 'no stage') as name, p.key as project_key, sum(x.n) as count
      from open_ticket_now x
      left join stage_definitions d on d.id = x.definition_id
      left join projects p on p.id = d.project_id
      where ${sql.join(parts, sql` and `)}
      group by grouping sets ((x.status), (d.id, d.key, coalesce(d.name, x.stage_label, 'no stage'), p.key, d.position))
      having sum(x.n) <> 0
      order by x.status, p.key nulls last, d.position nulls last, 5`.execute(db);
    return {
      byStatus: rows.filter((row) => row.by_status).map((row) => ({ status: row.status!, count: row.count })),
      byStage: rows
        .filter((row) => !row.by_status)
        .map(({ definition_id, key, name, project_key, count }) => ({ definition_id, key, name, project_key, count })),
    };
  }

  /** Merges the tallies' appended deltas (see migration 0011); a no-op while another process folds. */
  async foldTallies(db: Executor): Promise<void> {
    await sql`select fold_tallies()`.execute(db);
  }

  async openByStage(db: Executor, filters: MonitorFilters) {
    const { rows } = await sql<OpenByStage>`
      select d.id as definition_id, d.key, coalesce(d.name, s.stage_description, 'no stage') as name, p.key as project_key, count(*) as count
      from tickets t
      left join stages s on s.id = t.current_stage_id
      left join stage_definitions d on d.id = s.definition_id
      left join projects p on p.id = d.project_id
      where t.status <> 'closed' and ${ticketCondition(filters)}
      group by d.id, d.key, coalesce(d.name, s.stage_description, 'no stage'), p.key, d.position
      order by p.key nulls last, d.position nulls last, 3`.execute(db);
    return rows;
  }

  async oldestOpen(db: Executor, filters: MonitorFilters) {
    const { rows } = await sql<{ id: string; number: number; subject: string | null; created_at: Date }>`
      select t.id, t.number, t.subject, t.created_at from tickets t
      where t.status <> 'closed' and ${ticketCondition(filters)}
      order by t.created_at, t.id limit 1`.execute(db);
    return rows[0];
  }

  /**
   * Open tickets past their at-risk moment, most late first, one keyset page. `delay` (default): overdue before at
   * risk, each by how long (the earlier of the stage and ticket moments; the tickets_open_delay index's order);
   * `stage_overdue_by` / `ticket_overdue_by`: by that judgement's due moment, earliest (most late) first, tickets
   * without that target last.
   */
  async delayed(db: Executor, filters: MonitorFilters, now: Date, limit: number, sort: DelayedSort, after: DelayedCursor | null) {
    const key = delayedKey(sort, now);
    const late = sql`${delayPredicates(now).late} and ${ticketCondition(filters)} ${after ? sql`and ${key.after(after)}` : sql``}`;
    // `delay`: the overdue ones in the order of `tickets_overdue_from`, then the ones only at risk in the order of
    // `tickets_open_delay`, each part up to a page: a bounded walk of each index where one query sorted every late ticket.
    // Other orders sort every late ticket, and count them in the same pass on a first page.
    const counted = !after && sort !== 'delay';
    const page =
      sort === 'delay'
        ? sql`
          select * from (
            select t.id, 1 as k1, t.overdue_from as k2 from tickets t
            where ${late} and t.overdue_from <= ${now} order by t.overdue_from, t.id limit ${limit + 1}
          ) overdue
          union all
          select * from (
            select t.id, 0 as k1, t.at_risk_from as k2 from tickets t
            where ${late} and (t.overdue_from is null or t.overdue_from > ${now}) order by t.at_risk_from, t.id limit ${limit + 1}
          ) at_risk
          order by k1 desc, k2, id
          limit ${limit + 1}`
        : sql`
          select t.id, ${key.columns}${counted ? sql`, count(*) over () as total` : sql``}
          from tickets t
          where ${late}
          order by ${key.order}
          limit ${limit + 1}`;
    const { rows } = await sql<DelayedRow>`
      with page as (${page})
      select ${counted ? sql`page.total` : sql`null::bigint`} as total, t.id, t.number, t.subject, t.project, t.customer_name, t.assigned_to, t.priority, t.status, t.at_risk_from,
        t.stage_at_risk_at, t.stage_due_at, t.sla_at_risk_at, t.sla_due_at, page.k1, page.k2,
        s.id as stage_id, d.key as stage_key, coalesce(d.name, s.stage_description) as stage_name, s.stage_start_time, s.due_at as visit_due_at
      from page
      join tickets t on t.id = page.id
      left join stages s on s.id = t.current_stage_id
      left join stage_definitions d on d.id = s.definition_id
      order by ${key.pageOrder}`.execute(db);
    return rows;
  }

  async delayedCount(db: Executor, filters: MonitorFilters, now: Date): Promise<number> {
    const { rows } = await sql<{ count: number }>`
      select count(*) as count from tickets t where ${delayPredicates(now).late} and ${ticketCondition(filters)}`.execute(db);
    return Number(rows[0].count);
  }

  definitions(db: Executor, projectId: string | undefined) {
    let query = db
      .selectFrom('stage_definitions as d')
      .innerJoin('projects as p', 'p.id', 'd.project_id')
      .select(['d.id', 'd.key', 'd.name', 'd.parent_id', 'd.target_minutes', 'd.final', 'p.key as project_key'])
      .where('d.archived', '=', false);
    if (projectId) query = query.where('d.project_id', '=', projectId);
    return query.orderBy('p.key').orderBy('d.position').execute();
  }

  /**
   * Per definition: visits open now and overdue now. When no ticket column is filtered, the open ones are the flow
   * tally's entries less its exits (a visit that ended had started: `stages_end_after_start`) plus the open visits that
   * never started (`stages_definition_open_unstarted`, migration 0025), and only the overdue ones are counted from the
   * visits (index-only, `stages_definition_open_due`): at a million tickets ~1/5 of the open visits instead of all.
   */
  async openStageCounts(db: Executor, filters: MonitorFilters, now: Date) {
    if (visitsByDefinitionAlone(filters)) {
      const { rows } = await sql<{ definition_id: string; in_stage_now: number; overdue_now: number }>`
        select d.id as definition_id,
          coalesce((select sum(f.entered) - sum(f.exited) from stage_flow_now f where f.definition_id = d.id), 0)
            + (select count(*) from stages s where s.definition_id = d.id and s.stage_end_time is null and s.stage_start_time is null) as in_stage_now,
          (select count(*) from stages s where s.definition_id = d.id and s.stage_end_time is null and s.due_at <= ${now}) as overdue_now
        from stage_definitions d
        where ${filters.projectId ? sql`d.project_id = ${filters.projectId}` : sql`true`}`.execute(db);
      return rows;
    }
    const { join, where } = visitScope(filters);
    const { rows } = await sql<{ definition_id: string; in_stage_now: number; overdue_now: number }>`
      select s.definition_id, count(*) as in_stage_now, count(*) filter (where s.due_at <= ${now}) as overdue_now
      from stages s ${join}
      where s.definition_id is not null and s.stage_end_time is null and ${where}
      group by s.definition_id`.execute(db);
    return rows;
  }

  /**
   * Visits that ended in the window's days, from the flow tally's exits: enough to choose how to compute; and whether
   * the span of the window's whole days is built (`stage_duration_span`, migration 0025).
   */
  async endedVisitsAbout(db: Executor, filters: MonitorFilters, window: Window): Promise<{ ended: number; span: boolean }> {
    const { firstWholeDay, wholeDaysEnd } = wholeDays(window);
    const { rows } = await sql<{ n: number | null; span: boolean }>`
      select (select sum(exited) from stage_flow_now
              where day >= ${utcDay(window.from)}::date and day <= ${utcDay(window.to)}::date and ${definitionScope(filters, sql.ref('definition_id'))}) as n,
        exists (select 1 from stage_duration_spans where from_day = ${utcDay(firstWholeDay)}::date and to_day = ${utcDay(wholeDaysEnd)}::date) as span`.execute(
      db,
    );
    return { ended: Number(rows[0]?.n ?? 0), span: rows[0]?.span === true };
  }

  /** Builds the span of these whole days for the stage statistics (a no-op once built; see migration 0025). */
  async buildDurationSpan(db: Executor, window: Window): Promise<void> {
    const { firstWholeDay, wholeDaysEnd } = wholeDays(window);
    if (firstWholeDay >= wholeDaysEnd) return;
    await sql`select build_duration_span(${utcDay(firstWholeDay)}::date, ${utcDay(wholeDaysEnd)}::date)`.execute(db);
  }

  /** Per definition, over visits that ended in the window: exact percentiles (`percentile_cont`), mean, share on time. */
  async completedStageStats(db: Executor, filters: MonitorFilters, window: Window) {
    const { join, where } = visitScope(filters);
    const { rows } = await sql<CompletedStageStats>`
      with visits as (
        select s.definition_id, s.due_at, s.stage_end_time,
          extract(epoch from (s.stage_end_time - s.stage_start_time)) * 1000 as ms, s.business_ms
        from stages s ${join}
        where s.definition_id is not null and s.stage_end_time >= ${window.from} and s.stage_end_time < ${window.to} and ${where}
      )
      select definition_id, count(*) as completed,
        percentile_cont(0.5) within group (order by ms) as p50_ms,
        percentile_cont(0.9) within group (order by ms) as p90_ms,
        avg(ms) as mean_ms,
        percentile_cont(0.5) within group (order by business_ms) as p50_business_ms,
        percentile_cont(0.9) within group (order by business_ms) as p90_business_ms,
        (count(*) filter (where due_at is null or stage_end_time <= due_at))::float8 / count(*) as within_target
      from visits group by definition_id`.execute(db);
    return rows;
  }

  /**
   * Per definition, what `completedStageStats` gives, from the durations of visits that ended in the window as
   * log-scale histograms: whole UTC days from the duration tally, the window's partial first and last days bucketed
   * from the visits themselves. Counts, means and shares on time are exact; each percentile is read at the rank
   * `percentile_cont` uses (p·(n−1)) with the values of its bucket taken as spread evenly over the bucket's range:
   * within one bucket's width (4.4 %) of the exact value. Only for filters the tally answers (`tallyAnswers` without
   * priorities). All in SQL, one row per definition back: the tally is read index-only (`stage_duration_tally_read`),
   * each partial day's visits too (`stages_definition_ended`, migration 0022).
   */
  async endedVisitHistogramStats(db: Executor, filters: MonitorFilters, window: Window, span: boolean) {
    const { firstWholeDay, wholeDaysEnd } = wholeDays(window);
    const scope = definitionScope(filters, sql.ref('s.definition_id'));
    // Two ranges, each its own index range scan (an OR of them is a bitmap scan, which always reads the heap).
    const partial = (from: Date, to: Date) => sql`
      select s.definition_id, s.due_at, s.stage_end_time, s.business_ms::float8 as business_ms,
        extract(epoch from (s.stage_end_time - s.stage_start_time))::float8 * 1000 as ms
      from stages s
      where s.definition_id is not null and ${scope} and s.stage_end_time is not null
        and s.stage_end_time >= ${from} and s.stage_end_time < ${to}`;
    // Where bucket b begins, in ms: bucket b holds [2^(b/k) − 1, 2^((b+1)/k) − 1), k buckets per doubling.
    const start = (bucket: RawBuilder<unknown>) => sql`(power(2::float8, (${bucket})::float8 / ${DURATION_BUCKETS_PER_DOUBLING}) - 1)`;
    const days = sql`day >= ${utcDay(firstWholeDay)}::date and day < ${utcDay(wholeDaysEnd)}::date`;
    const tallyScope = definitionScope(filters, sql.ref('definition_id'));
    // A tally row (or delta) as its wall-clock bucket with the totals and its business bucket with the count alone.
    const split = (rows: RawBuilder<unknown>) => sql`
      select r.definition_id, k.wall, k.bucket, r.n, case when k.wall then r.total_ms else 0 end as total_ms,
        case when k.wall then r.on_time else 0 end as on_time
      from (${rows}) r cross join lateral (values (true, r.bucket), (false, r.business_bucket)) as k(wall, bucket)
      where k.bucket is not null`;
    // The whole days: their span (built for the default window) and the deltas not folded yet, else the tally.
    const wholeDayRows = span
      ? sql`
          select definition_id, wall, bucket, n::float8 as n, total_ms, on_time::float8 as on_time from stage_duration_span
          where from_day = ${utcDay(firstWholeDay)}::date and to_day = ${utcDay(wholeDaysEnd)}::date and ${tallyScope}
          union all
          ${split(sql`select definition_id, bucket, business_bucket, n, total_ms, on_time from stage_duration_delta where ${days} and ${tallyScope}`)}`
      : split(
          sql`select definition_id, bucket, business_bucket, n, total_ms, on_time from stage_duration_now where ${days} and ${tallyScope}`,
        );
    const { rows } = await sql<CompletedStageStats>`
      with h as (
        -- One row per definition, kind (wall: wall-clock, with the totals; else business) and bucket.
        select definition_id, wall, bucket, sum(n)::float8 as n, sum(total_ms)::float8 as total_ms, sum(on_time)::float8 as on_time
        from (
          ${wholeDayRows}
          union all
          ${split(sql`
            select s.definition_id, duration_bucket(s.ms) as bucket, duration_bucket(s.business_ms) as business_bucket, 1 as n, s.ms as total_ms,
              case when s.due_at is null or s.stage_end_time <= s.due_at then 1 else 0 end as on_time
            from (
              ${partial(window.from, firstWholeDay < window.to ? firstWholeDay : window.to)}
              union all
              ${partial(wholeDaysEnd, window.to)}
            ) s`)}
        ) visits
        group by definition_id, wall, bucket
        having sum(n) <> 0
      ),
      running as (
        select definition_id, wall, bucket, n,
          sum(n) over (partition by definition_id, wall order by bucket rows unbounded preceding) as through,
          sum(n) over (partition by definition_id, wall) as total
        from h
      ),
      percentile as (
        -- The first bucket whose running count passes the rank.
        select distinct on (r.definition_id, r.wall, q.p) r.definition_id, r.wall, q.p,
          ${start(sql`r.bucket`)} + (${start(sql`r.bucket + 1`)} - ${start(sql`r.bucket`)}) * (q.p * (r.total - 1) - (r.through - r.n) + 0.5) / r.n as ms
        from running r cross join (values (0.5::float8), (0.9::float8)) as q(p)
        where r.n > 0 and q.p * (r.total - 1) < r.through
        order by r.definition_id, r.wall, q.p, r.bucket
      )
      select c.definition_id, c.completed,
        max(p.ms) filter (where p.wall and p.p = 0.5) as p50_ms,
        max(p.ms) filter (where p.wall and p.p = 0.9) as p90_ms,
        c.mean_ms,
        max(p.ms) filter (where not p.wall and p.p = 0.5) as p50_business_ms,
        max(p.ms) filter (where not p.wall and p.p = 0.9) as p90_business_ms,
        c.within_target
      from (
        select definition_id, sum(n) as completed, sum(total_ms) / nullif(sum(n), 0) as mean_ms,
          sum(on_time) / nullif(sum(n), 0) as within_target
        from h where wall group by definition_id
      ) c
      left join percentile p on p.definition_id = c.definition_id
      group by c.definition_id, c.completed, c.mean_ms, c.within_target`.execute(db);
    return rows;
  }

  /**
   * Tickets created (or closed) per day or week of the window in its time zone, every period listed. Created and
   * closed are two queries so a caller can run them side by side: each is an index-only scan of its own index.
   */
  async throughput(db: Executor, filters: MonitorFilters, window: Window, interval: 'day' | 'week', moment: 'created' | 'closed') {
    const column = sql.ref(`t.${moment}_at`);
    const bucket = (at: RawBuilder<unknown> | ReturnType<typeof sql.ref>) =>
      sql`date_trunc(${interval}, ${at} at time zone ${window.timeZone})`;
    const { rows } = await sql<{ period: string; n: number }>`
      with periods as (
        select generate_series(${bucket(sql`${window.from}::timestamptz`)}, ${bucket(sql`${window.to}::timestamptz`)}, ${`1 ${interval}`}::interval) as period
      ), counted as (
        select ${bucket(column)} as period, count(*) as n from tickets t
        where ${column} >= ${window.from} and ${column} < ${window.to} and ${ticketCondition(filters)} group by 1
      )
      select to_char(p.period, 'YYYY-MM-DD') as period, coalesce(c.n, 0) as n
      from periods p left join counted c on c.period = p.period
      order by p.period`.execute(db);
    return rows;
  }

  /**
   * Tickets in each stage at the end of each UTC day, from the entries/exits tally (a running sum, no scan of
   * stages). The tally is read once, for the project's definitions only (its view is grouped, so a filter on its
   * key reaches both of its tables; a join condition would not, and every project's rows were grouped twice).
   */
  async flow(db: Executor, projectId: string, from: string, to: string) {
    const { rows } = await sql<{ definition_id: string; day: string; count: number }>`
      with days as (select generate_series(${from}::date, ${to}::date, '1 day'::interval)::date as day),
      defs as (select id, final from stage_definitions where project_id = ${projectId} and not archived),
      moves as (
        select f.definition_id, f.day, case when d.final then f.entered else f.entered - f.exited end as n
        from stage_flow_now f join defs d on d.id = f.definition_id
        where f.definition_id = any(array(select id from stage_definitions where project_id = ${projectId} and not archived))
          and f.day <= ${to}::date
      ),
      base as (select definition_id, sum(n) as n from moves where day < ${from}::date group by definition_id)
      select d.id as definition_id, to_char(days.day, 'YYYY-MM-DD') as day,
        (coalesce(b.n, 0) + sum(coalesce(m.n, 0)) over (partition by d.id order by days.day))::integer as count
      from defs d cross join days
      left join base b on b.definition_id = d.id
      left join moves m on m.definition_id = d.id and m.day = days.day
      order by d.id, days.day`.execute(db);
    return rows;
  }

  /**
   * Open tickets by age, one count per bucket of `edgesDays` (the last bucket: older than the last edge). When the
   * open-ticket tally answers for the filters, only the tickets younger than the last edge are counted (at a million
   * tickets ~1/4 of the open ones, along `tickets_open_project`): the oldest bucket is the tally's total less them.
   */
  async aging(db: Executor, filters: MonitorFilters, now: Date, edgesDays: readonly number[]) {
    const ago = (days: number) => new Date(now.getTime() - days * 86_400_000);
    const bucket = (index: number) => {
      const upper = edgesDays[index + 1];
      const older = sql`t.created_at <= ${ago(edgesDays[index]!)}`;
      return upper === undefined ? older : sql`${older} and t.created_at > ${ago(upper)}`;
    };
    const last = edgesDays.length - 1;
    if (tallyAnswers(filters) && last > 0) {
      const parts: RawBuilder<unknown>[] = [sql`true`];
      if (filters.projectId) parts.push(sql`x.project_id = ${filters.projectId}`);
      if (filters.priorities?.length) parts.push(sql`x.priority in (${sql.join(filters.priorities)})`);
      const counts = edgesDays.slice(0, last).map((_, index) => sql`count(*) filter (where ${bucket(index)}) as ${sql.ref(`b${index}`)}`);
      const { rows } = await sql<Record<string, number>>`
        select ${sql.join(counts)}, count(*) as younger,
          (select coalesce(sum(x.n), 0) from open_ticket_now x where ${sql.join(parts, sql` and `)}) as open
        from tickets t where t.status <> 'closed' and ${ticketCondition(filters)} and t.created_at > ${ago(edgesDays[last]!)}`.execute(db);
      const row = rows[0]!;
      return edgesDays.map((_, index) => (index === last ? Number(row.open) - Number(row.younger) : Number(row[`b${index}`])));
    }
    const counts = edgesDays.map((_, index) => sql`count(*) filter (where ${bucket(index)}) as ${sql.ref(`b${index}`)}`);
    const { rows } = await sql<Record<string, number>>`
      select ${sql.join(counts)} from tickets t where t.status <> 'closed' and ${ticketCondition(filters)}`.execute(db);
    return edgesDays.map((_, index) => Number(rows[0][`b${index}`]));
  }
}

export const delayedSorts = ['delay', 'stage_overdue_by', 'ticket_overdue_by'] as const;
export type DelayedSort = (typeof delayedSorts)[number];
/** The last row's sort key: k1 (overdue flag 1/0, or the due moment; null: no such target), k2 (late since), id. */
export type DelayedCursor = { k1: number | string | null; k2: string | null; id: string };

type DelayedRow = {
  /** All late tickets (a window count over the page's own scan: a first page in an order other than `delay`). */
  total?: number;
  id: string;
  number: number;
  subject: string | null;
  project: string | null;
  customer_name: string | null;
  assigned_to: string | null;
  priority: string;
  status: string;
  at_risk_from: Date;
  stage_at_risk_at: Date | null;
  stage_due_at: Date | null;
  sla_at_risk_at: Date | null;
  sla_due_at: Date | null;
  k1: number | Date | null;
  k2: Date | null;
  stage_id: string | null;
  stage_key: string | null;
  stage_name: string | null;
  stage_start_time: Date | null;
  visit_due_at: Date | null;
};

/** The page's sort key columns (k1, k2), their order and the keyset condition after a cursor. */
function delayedKey(sort: DelayedSort, now: Date) {
  if (sort === 'delay') {
    // Overdue first (k1 = 1), each by the moment it became late (k2), earliest first.
    return {
      columns: sql`case when t.overdue_from <= ${now} then 1 else 0 end as k1,
        coalesce(case when t.overdue_from <= ${now} then t.overdue_from end, t.at_risk_from) as k2`,
      order: sql`k1 desc, k2, t.id`,
      pageOrder: sql`page.k1 desc, page.k2, page.id`,
      after: (c: DelayedCursor) => sql`(case when t.overdue_from <= ${now} then 1 else 0 end < ${Number(c.k1)}
        or (case when t.overdue_from <= ${now} then 1 else 0 end = ${Number(c.k1)}
          and (coalesce(case when t.overdue_from <= ${now} then t.overdue_from end, t.at_risk_from), t.id) > (${c.k2}::timestamptz, ${c.id})))`,
    };
  }
  const due = sort === 'stage_overdue_by' ? sql`t.stage_due_at` : sql`t.sla_due_at`;
  const far = sql`'infinity'::timestamptz`;
  return {
    columns: sql`${due} as k1, null::timestamptz as k2`,
    order: sql`coalesce(${due}, ${far}), t.id`,
    pageOrder: sql`coalesce(page.k1, ${far}), page.id`,
    after: (c: DelayedCursor) => sql`(coalesce(${due}, ${far}), t.id) > (coalesce(${c.k1}::timestamptz, ${far}), ${c.id})`,
  };
}
