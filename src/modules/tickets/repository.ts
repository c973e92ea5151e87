import { sql, type AliasedRawBuilder, type CompiledQuery, type OperationNodeSource, type RawBuilder } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import { commonSorts, keysetPage, keysetRange, type SortKey } from '../../db/keyset.js';
import { customerEmailIn, withParts, withPartsIfWritten } from '../../db/sql-helpers.js';
import { ticketColumns } from '../../db/ticket-columns.js';
import type { NewTicketRow, Priority, TicketRow, TicketRowUpdate, TicketStatus } from '../../db/types.js';
import { withoutTypos, type ResolvedSearch } from '../search/resolve.js';
import { customerContains, rankSql, searchCondition, snippetSql } from '../search/sql.js';

export type TicketFilters = {
  statuses?: TicketStatus[];
  priorities?: Priority[];
  project?: string;
  category?: string;
  customer?: string;
  assignedTo?: string;
  currentStageId?: string;
  createdFrom?: Date;
  createdTo?: Date;
  updatedSince?: Date;
  /** The search box and saved view (issue 13): field terms, ranked full text. */
  search?: ResolvedSearch;
  /** Only tickets of these customer emails (a customer's own view); undefined: all tickets. */
  customerEmails?: string[];
  /** Only open tickets whose stored forecast (the larger of stage and ticket breach probability) is at least this. */
  breachProbabilityMin?: number;
};

export const ticketSorts = {
  ...commonSorts,
  priority: [
    { column: 'priority_rank', kind: 'integer' },
    { column: 'number', kind: 'integer' },
  ],
  /**
   * By lateness (issue 20): the due moment of the stage's target, the whole ticket's, or the earlier of them, with
   * "no target" (and closed) as a far-future moment; most late first is ascending, so `lateSorts` flips the direction.
   */
  stage_overdue_by: [
    { column: 'late_key', kind: 'timestamp' },
    { column: 'id', kind: 'text' },
  ],
  ticket_overdue_by: [
    { column: 'late_key', kind: 'timestamp' },
    { column: 'id', kind: 'text' },
  ],
  delay: [
    { column: 'late_key', kind: 'timestamp' },
    { column: 'id', kind: 'text' },
  ],
  /** Best match first (only with free text in `q`); the rank is an integer, so the keyset is exact. */
  rank: [
    { column: 'search_rank', kind: 'integer' },
    { column: 'id', kind: 'text' },
  ],
  /** By the stored forecast (issue 23), along the `ticket_forecasts_breach` index; see `forecastJoin`. */
  breach_probability: [
    { column: 'breach_permille', kind: 'integer' },
    { column: 'ticket_id', kind: 'text' },
  ],
} as const satisfies Record<string, readonly SortKey[]>;

/** A moment later than any target: "no target" sorts after every due moment, and survives a JSON cursor. */
const NO_TARGET = sql`'9999-12-31T00:00:00Z'::timestamptz`;
const lateKey = (due: ReturnType<typeof sql.ref>) => sql<Date>`coalesce(case when status <> 'closed' then ${due} end, ${NO_TARGET})`;
const lateSorts: Partial<Record<keyof typeof ticketSorts, ReturnType<typeof lateKey>>> = {
  stage_overdue_by: lateKey(sql.ref('stage_due_at')),
  ticket_overdue_by: lateKey(sql.ref('sla_due_at')),
  delay: lateKey(sql.ref('overdue_from')),
};

/**
 * Sort by a custom field (issue 25), nulls last both ways: the key is (has no value, value, id), the first flipped when descending
 * so one row comparison continues the keyset. Text is cut to 100 characters so the cursor stays small (longer values
 * sharing those 100 then go by id).
 */
