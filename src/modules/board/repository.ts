import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { SearchFilter } from '../search/parser.js';
import { searchCondition } from '../search/sql.js';

/** A project by id or key. */
function findProject(db: Executor, ref: string) {
  return db
    .selectFrom('projects')
    .select(['id', 'key', 'name'])
    .where((eb) => eb.or([eb('id', '=', ref), eb('key', '=', ref)]))
    .orderBy(sql`id = ${ref}`, 'desc')
    .executeTakeFirst();
}

/**
 * The open tickets of one project with the workflow stage each is in: one query, for the board's columns. A search
 * (a view's query, `q`) narrows it through a subquery on `tickets`, where its conditions' columns are unambiguous.
 */
async function boardRows(db: Executor, projectId: string, now: Date, limit: number, search: SearchFilter[]) {
  let query = db
    .selectFrom('tickets as t')
    .leftJoin('stages as s', 's.id', 't.current_stage_id')
    .leftJoin('stage_definitions as d', 'd.id', 's.definition_id')
    .select([
      't.id',
      't.number',
      't.subject',
      't.customer_name',
      't.customer_email',
      't.assigned_to',
      't.priority',
      't.status',
      't.version',
      't.stage_at_risk_at',
      't.stage_due_at',
      't.sla_at_risk_at',
      't.sla_due_at',
      't.fields',
      'd.key as stage_key',
      'd.name as stage_name',
      's.stage_start_time',
      's.due_at',
    ])
    .where('t.project_id', '=', projectId)
    .where('t.status', '<>', 'closed');
  for (const filter of search) {
    query = query.where('t.id', 'in', db.selectFrom('tickets').select('id').where(searchCondition(filter, now)));
  }
  return query
    .orderBy('t.priority_rank', 'desc')
    .orderBy('t.number', 'asc')
    .limit(limit + 1)
    .execute();
}

export type StoredCardForecast = {
  ticket_id: string;
  stage_probability: number | null;
  ticket_probability: number | null;
  expected_finish_at: Date | null;
  computed_at: Date;
};

/** The cards' forecasts as the scan last stored them (a board of thousands is not simulated per request). */
async function storedForecasts(db: Executor, ticketIds: readonly string[]): Promise<StoredCardForecast[]> {
  if (ticketIds.length === 0) return [];
  const { rows } = await sql<StoredCardForecast>`
    select ticket_id, stage_probability, ticket_probability, expected_finish_at, computed_at from ticket_forecasts
    where ticket_id = any(${ticketIds as string[]}::text[])`.execute(db);
  return rows;
}

/** The board's queries, as the module's repository. */
export class BoardRepository {
  readonly findProject = findProject;
  readonly boardRows = boardRows;
  readonly storedForecasts = storedForecasts;
}
