import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { ModelInput, ModelStage } from './model.js';

export type ModelRow = {
  project_id: string;
  calendar: Record<string, unknown> | null;
  ticket_target_minutes: number | null;
  breach_likely_threshold: number;
  input: ModelInput | null;
  stages: ModelStage[] | null;
  refreshed_at: Date | null;
};

export type ModelCheck = {
  project_id: string;
  calendar_set: boolean;
  refreshed_at: Date | null;
  checked_at: Date | null;
  checked_xmin: string | null;
  business_time: boolean | null;
  stages: ModelStage[] | null;
};

export type CurrentVisit = { id: string; ticket_id: string; definition_id: string; stage_start_time: Date; due_at: Date | null };

/** How far back a model looks: long enough for rare stages, short enough to follow how the team works now. */
export const HISTORY_DAYS = 180;

export class ForecastRepository {
  /** Projects with a workflow, for the refresh. */
  async projectIds(db: Executor): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`
      select p.id from projects p where exists (select 1 from stage_definitions d where d.project_id = p.id) order by p.id`.execute(db);
    return rows.map((row) => row.id);
  }

  /**
   * The projects' history since `since` as their models' input: ended visits per definition, ticket priority and
   * duration bucket (business time where the project has a calendar), and the moves between consecutive visits of
   * each ticket — innermost stages only (a major whose minors carry the ticket is no step of its own).
   * One statement each for all the projects, so a refresh reads the stages once rather than once per project; a
   * project's rows are the same as if it were read alone (moves are paired within one project's visits).
   */
  async modelInputs(
    db: Executor,
    projectIds: readonly string[],
    since: Date,
  ): Promise<Map<string, { input: ModelInput; stages: ModelStage[] }>> {
    const out = new Map<string, { input: ModelInput; stages: ModelStage[] }>();
    if (projectIds.length === 0) return out;
    const ids = sql`${projectIds as string[]}::text[]`;
    const durations = await sql<ModelInput['durations'][number] & { project_id: string }>`
      select d.project_id, s.definition_id, t.priority, duration_bucket(case when p.calendar is null
          then extract(epoch from (s.stage_end_time - s.stage_start_time)) * 1000
          else coalesce(s.business_ms, extract(epoch from (s.stage_end_time - s.stage_start_time)) * 1000) end)::int as bucket,
        count(*)::int as n
      from stage_definitions d join projects p on p.id = d.project_id
      join stages s on s.definition_id = d.id and s.stage_end_time is not null and s.stage_end_time >= ${since}
      join tickets t on t.id = s.ticket_id
      where d.project_id = any(${ids}) and not d.final and s.stage_start_time is not null
      group by 1, 2, 3, 4`.execute(db);
    // The stages that carry minors, as a set joined once (a probe per visit read ~2 buffers each).
    const moves = await sql<ModelInput['transitions'][number] & { project_id: string; tickets: number }>`
      with steps as (
        select d.project_id, s.ticket_id, s.definition_id,
          lag(s.definition_id) over (partition by d.project_id, s.ticket_id order by s.stage_start_time, s.stage_type, s.id) as from_id
        from stages s join stage_definitions d on d.id = s.definition_id
        where d.project_id = any(${ids}) and s.stage_start_time >= ${since}
          and not exists (
            select 1 from (select distinct major_stage_id from stages where major_stage_id is not null) m
            where m.major_stage_id = s.id)
      )
      select project_id, from_id, definition_id as to_id, count(*)::int as n, count(distinct ticket_id)::int as tickets
      from steps where from_id is not null group by grouping sets ((project_id, from_id, definition_id), (project_id))`.execute(db);
    const stages = await this.stageLists(db, projectIds);
    for (const projectId of projectIds) {
      const overall = moves.rows.find((row) => row.project_id === projectId && row.from_id === null);
      out.set(projectId, {
        input: {
          durations: durations.rows
            .filter((row) => row.project_id === projectId)
            .map(({ definition_id, priority, bucket, n }) => ({ definition_id, priority, bucket, n })),
          transitions: moves.rows
            .filter((row) => row.project_id === projectId && row.from_id !== null)
            .map(({ from_id, to_id, n }) => ({ from_id, to_id, n })),
          tickets: overall?.tickets ?? 0,
        },
        stages: stages.get(projectId) ?? [],
      });
    }
    return out;
  }

  /** The projects' workflow stages as a model stores them, in a stable order (a stored model's are compared to them). */
  async stageLists(db: Executor, projectIds: readonly string[]): Promise<Map<string, ModelStage[]>> {
    const { rows } = await sql<ModelStage & { project_id: string }>`
      select d.project_id, d.id, d.final, d.pauses or coalesce(parent.pauses, false) as pauses
      from stage_definitions d left join stage_definitions parent on parent.id = d.parent_id
      where d.project_id = any(${projectIds as string[]}::text[]) order by d.project_id, d.id`.execute(db);
    const out = new Map<string, ModelStage[]>();
    for (const { project_id, id, final, pauses } of rows) {
      const list = out.get(project_id);
      if (list) list.push({ id, final, pauses });
      else out.set(project_id, [{ id, final, pauses }]);
    }
    return out;
  }

  /**
   * Where the change log stands: every transaction before this one has ended, so a row of the change log it does not
   * hold yet has a `txid` at or past it (the dispatcher's rule, src/modules/events). Read before the history is.
   */
  async logPosition(db: Executor): Promise<string> {
    const { rows } = await sql<{ xmin: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`.execute(db);
    return rows[0]!.xmin;
  }

  /** What the refresh checks a stored model against: when it was computed and last known current, and on what. */
  async modelChecks(db: Executor, projectIds: readonly string[]): Promise<ModelCheck[]> {
    if (projectIds.length === 0) return [];
    const { rows } = await sql<ModelCheck>`
      select p.id as project_id, p.calendar is not null as calendar_set, m.refreshed_at, m.checked_at, m.checked_xmin, m.business_time, m.stages
      from projects p left join forecast_models m on m.project_id = p.id
      where p.id = any(${projectIds as string[]}::text[])`.execute(db);
    return rows;
  }

  /**
   * The projects whose history may have changed since their models were last known current: visits that started or
   * ended since `recent` (live moves stamp them with the clock), and rows inserted or deleted since `logged` by
   * the change log (an import brings visits stamped with their own past times). Index ranges only: an idle database
   * reads empty ones. Not seen: a ticket's priority changed on a ticket with ended visits (it regroups them), visits
   * leaving the 180-day window; the next recompute takes them.
   */
  async changedProjects(db: Executor, projectIds: readonly string[], since: { recent: Date; logged: string }): Promise<Set<string>> {
    if (projectIds.length === 0) return new Set();
    const ids = sql`${projectIds as string[]}::text[]`;
    const { rows } = await sql<{ project_id: string }>`
      select d.project_id from stage_definitions d
      where d.project_id = any(${ids}) and (
        exists (select 1 from stages s where s.definition_id = d.id and s.stage_end_time >= ${since.recent})
        or exists (select 1 from stages s where s.stage_start_time >= ${since.recent} and s.definition_id = d.id))
      union
      select distinct c.project_id from change_log c
      where c.txid >= ${since.logged}::xid8 and c.op <> 'update' and c.entity in ('ticket', 'stage') and c.project_id = any(${ids})`.execute(
      db,
    );
    return new Set(rows.map((row) => row.project_id));
  }

  /** The stored models of `projectIds` are still what their history gives at `at`. */
  async markChecked(db: Executor, projectIds: readonly string[], at: Date, logged: string): Promise<void> {
    if (projectIds.length === 0) return;
    await sql`update forecast_models set checked_at = ${at}, checked_xmin = ${logged}
      where project_id = any(${projectIds as string[]}::text[])`.execute(db);
  }

  /** `logged`: where the change log stood when the history was read (`logPosition`); `businessTime`: whether the project had a calendar. */
  async saveModel(
    db: Executor,
    projectId: string,
    model: { input: ModelInput; stages: ModelStage[] },
    at: Date,
    check: { logged: string; businessTime: boolean },
  ): Promise<void> {
    await sql`
      insert into forecast_models (project_id, input, stages, refreshed_at, checked_at, checked_xmin, business_time)
      values (${projectId}, ${JSON.stringify(model.input)}::jsonb, ${JSON.stringify(model.stages)}::jsonb, ${at}, ${at},
        ${check.logged}, ${check.businessTime})
      on conflict (project_id) do update set input = excluded.input, stages = excluded.stages, refreshed_at = excluded.refreshed_at,
        checked_at = excluded.checked_at, checked_xmin = excluded.checked_xmin, business_time = excluded.business_time`.execute(db);
  }

  /** The projects' settings and models; `withInput` false reads only when each model was refreshed. */
  async models(db: Executor, projectIds: readonly string[], withInput: boolean): Promise<ModelRow[]> {
    if (projectIds.length === 0) return [];
    const { rows } = await sql<ModelRow>`
      select p.id as project_id, p.calendar, p.ticket_target_minutes, p.breach_likely_threshold, m.refreshed_at,
        ${withInput ? sql`m.input, m.stages` : sql`null::jsonb as input, null::jsonb as stages`}
      from projects p left join forecast_models m on m.project_id = p.id
      where p.id = any(${projectIds as string[]}::text[])`.execute(db);
    return rows;
  }

  /** The tickets' current visits that belong to a workflow. */
  async currentVisits(db: Executor, stageIds: readonly string[]): Promise<CurrentVisit[]> {
    if (stageIds.length === 0) return [];
    const { rows } = await sql<CurrentVisit>`
      select id, ticket_id, definition_id, stage_start_time, due_at from stages
      where id = any(${stageIds as string[]}::text[]) and definition_id is not null and stage_end_time is null and stage_start_time is not null`.execute(
      db,
    );
    return rows;
  }
}

/**
 * What `ForecastService.forTickets` reads for one open ticket (its project's settings, when its model was refreshed,
 * its current workflow visit), as JSON with dates as text and `refreshed_ms` in whole milliseconds (as the driver
 * reads a timestamp); null for a closed ticket or one in no project.
 */
export type ForecastInput = {
  project_id: string;
  calendar: Record<string, unknown> | null;
  ticket_target_minutes: number | null;
  breach_likely_threshold: number;
  refreshed_ms: number | null;
  visit: { id: string; definition_id: string; stage_start_time: string; due_at: string | null } | null;
};

/**
 * `ForecastInput` as a column of a `tickets` row, so a single read needs no statement of its own for its forecast:
 * the same rows `models` (without the model) and `currentVisits` read, by key.
 */
export const forecastInputColumn = sql<ForecastInput | null>`(select json_build_object('project_id', p.id,
    'calendar', p.calendar, 'ticket_target_minutes', p.ticket_target_minutes, 'breach_likely_threshold', p.breach_likely_threshold,
    'refreshed_ms', floor(extract(epoch from m.refreshed_at) * 1000)::bigint,
    'visit', (select json_build_object('id', s.id, 'definition_id', s.definition_id, 'stage_start_time', s.stage_start_time, 'due_at', s.due_at)
      from stages s where s.id = tickets.current_stage_id and s.definition_id is not null and s.stage_end_time is null
        and s.stage_start_time is not null))
  from projects p left join forecast_models m on m.project_id = p.id
  where p.id = tickets.project_id and tickets.status <> 'closed')`.as('forecast_input');

/** What a forecast reads of a ticket row. */
export type ForecastTicket = {
  id: string;
  status: string;
  priority: string;
  project_id: string | null;
  current_stage_id: string | null;
  sla_used_ms: number | string;
  sla_segment_start: Date | null;
  sla_due_at: Date | null;
};

export type StoredForecast = {
  ticket_id: string;
  project_id: string;
  stage_id: string;
  probability: number;
  stage_probability: number | null;
  ticket_probability: number | null;
  expected_finish_at: string | null;
};

export type BreachLikely = { ticket_id: string; type: string; event_id: number };

/** What the scan keeps of a ticket it has seen: see `ticket_forecast_checks` (migration 0026). */
export type ForecastCheck = { ticket_id: string; project_id: string | null; settings: string | null; recheck_at: Date };

export class ForecastScanRepository {
  /**
   * The tickets whose forecast the scan must make again: those the change log says changed since `logged` (the
   * ticket or any of its visits: created, imported, moved, updated, closed), those of a project whose settings digest
   * is not the one they were forecast on (`settings`: project id → digest), and those whose recheck moment has come by
   * `now`; every open ticket without `logged` (no scan yet). Only these rows are read, closed ones included.
   */
  async dueTickets(db: Executor, settings: ReadonlyMap<string, string>, logged: string | null, now: Date): Promise<ForecastTicket[]> {
    const projects = JSON.stringify([...settings].map(([project_id, digest]) => ({ project_id, digest })));
    const { rows } = await sql<ForecastTicket>`
      with p as (select * from jsonb_to_recordset(${projects}::jsonb) as p(project_id text, digest text)),
      due as (
        select c.ticket_id as id from ticket_forecast_checks c left join p on p.project_id = c.project_id
        where c.recheck_at <= ${now} or p.digest is distinct from c.settings
        union
        ${
          logged
            ? sql`select ticket_id from change_log where txid >= ${logged}::xid8 and entity in ('ticket', 'stage') and ticket_id is not null`
            : sql`select id from tickets where status <> 'closed'`
        }
      )
      select t.id, t.status, t.priority, t.project_id, t.current_stage_id, t.sla_used_ms, t.sla_segment_start, t.sla_due_at
      from due join tickets t on t.id = due.id`.execute(db);
    return rows;
  }

  /** Keeps what the scan forecast each ticket on and when it next looks at it. */
  async storeChecks(db: Executor, checks: readonly ForecastCheck[]): Promise<void> {
    if (checks.length === 0) return;
    await sql`
      insert into ticket_forecast_checks as c (ticket_id, project_id, settings, recheck_at)
      select ticket_id, project_id, settings, recheck_at
      from jsonb_to_recordset(${JSON.stringify(checks)}::jsonb) as r(ticket_id text, project_id text, settings text, recheck_at timestamptz)
      on conflict (ticket_id) do update set project_id = excluded.project_id, settings = excluded.settings, recheck_at = excluded.recheck_at`.execute(
      db,
    );
  }

  /** Where the change log stood when the last scan (of any process) began (`logPosition`); null before any. */
  async lastScan(db: Executor): Promise<string | null> {
    const { rows } = await sql<{ xmin: string }>`
      select scanned_xmin as xmin from forecast_models where scanned_xmin is not null order by scanned_xmin::xid8 limit 1`.execute(db);
    return rows[0]?.xmin ?? null;
  }

  /** Marks a scan begun at change log position `logged`. */
  async scanned(db: Executor, logged: string): Promise<void> {
    await sql`update forecast_models set scanned_xmin = ${logged}`.execute(db);
  }

  /** Keeps the page's forecasts (and drops those of its tickets that now have none). */
  async store(db: Executor, ticketIds: readonly string[], forecasts: readonly StoredForecast[], at: Date): Promise<void> {
    await sql`delete from ticket_forecasts where ticket_id = any(${ticketIds as string[]}::text[])
      and ticket_id <> all(${forecasts.map((f) => f.ticket_id)}::text[])`.execute(db);
    if (forecasts.length === 0) return;
    await sql`
      insert into ticket_forecasts as f (ticket_id, project_id, stage_id, probability, stage_probability, ticket_probability, expected_finish_at, computed_at)
      select ticket_id, project_id, stage_id, probability, stage_probability, ticket_probability, expected_finish_at, ${at}
      from jsonb_to_recordset(${JSON.stringify(forecasts)}::jsonb) as r(ticket_id text, project_id text, stage_id text, probability real,
        stage_probability real, ticket_probability real, expected_finish_at timestamptz)
      on conflict (ticket_id) do update set project_id = excluded.project_id, stage_id = excluded.stage_id, probability = excluded.probability,
        stage_probability = excluded.stage_probability, ticket_probability = excluded.ticket_probability,
        expected_finish_at = excluded.expected_finish_at, computed_at = excluded.computed_at`.execute(db);
  }

  /** Every closed ticket's forecast and check, gone (before the first scan; later ones drop those closed since). */
  async dropClosed(db: Executor): Promise<void> {
    await sql`delete from ticket_forecasts f using tickets t where t.id = f.ticket_id and t.status = 'closed'`.execute(db);
    await sql`delete from ticket_forecast_checks c using tickets t where t.id = c.ticket_id and t.status = 'closed'`.execute(db);
  }

  /** These (closed) tickets' forecasts and checks, gone. */
  async drop(db: Executor, ticketIds: readonly string[]): Promise<void> {
    if (ticketIds.length === 0) return;
    await sql`
      with forecasts as (delete from ticket_forecasts where ticket_id = any(${ticketIds as string[]}::text[]))
      delete from ticket_forecast_checks where ticket_id = any(${ticketIds as string[]}::text[])`.execute(db);
  }

  /**
   * Marks each still-open visit whose forecast reached the threshold and records `breach_likely` in its ticket's history —
   * once per visit: the UPDATE claims the unmarked rows, so another process scanning at the same time records none twice.
   */
  async recordLikely(db: Executor, likely: readonly StoredForecast[], threshold: number, at: Date): Promise<BreachLikely[]> {
    if (likely.length === 0) return [];
    const { rows } = await sql<BreachLikely>`
      with r as (
        select * from jsonb_to_recordset(${JSON.stringify(likely)}::jsonb) as r(ticket_id text, stage_id text, probability real,
          stage_probability real, ticket_probability real, expected_finish_at timestamptz)
      ), claimed as (
        update stages s set breach_likely_at = ${at} from r
        where s.id = r.stage_id and s.ticket_id = r.ticket_id and s.breach_likely_at is null and s.stage_end_time is null
        returning s.id, s.ticket_id, s.definition_id, s.visit
      )
      insert into ticket_events (ticket_id, type, actor_name, visibility, data, created_at)
      select c.ticket_id, 'breach_likely', 'system', 'public',
        jsonb_build_object('scope', 'ticket', 'stage_id', c.id, 'key', d.key, 'name', d.name, 'visit', c.visit,
          'probability', r.probability, 'stage_probability', r.stage_probability, 'ticket_probability', r.ticket_probability,
          'expected_finish_at', r.expected_finish_at, 'threshold', ${threshold}::real), ${at}
      from claimed c join r on r.stage_id = c.id join stage_definitions d on d.id = c.definition_id
      returning ticket_id, type, id as event_id`.execute(db);
    return rows;
  }
}

export type LikelyRow = {
  id: string;
  number: number;
  subject: string | null;
  project: string | null;
  priority: string;
  status: string;
  assigned_to: string | null;
  at_risk_from: Date | null;
  overdue_from: Date | null;
  probability: number;
  stage_probability: number | null;
  ticket_probability: number | null;
  expected_finish_at: Date | null;
  computed_at: Date;
  stage_key: string | null;
  stage_name: string | null;
  /** The due moment of the stage the forecast was made in. */
  visit_due_at: Date | null;
  stage_at_risk_at: Date | null;
  stage_due_at: Date | null;
  sla_at_risk_at: Date | null;
  sla_due_at: Date | null;
};

/**
 * Open tickets whose last stored forecast reaches their project's threshold, most likely first. Each project's
 * candidates are read in the `ticket_forecasts_project` index's order and cut at `limit` before anything else is
 * joined, so a request reads about `limit` forecasts per project however many reach the threshold (at a million
 * tickets: ~11,000 for the biggest project, each joined to its ticket and stage before the sort did).
 */
export async function likelyToBreach(db: Executor, projectKey: string | undefined, limit: number): Promise<LikelyRow[]> {
  const { rows } = await sql<LikelyRow>`
    select t.id, t.number, t.subject, t.project, t.priority, t.status, t.assigned_to, t.at_risk_from, t.overdue_from,
      t.stage_at_risk_at, t.stage_due_at, t.sla_at_risk_at, t.sla_due_at,
      f.probability, f.stage_probability, f.ticket_probability, f.expected_finish_at, f.computed_at,
      d.key as stage_key, d.name as stage_name, s.due_at as visit_due_at
    from projects p
    cross join lateral (
      select f.ticket_id
      from ticket_forecasts f
      join tickets t on t.id = f.ticket_id and t.status <> 'closed' and t.project_id = f.project_id
      where f.project_id = p.id and f.probability >= p.breach_likely_threshold
      order by f.probability desc, f.ticket_id
      limit ${limit}
    ) top
    join ticket_forecasts f on f.ticket_id = top.ticket_id
    join tickets t on t.id = f.ticket_id
    left join stages s on s.id = f.stage_id
    left join stage_definitions d on d.id = s.definition_id
    ${projectKey === undefined ? sql`` : sql`where p.key = ${projectKey}`}
    order by f.probability desc, f.ticket_id
    limit ${limit}`.execute(db);
  return rows;
}
