import type { Priority, TicketStatus } from '../../db/types.js';
import { invalid } from '../../errors.js';
import { sortFrom } from './repository.js';
import type { TicketListOptions } from './service.js';
import { priorities, ticketStatuses } from './validation.js';

type ListQuery = {
  status?: string;
  priority?: string;
  project?: string;
  category?: string;
  customer?: string;
  assigned_to?: string;
  current_stage_id?: string;
  created_from?: string;
  created_to?: string;
  updated_since?: string;
  q?: string;
  view?: string;
  sort?: string;
  cursor?: string;
  count?: boolean;
  breach_probability_min?: number;
};

function commaList<T extends string>(raw: string | undefined, field: string, allowed: readonly T[]): T[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const values = raw.split(',').map((value) => value.trim());
  const unknown = values.filter((value) => !(allowed as readonly string[]).includes(value));
  if (unknown.length) invalid([{ field, problem: `${unknown.join(', ')} is not one of ${allowed.join(', ')}` }]);
  return values as T[];
}

function time(raw: string | undefined, field: string): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime())) invalid([{ field, problem: 'must be an ISO-8601 date-time' }]);
  return date;
}

/** `field.<key>=value` parameters (the `/api` list and export only): [key, value] pairs. */
function fieldFilters(query: ListQuery): [string, string][] | undefined {
  const pairs = Object.entries(query as Record<string, unknown>)
    .filter(([name, value]) => name.startsWith('field.') && typeof value === 'string')
    .map(([name, value]) => [name.slice('field.'.length), value as string] as [string, string]);
  return pairs.length ? pairs : undefined;
}

/** The list query of either face → the service's list options; only the `/api` face takes field filters. */
export function ticketListOptions(query: ListQuery, limit: number, withFieldFilters = false): TicketListOptions {
  return {
    filters: {
      ...(withFieldFilters ? { fields: fieldFilters(query) } : {}),
      statuses: commaList<TicketStatus>(query.status, 'status', ticketStatuses),
      priorities: commaList<Priority>(query.priority, 'priority', priorities),
      project: query.project,
      category: query.category,
      customer: query.customer || undefined,
      assignedTo: query.assigned_to,
      currentStageId: query.current_stage_id,
      createdFrom: time(query.created_from, 'created_from'),
      createdTo: time(query.created_to, 'created_to'),
      updatedSince: time(query.updated_since, 'updated_since'),
      q: query.q || undefined,
      view: query.view || undefined,
      ...(query.breach_probability_min !== undefined ? { breachProbabilityMin: query.breach_probability_min } : {}),
    },
    ...(query.sort ? { sort: sortFrom(query.sort) } : {}),
    limit,
    cursor: query.cursor || undefined,
    count: query.count ?? false,
  };
}
