import type { StageSortKey, StageState } from './repository.js';
import type { StageListOptions } from './service.js';

type StageListQuery = {
  stage_type?: 'major' | 'minor';
  major_stage_id?: string;
  ticket_id?: string;
  state?: StageState;
  overdue?: boolean;
  started_from?: string;
  started_to?: string;
  sort?: string;
  cursor?: string;
  count?: boolean;
};

/** The list query of either face → the service's list options. */
export function stageListOptions(query: StageListQuery, limit: number): StageListOptions {
  const sort = query.sort ?? '-created_at';
  return {
    filters: {
      stageType: query.stage_type,
      majorStageId: query.major_stage_id,
      ticketId: query.ticket_id,
      state: query.state,
      overdue: query.overdue,
      startedFrom: query.started_from ? new Date(query.started_from) : undefined,
      startedTo: query.started_to ? new Date(query.started_to) : undefined,
    },
    sort: { key: sort.replace(/^-/, '') as StageSortKey, descending: sort.startsWith('-') },
    limit,
    cursor: query.cursor || undefined,
    count: query.count ?? false,
  };
}
