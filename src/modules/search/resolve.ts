import type { Executor } from '../../db/database.js';
import { notFound } from '../../errors.js';
import { assertCan, canSeeView, type Actor } from '../access/policy.js';
import type { TicketSort, TicketSortKey } from '../tickets/repository.js';
import { ViewsRepository } from '../views/repository.js';
import { customFieldCondition, parseSearch, type SearchFilter, type TextQuery } from './parser.js';
import { rankingText } from './sql.js';

/** What a list, count or export applies: the parsed `q` and saved view, the view's sort, the ranking words. */
export type ResolvedSearch = {
  filters: SearchFilter[];
  now: Date;
  /** The first free text; lists order by its rank unless told otherwise, and carry `rank` and `snippet`. */
  ranking?: TextQuery;
  /** The saved view's sort, when it has one. */
  viewSort?: TicketSort;
};

const views = new ViewsRepository();

export function sortFrom(value: string): TicketSort {
  const field = /^(-?)field\.(.+)$/.exec(value);
  if (field) return { key: 'field', field: field[2]!, descending: field[1] === '-' };
  return { key: value.replace(/^-/, '') as TicketSortKey, descending: value.startsWith('-') };
}

/** `q` and `view` of a ticket list → the filters they add, for this actor at this moment. */
export async function resolveSearch(
  db: Executor,
  actor: Actor,
  now: Date,
  input: { q?: string; view?: string; fields?: [string, string][] },
): Promise<ResolvedSearch> {
  const context = { now, me: actor.id === null ? [] : [actor.id, actor.name] };
  const filters: SearchFilter[] = [];
  let viewSort: TicketSort | undefined;
  if (input.view !== undefined) {
    assertCan(actor, 'view:read');
    const view = await views.findById(db, input.view);
    if (!view || !canSeeView(actor, view)) notFound('view', input.view);
    filters.push(parseSearch(view.query, context));
    if (view.sort) viewSort = sortFrom(view.sort);
  }
  if (input.q) filters.push(parseSearch(input.q, context));
  if (input.fields?.length) {
    const conditions = input.fields.map(([key, value]) => customFieldCondition(`field.${key}=${value}`, key, value));
    filters.push({ conditions, text: null });
  }
  const ranking = rankingText(filters);
  return { filters, now, ...(ranking ? { ranking } : {}), ...(viewSort ? { viewSort } : {}) };
}

const exactText = (text: TextQuery): TextQuery =>
  text.words === null ? text : { ...text, words: text.words.map((word) => ({ ...word, runs: [] })), fuzzy: null };

/**
 * The same search without its typo-tolerant branches (trigram closeness to subject and customer), or null when it
 * has none. Typo tolerance is for searches that find little; with enough exact matches its per-row cost buys nothing.
 */
export function withoutTypos(search: ResolvedSearch): ResolvedSearch | null {
  const typos = search.filters.some((filter) => filter.text?.words?.some((word) => word.runs.length > 0));
  if (!typos) return null;
  return {
    ...search,
    filters: search.filters.map((filter) => (filter.text ? { ...filter, text: exactText(filter.text) } : filter)),
    ...(search.ranking ? { ranking: exactText(search.ranking) } : {}),
  };
}