function fieldSortKeys(sort: Extract<TicketSort, { key: 'field' }>) {
  if (!sort.by) throw new Error(`sort by field ${sort.field} was not resolved`);
  const numeric = sort.by.numeric;
  const value = numeric ? sort.by.value : sql`left(${sort.by.value}::text, 100)`;
  const missing = sort.descending
    ? sql<number>`(case when ${value} is null then 0 else 1 end)`
    : sql<number>`(case when ${value} is null then 1 else 0 end)`;
  const sortValue = numeric ? sql`coalesce(${value}, 0)` : sql`coalesce(${value}, '')`;
  const keys: SortKey[] = [
    { column: 'field_missing', kind: 'integer' },
    { column: 'field_value', kind: numeric ? 'numeric' : 'text' },
    { column: 'id', kind: 'text' },
  ];
  return { columns: [missing.as('field_missing'), sortValue.as('field_value')], keys };
}

export type SearchColumns = { search_rank?: number; search_snippet?: string | null };

/** Must match the generated column `priority_rank` in migration 0001. */
const priorityRank: Record<Priority, number> = { low: 1, medium: 2, high: 3 };

export type TicketSortKey = keyof typeof ticketSorts;
/**
 * A list order: one of `ticketSorts`, or a custom field (issue 25) — `numeric` when the key holds numbers (the service
 * decides from the definitions), else its stored text (dates and date-times are UTC ISO text, so they sort in time order).
 */
export type TicketSort =
  { key: TicketSortKey; descending: boolean } | { key: 'field'; field: string; descending: boolean; by?: FieldSortValue };

/** A custom field's sort value in SQL (from the fields module, which knows its types) and whether it is a number. */
export type FieldSortValue = { value: RawBuilder<unknown>; numeric: boolean };

/** `-updated_at` → updated_at, descending. */
export function sortFrom(value: string): TicketSort {
  const field = /^(-?)field\.(.+)$/.exec(value);
  if (field) return { key: 'field', field: field[2]!, descending: field[1] === '-' };
  return { key: value.replace(/^-/, '') as TicketSortKey, descending: value.startsWith('-') };
}

export type TicketEvent = {
  ticket_id: string;
  type: string;
  actor_id: string | null;
  actor_name: string;
  visibility?: 'public' | 'internal';
  data: Record<string, unknown>;
  created_at: Date;
};

/** Each ticket's stage ids in list order, as a column of the ticket's own row (no second query for a page). */
const stageIdsColumn = sql<
  string[]
>`array(select ts.stage_id from ticket_stages ts where ts.ticket_id = tickets.id order by ts.position)`.as('stage_ids');

/** The stage a ticket is in now, read with the row (`entered_at` as JSON text). */
export type CurrentStage = { id: string; key: string | null; name: string | null; entered_at: string | null };

/** The current stage with its definition, as a column of the ticket's own row (one index lookup, no query per row). */
export const currentStageColumn = sql<CurrentStage | null>`(select json_build_object('id', s.id, 'key', d.key,
    'name', coalesce(d.name, s.stage_description), 'entered_at', coalesce(s.stage_start_time, s.created_at))
  from stages s left join stage_definitions d on d.id = s.definition_id where s.id = tickets.current_stage_id)`.as('current_stage');

/**
 * The open tickets' stored forecasts (made every 2 minutes by the forecast scan), joined on when a list sorts or filters
 * by breach probability: only the columns no ticket column shares, so the list's unqualified names stay unambiguous;
 * PostgreSQL flattens the subquery, so a page walks the (breach_permille, ticket_id) index of migration 0018.
 */
const storedForecasts = sql<{
  ticket_id: string;
  breach_permille: number;
}>`(select ticket_id, breach_permille from ticket_forecasts)`.as('forecast');
const forecastColumns = [sql<number>`forecast.breach_permille`.as('breach_permille'), sql<string>`forecast.ticket_id`.as('ticket_id')];

export type TicketKey = { id: string } | { number: number };

