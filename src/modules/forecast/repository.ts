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
   * One project's history since `since` as a model's input: ended visits per definition, ticket priority and
   * duration bucket (business time where the project has a calendar), and the moves between consecutive visits of
   * each ticket — innermost stages only (a major whose minors carry the ticket is no step of its own).
   */
  async modelInput(db: Executor, projectId: string, since: Date): Promise<{ input: ModelInput; stages: ModelStage[] }> {
    const durations = await sql<ModelInput['durations'][number]>`
      select s.definition_id, t.priority, duration_bucket(case when p.calendar is null
          then extract(epoch from (s.stage_end_time - s.stage_start_time)) * 1000
          else coalesce(s.business_ms, extract(epoch from (s.stage_end_time - s.stage_start_time)) * 1000) end)::int as bucket,
        count(*)::int as n
      from stage_definitions d join projects p on p.id = d.project_id
      join stages s on s.definition_id = d.id and s.stage_end_time is not null and s.stage_end_time >= ${since}
      join tickets t on t.id = s.ticket_id
      where d.project_id = ${projectId} and not d.final and s.stage_start_time is not null
      group by 1, 2, 3`.execute(db);
    const moves = await sql<ModelInput['transitions'][number] & { tickets: number }>`
      with steps as (
        select s.ticket_id, s.definition_id,
          lag(s.definition_id) over (partition by s.ticket_id order by s.stage_start_time, s.stage_type, s.id) as from_id
        from stages s join stage_definitions d on d.id = s.definition_id
        where d.project_id = ${projectId} and s.stage_start_time >= ${since}
          and not exists (select 1 from stages m where m.major_stage_id = s.id)
      )
      select from_id, definition_id as to_id, count(*)::int as n, count(distinct ticket_id)::int as tickets
      from steps where from_id is not null group by grouping sets ((from_id, definition_id), ())`.execute(db);
    const stages = await sql<ModelStage>`
      select d.id, d.final, d.pauses or coalesce(parent.pauses, false) as pauses
      from stage_definitions d left join stage_definitions parent on parent.id = d.parent_id
      where d.project_id = ${projectId}`.execute(db);
    const overall = moves.rows.find((row) => row.from_id === null);
    return {
      input: {
        durations: durations.rows,
        transitions: moves.rows.filter((row) => row.from_id !== null).map(({ from_id, to_id, n }) => ({ from_id, to_id, n })),
        tickets: overall?.tickets ?? 0,
      },
      stages: stages.rows,
    };
  }

  async saveModel(db: Executor, projectId: string, model: { input: ModelInput; stages: ModelStage[] }, at: Date): Promise<void> {
    await sql`
      insert into forecast_models (project_id, input, stages, refreshed_at)
      values (${projectId}, ${JSON.stringify(model.input)}::jsonb, ${JSON.stringify(model.stages)}::jsonb, ${at})
      on conflict (project_id) do update set input = excluded.input, stages = excluded.stages, refreshed_at = excluded.refreshed_at`.execute(
      db,
    );
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

export class ForecastScanRepository {
  /** A page of a project's open tickets after `afterId` (by id). */
  async openTickets(db: Executor, projectId: string, afterId: string, limit: number): Promise<ForecastTicket[]> {
    const { rows } = await sql<ForecastTicket>`
      select id, status, priority, project_id, current_stage_id, sla_used_ms, sla_segment_start, sla_due_at from tickets
      where project_id = ${projectId} and status <> 'closed' and id > ${afterId} order by id limit ${limit}`.execute(db);
    return rows;
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

  /** Forecasts of tickets closed since, gone. */
  async dropClosed(db: Executor): Promise<void> {
    await sql`delete from ticket_forecasts f using tickets t where t.id = f.ticket_id and t.status = 'closed'`.execute(db);
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
