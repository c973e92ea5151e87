import type { Executor } from '../../db/database.js';
import type { SavedViewRow } from '../../db/types.js';
import type { Actor } from '../access/policy.js';
import { customFieldCondition, parseSearch, type SearchFilter, type TextQuery } from './parser.js';
import { rankingText } from './sql.js';

/** What a list, count or export applies: the parsed `q` and saved view, the view's sort, the ranking words. */
export type ResolvedSearch = {
  filters: SearchFilter[];
  now: Date;
  /** The first free text; lists order by its rank unless told otherwise, and carry `rank` and `snippet`. */
  ranking?: TextQuery;
  /** The saved view's sort as written (`-updated_at`), when it has one; the tickets module reads it. */
  viewSort?: string;
};

/**
 * The saved views a list may name: the views module's service, which checks that the actor may read views and this
 * one (404 otherwise). Its service needs the tickets service, so this shape is handed in, not imported (no cycle).
 */
export type SavedViews = { get(actor: Actor, id: string, db: Executor): Promise<Pick<SavedViewRow, 'query' | 'sort'>> };

/** `q` and `view` of a ticket list → the filters they add, for this actor at this moment. */
export async function resolveSearch(
  db: Executor,
  actor: Actor,
  now: Date,
  input: { q?: string; view?: string; fields?: [string, string][] },
  views: SavedViews,
): Promise<ResolvedSearch> {
  const context = { now, me: actor.id === null ? [] : [actor.id, actor.name] };
  const filters: SearchFilter[] = [];
  let viewSort: string | undefined;
  if (input.view !== undefined) {
    const view = await views.get(actor, input.view, db);
    filters.push(parseSearch(view.query, context));
    if (view.sort) viewSort = view.sort;
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