/**
 * How many matches of a broad search are ranked (the newest ones); see `rankedPage`. A word in one ticket of twelve
 * reads ~12 × this many rows along the number index: 2,000 read ~24,000 rows (~12,000 buffers) per page, 500 read
 * ~6,000 (~3,100 buffers), and ten pages of 50 stay in rank order.
 */
export const RANK_WINDOW = 500;
/** The window holds at least a page and the row after it. */
const rankWindow = (limit: number) => Math.max(RANK_WINDOW, limit + 1);
export type TicketWithStages = TicketRow & { stage_ids: string[]; current_stage?: CurrentStage | null };

export class TicketsRepository {
  /**
   * `findWithStages`'s statement, compiled once per key kind and extra column (none of its columns takes a
   * parameter; the key is its one): building and compiling it through Kysely was ~15 µs of every single read.
   */
  private readonly findStatements = new Map<string, Map<AliasedRawBuilder<unknown, string> | null, CompiledQuery>>();

  /** `extra`: more columns of the row read with it (another module's, e.g. the forecast's inputs), as `sql`…`.as(name)`. */
  async findWithStages(
    db: Executor,
    key: TicketKey,
    extra: readonly AliasedRawBuilder<unknown, string>[] = [],
  ): Promise<TicketWithStages | undefined> {
    const build = () => {
      const query = db.selectFrom('tickets').select(ticketColumns).select(stageIdsColumn).select(currentStageColumn).select(extra);
      return 'id' in key ? query.where('id', '=', key.id) : query.where('number', '=', key.number);
    };
    if (extra.length > 1) return build().executeTakeFirst();
    const kind = 'id' in key ? 'id' : 'number';
    let statements = this.findStatements.get(kind);
    if (!statements) this.findStatements.set(kind, (statements = new Map()));
    let statement = statements.get(extra[0] ?? null);
    if (!statement) {
      statement = build().compile();
      if (statement.parameters.length !== 1) return build().executeTakeFirst();
      statements.set(extra[0] ?? null, statement);
    }
    const value = 'id' in key ? key.id : key.number;
    const { rows } = await db.executeQuery<TicketWithStages>({ ...statement, parameters: [value] } as CompiledQuery<TicketWithStages>);
    return rows[0];
  }

  findById(db: Executor, id: string): Promise<TicketRow | undefined> {
    return db.selectFrom('tickets').select(ticketColumns).where('id', '=', id).executeTakeFirst();
  }

  findByNumber(db: Executor, number: number): Promise<TicketRow | undefined> {
    return db.selectFrom('tickets').select(ticketColumns).where('number', '=', number).executeTakeFirst();
  }

  /**
   * Reads the row and locks it until the transaction ends, so concurrent updates queue up. NO KEY UPDATE: rows
   * elsewhere that reference the ticket (history, mail and webhook deliveries) may still be inserted meanwhile.
   */
  lock(tx: Tx, id: string): Promise<TicketRow | undefined> {
    return tx.selectFrom('tickets').select(ticketColumns).where('id', '=', id).forNoKeyUpdate().executeTakeFirst();
  }

  /**
   * Finds, locks (as `lock`) and reads the stage ids of a ticket by id or number: one round trip for a write. Without
   * `lock`, the same read for an optimistic write (`update` with the version read).
   */
  lockWithStages(db: Executor, key: TicketKey, lock = true): Promise<(TicketRow & { stage_ids: string[] }) | undefined> {
    const query = db.selectFrom('tickets').select(ticketColumns).select(stageIdsColumn);
    const found = 'id' in key ? query.where('id', '=', key.id) : query.where('number', '=', key.number);
    return (lock ? found.forNoKeyUpdate() : found).executeTakeFirst();
  }

