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