  async idExists(db: Executor, id: string): Promise<boolean> {
    return (await db.selectFrom('tickets').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  /** `parts`: other writes of the change (its history, its audit entry) sent in the same statement (`withParts`). */
  async insert(tx: Tx, row: NewTicketRow, parts: readonly OperationNodeSource[] = []): Promise<TicketRow> {
    const query = tx.insertInto('tickets').values(row).returning(ticketColumns);
    if (parts.length === 0) return query.executeTakeFirstOrThrow();
    const [inserted] = (await withParts<TicketRow>(parts, query).execute(tx)).rows;
    if (!inserted) throw new Error(`ticket ${row.id} was not inserted`);
    return inserted;
  }

  /**
   * `parts`: other writes of the change (its history, its audit entry) sent in the same statement (`withParts`).
   * `version`: an optimistic write of the row as read at that version; when it has moved on, nothing is written and
   * the statement fails with SQLSTATE 40001 (`withPartsIfWritten`).
   */
  async update(
    tx: Executor,
    id: string,
    changes: TicketRowUpdate,
    parts: readonly OperationNodeSource[] = [],
    version?: number,
  ): Promise<TicketRow> {
    const update = tx.updateTable('tickets').set({ ...changes, version: sql`version + 1` });
    const query = (
      version === undefined ? update.where('id', '=', id) : update.where('id', '=', id).where('version', '=', version)
    ).returning(ticketColumns);
    if (version !== undefined) {
      const [row] = (await withPartsIfWritten<TicketRow>(parts, query).execute(tx)).rows;
      if (!row) throw new Error(`ticket ${id} was not updated`);
      return row;
    }
    if (parts.length === 0) return query.executeTakeFirstOrThrow();
    const [row] = (await withParts<TicketRow>(parts, query).execute(tx)).rows;
    if (!row) throw new Error(`ticket ${id} was not updated`);
    return row;
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.deleteFrom('tickets').where('id', '=', id).execute();
  }

  /** Each ticket's stage ids in list order, for a whole page at once. */
  async stageIdsOf(db: Executor, ticketIds: readonly string[]): Promise<Map<string, string[]>> {
    const byTicket = new Map<string, string[]>(ticketIds.map((id) => [id, []]));
    if (ticketIds.length === 0) return byTicket;
    const rows = await db
      .selectFrom('ticket_stages')
      .select(['ticket_id', 'stage_id'])
      .where('ticket_id', 'in', ticketIds)
      .orderBy('ticket_id')
      .orderBy('position')
      .execute();
    for (const row of rows) byTicket.get(row.ticket_id)?.push(row.stage_id);
    return byTicket;
  }

  async replaceStages(tx: Tx, ticketId: string, stageIds: readonly string[]): Promise<void> {
    await tx.deleteFrom('ticket_stages').where('ticket_id', '=', ticketId).execute();
    await this.addStages(tx, ticketId, stageIds);
  }

  /** Links a new ticket's stages (nothing to replace yet). */
  async addStages(tx: Tx, ticketId: string, stageIds: readonly string[]): Promise<void> {
    if (stageIds.length === 0) return;
    await tx
      .insertInto('ticket_stages')
      .values(stageIds.map((stageId, position) => ({ ticket_id: ticketId, stage_id: stageId, position })))
      .execute();
  }

  async appendEvents(tx: Tx, events: readonly TicketEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.appendEventsQuery(tx, events).execute();
  }

  /** The history insert, built but not run (a write sends it in its own statement). `events` must not be empty. */
  appendEventsQuery(tx: Executor, events: readonly TicketEvent[]) {
    return tx.insertInto('ticket_events').values(events.map((event) => ({ ...event, data: JSON.stringify(event.data) })));
  }

  private filtered(db: Executor, filters: TicketFilters, byForecast = false) {
    let query = db.selectFrom('tickets');
    if (byForecast || filters.breachProbabilityMin !== undefined) {
      // The join's columns are read by name only (`storedForecasts`); the builder's type stays that of the tickets.
      query = query.innerJoin(storedForecasts, (join) =>
        join.onRef('forecast.ticket_id', '=', 'tickets.id').on('tickets.status', '<>', 'closed'),
      ) as unknown as typeof query;
      if (filters.breachProbabilityMin !== undefined) {
        query = query.where(sql<boolean>`forecast.breach_permille >= ${Math.round(filters.breachProbabilityMin * 1000)}`);
      }
    }
    if (filters.statuses?.length) query = query.where('status', 'in', filters.statuses);
    // By rank, the generated column the (priority_rank, number) index is built on.
    if (filters.priorities?.length)
      query = query.where(
        'priority_rank',
        'in',
        filters.priorities.map((priority) => priorityRank[priority]),
      );
    if (filters.project !== undefined) query = query.where('project', '=', filters.project);
    if (filters.category !== undefined) query = query.where('category', '=', filters.category);
    if (filters.assignedTo !== undefined) query = query.where('assigned_to', '=', filters.assignedTo);
    if (filters.currentStageId !== undefined) query = query.where('current_stage_id', '=', filters.currentStageId);
    if (filters.createdFrom) query = query.where('created_at', '>=', filters.createdFrom);
    if (filters.createdTo) query = query.where('created_at', '<', filters.createdTo);
    if (filters.updatedSince) query = query.where('updated_at', '>=', filters.updatedSince);
    if (filters.customer) query = query.where(customerContains(filters.customer));
    for (const search of filters.search?.filters ?? []) query = query.where(searchCondition(search, filters.search!.now));
    if (filters.customerEmails) query = query.where(customerEmailIn('customer_email', filters.customerEmails));
    return query;
  }

  /** One page in the given order; `cursor` continues after the row it was made from. */
  async list(db: Executor, requested: TicketFilters, sort: TicketSort, limit: number, cursor: string | undefined) {
    // Typo tolerance is for searches that find little: with more exact matches than the page holds it is dropped
    // (each typo branch is a trigram check per candidate row).
    const exact = requested.search && withoutTypos(requested.search);
    const exactFilters = exact && { ...requested, search: exact };
    const byRank = requested.search?.ranking !== undefined && sort.key === 'rank';
    if (byRank && exactFilters && cursor === undefined) {
      // A first page shows whether there are more exact matches than it holds (it has a next page): one statement.
      const page = await this.rankedPage(db, exactFilters, sort.descending, limit, undefined);
      return page.nextCursor !== null ? page : this.rankedPage(db, requested, sort.descending, limit, undefined);
    }
    const filters = exactFilters && (await this.matchesUpTo(db, exactFilters, limit + 1)) > limit ? exactFilters : requested;
    if (byRank) return this.rankedPage(db, filters, sort.descending, limit, cursor);
    const ranking = filters.search?.ranking;
    const byForecast = sort.key === 'breach_probability';
    const rows = this.listRows(db, filters, byForecast);
    if (sort.key === 'field') {
      // The sort key is output columns: a subquery lets the keyset condition refer to them.
      const { columns, keys } = fieldSortKeys(sort);
      const keyed = db.selectFrom(rows.select(columns).as('keyed')).selectAll();
      return keysetPage<TicketWithStages & SearchColumns>(keyed, keys, sort.descending, limit, cursor);
    }
    const late = lateSorts[sort.key];
    if (late) {
      // The sort key is an output column: a subquery lets the keyset condition refer to it. Most late = earliest due.
      const keyed = db.selectFrom(rows.select(late.as('late_key')).as('keyed')).selectAll();
      return keysetPage<TicketWithStages & SearchColumns>(keyed, ticketSorts[sort.key], !sort.descending, limit, cursor);
    }
    const statuses = filters.statuses ?? [];
    const onlyStatuses = Object.entries(filters).every(
      ([name, value]) => name === 'statuses' || value === undefined || (name === 'search' && filters.search!.filters.length === 0),
    );
    if (!ranking && !byForecast && statuses.length > 1 && onlyStatuses && sort.key === 'created_at') {
      // Several statuses and no other filter, by creation: `status in (…)` read along one index in that order walks
      // past every row of the other statuses (after a burst of `new` tickets, a page of open ones read 32,000 buffers
      // at a million). Each status's range is read along `tickets_status (status, created_at, id)` instead, a page
      // and one row each, and the page is taken from their union. With other filters their own index serves better:
      // the parts would each walk it (the project-and-priority page read ~20 % slower split).
      const keys = ticketSorts[sort.key];
      const parts = statuses.map((status, index) =>
        db
          .selectFrom(
            keysetRange(this.listRows(db, { ...filters, statuses: [status] }, false), keys, sort.descending, limit, cursor).as(
              `part_${index}`,
            ),
          )
          .selectAll(),
      );
      const merged = parts.reduce((union, part) => union.unionAll(part));
      return keysetPage<TicketWithStages & SearchColumns>(
        db.selectFrom(merged.as('merged')).selectAll() as typeof rows,
        keys,
        sort.descending,
        limit,
        undefined,
      );
    }
    if (!ranking) return keysetPage<TicketWithStages & SearchColumns>(rows, ticketSorts[sort.key], sort.descending, limit, cursor);
    // Rank and snippet are output columns: a subquery lets the keyset condition refer to them.
    const ranked = db
      .selectFrom(rows.select([rankSql(ranking).as('search_rank'), snippetSql(ranking).as('search_snippet')]).as('ranked'))
      .selectAll();
    return keysetPage<TicketWithStages & SearchColumns>(ranked, ticketSorts[sort.key], sort.descending, limit, cursor);
  }

  /** A list's rows: the matching tickets with their stage ids and current stage (and forecast, sorted by it). */
  private listRows(db: Executor, filters: TicketFilters, byForecast: boolean) {
    let rows = this.filtered(db, filters, byForecast).select(ticketColumns).select(stageIdsColumn).select(currentStageColumn);
    if (byForecast) rows = rows.select(forecastColumns);
    return rows;
  }

  /**
   * A page in rank order. A broad search (one common word over a million tickets matches tens of thousands) would read
   * and rank every match for one page, so the order covers the newest `rankWindow` matches: all of them when there are
   * no more. One statement reads the window with its rows and search documents (ranked as they are, not looked up
   * again), ranks it, and adds stage ids, stage and snippet for the page only. The planner finds the window along the
   * number index (many matches) or the search indexes (few).
   */
  private rankedPage(db: Executor, filters: TicketFilters, descending: boolean, limit: number, cursor: string | undefined) {
    const ranking = filters.search!.ranking!;
    const window = this.filtered(db, filters)
      .select(ticketColumns)
      .select(sql`search_document`.as('search_document'))
      .orderBy('number', 'desc')
      .limit(rankWindow(limit))
      .as('tickets');
    const rows = (db.selectFrom(window) as unknown as ReturnType<TicketsRepository['filtered']>)
      .select(ticketColumns)
      .select(stageIdsColumn)
      .select(currentStageColumn)
      .select([rankSql(ranking).as('search_rank'), snippetSql(ranking).as('search_snippet')]);
    // Rank and snippet are output columns: a subquery lets the keyset condition refer to them.
    const ranked = db.selectFrom(rows.as('ranked')).selectAll();
    return keysetPage<TicketWithStages & SearchColumns>(ranked, ticketSorts.rank, descending, limit, cursor);
  }

  /** How many tickets match, counting no further than `bound` (so reading at most that many). */
  private async matchesUpTo(db: Executor, filters: TicketFilters, bound: number): Promise<number> {
    const first = this.filtered(db, filters)
      .select(sql<number>`1`.as('one'))
      .limit(bound);
    const row = await db
      .selectFrom(first.as('first'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async count(db: Executor, filters: TicketFilters, byForecast = false): Promise<number> {
    const row = await this.filtered(db, filters, byForecast)
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .executeTakeFirstOrThrow();
    return Number(row.total);
  }
}
