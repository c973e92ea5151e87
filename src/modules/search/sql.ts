import { sql, type RawBuilder } from 'kysely';
import { containsPattern } from '../../db/sql-helpers.js';
import { fieldNumberSql, fieldTextSql } from '../fields/sql.js';
import type { FieldCondition, SearchFilter, TextQuery } from './parser.js';

/**
 * SQL for a parsed search over an unaliased `tickets` row. Each expression must equal an indexed one:
 * the document is the stored column of migration 0010 (index `tickets_search`), the trigram text is 0001's
 * (`tickets_text_trgm`, the one trigram index since migration 0019).
 */
export const ticketDocument = sql`search_document`;
const subjectText = sql<string>`lower(coalesce(subject, ''))`;
const customerText = sql<string>`lower(coalesce(customer_name, '') || ' ' || coalesce(customer_email, ''))`;
const searchText = sql`lower(coalesce(subject, '') || ' ' || coalesce(description, '') || ' ' || coalesce(customer_name, '') || ' ' || coalesce(customer_email, ''))`;

/**
 * `part` (the subject or the customer: a word-bounded part of the indexed text) matching `condition`, found along the
 * one trigram index: whatever matches a part of the text matches the whole text (for `like` a substring, for `<<%` the
 * same words), so the index's condition on the whole text loses nothing and the part's own condition rechecks it.
 */
function inPart(part: RawBuilder<string>, condition: (text: RawBuilder<unknown>) => RawBuilder<unknown>): RawBuilder<boolean> {
  return sql<boolean>`(${condition(searchText)} and ${condition(part)})`;
}

/** The `customer` filter: a case-insensitive "contains" on name and email. */
export function customerContains(value: string): RawBuilder<boolean> {
  return inPart(customerText, (text) => sql`${text} like ${containsPattern(value)}`);
}

const priorityRank = { low: 1, medium: 2, high: 3 } as const;

const tsquery = (text: string) => sql`to_tsquery('simple'::regconfig, ${text})`;

/**
 * A custom field term. Equality: containment in the GIN-indexed `fields` (migration 0015), for each form the value
 * may take (a string, an option in a multi-select, a number, a boolean), so no definition needs reading. Comparisons:
 * the field's expression index, as a number or as ISO text (dates and date-times are stored in UTC ISO form).
 */
function customSql(condition: Extract<FieldCondition, { field: 'custom' }>): RawBuilder<boolean> {
  if (condition.op !== '=') {
    const operand = condition.values[0];
    const numeric = !/^\d{4}-\d{2}-\d{2}/.test(operand);
    return numeric
      ? sql<boolean>`${fieldNumberSql(condition.key)} ${sql.raw(condition.op)} ${Number(operand)}`
      : sql<boolean>`${fieldTextSql(condition.key)} ${sql.raw(condition.op)} ${operand}`;
  }
  const forms = condition.values.flatMap((value) => {
    const number = Number(value);
    return [
      value,
      [value],
      ...(value.trim() !== '' && Number.isFinite(number) ? [number] : []),
      ...(value === 'true' || value === 'false' ? [value === 'true'] : []),
    ];
  });
  const contains = forms.map((form) => sql<boolean>`fields @> ${JSON.stringify({ [condition.key]: form })}::jsonb`);
  return sql<boolean>`(${sql.join(contains, sql` or `)})`;
}

function conditionSql(condition: FieldCondition, now: Date): RawBuilder<boolean> {
  switch (condition.field) {
    case 'status':
      return sql<boolean>`status in (${sql.join(condition.values)})`;
    case 'priority':
      // The indexed rank column (migration 0001's tickets_priority), not the text.
      return sql<boolean>`priority_rank in (${sql.join(condition.values.map((value) => priorityRank[value]))})`;
    case 'project':
    case 'category':
      return sql<boolean>`${sql.ref(condition.field)} in (${sql.join(condition.values)})`;
    case 'customer':
      return customerContains(condition.value);
    case 'stage':
      // The open visit of a workflow stage whose key or name is given: a few stage rows, then the tickets' index.
      return sql<boolean>`current_stage_id in (
        select s.id from stages s join stage_definitions d on d.id = s.definition_id
        where s.stage_end_time is null and s.definition_id is not null
          and (lower(d.key) in (${sql.join(condition.values)}) or lower(d.name) in (${sql.join(condition.values)})))`;
    case 'assignee': {
      const named = condition.values.length ? sql<boolean>`assigned_to in (${sql.join(condition.values)})` : sql<boolean>`false`;
      return condition.unassigned ? sql<boolean>`(${named} or assigned_to is null)` : named;
    }
    case 'overdue':
      return sql<boolean>`(status <> 'closed' and overdue_from is not null and overdue_from <= ${now})`;
    case 'at_risk':
      return sql<boolean>`(status <> 'closed' and at_risk_from is not null and at_risk_from <= ${now} and (overdue_from is null or overdue_from > ${now}))`;
    case 'time':
      return sql<boolean>`${sql.ref(condition.column)} ${sql.raw(condition.op)} ${condition.at}`;
    case 'custom':
      return customSql(condition);
  }
}

function textSql(text: TextQuery): RawBuilder<boolean> {
  if (text.tsquery === null) return sql<boolean>`${searchText} like ${containsPattern(text.contains ?? '')}`;
  if (text.words === null) return sql<boolean>`${ticketDocument} @@ ${tsquery(text.tsquery)}`;
  // Each word: a prefix in the document, or (typos) every letter run of it close to a whole word of the subject
  // or the customer (pg_trgm's strict word similarity, `<<%`). Each branch has its index; AND/OR become bitmaps.
  const wordMatches = text.words.map(({ tsquery: word, runs }) => {
    const prefix = sql<boolean>`${ticketDocument} @@ ${tsquery(word)}`;
    if (runs.length === 0) return prefix;
    const close = (part: RawBuilder<string>) =>
      inPart(part, (text) =>
        sql.join(
          runs.map((run) => sql`${run} <<% ${text}`),
          sql` and `,
        ),
      );
    return sql<boolean>`(${prefix} or ${close(subjectText)} or ${close(customerText)})`;
  });
  return sql<boolean>`(${sql.join(wordMatches, sql` and `)})`;
}

/** All of the search's terms (AND), for a `where`. */
export function searchCondition(search: SearchFilter, now: Date): RawBuilder<boolean> {
  const parts = search.conditions.map((condition) => conditionSql(condition, now));
  if (search.text) parts.push(textSql(search.text));
  return parts.length ? sql<boolean>`(${sql.join(parts, sql` and `)})` : sql<boolean>`true`;
}

/** The first search with free text; its words rank and highlight the results. */
export function rankingText(searches: readonly SearchFilter[]): TextQuery | undefined {
  return searches.find((search) => search.text?.tsquery)?.text ?? undefined;
}

/** Rank in millionths (an integer, so it pages by keyset exactly): full-text rank plus a typo-match bonus. */
export function rankSql(text: TextQuery): RawBuilder<number> {
  const fullText = text.tsquery === null ? sql`0` : sql`ts_rank(${ticketDocument}, ${tsquery(text.tsquery)})`;
  const fuzzy =
    text.fuzzy === null
      ? sql`0`
      : sql`0.1 * greatest(strict_word_similarity(${text.fuzzy}, ${subjectText}), strict_word_similarity(${text.fuzzy}, ${customerText}))`;
  return sql<number>`cast(round(cast((${fullText}) + (${fuzzy}) as numeric) * 1000000) as integer)`;
}

/** Subject and description with the matched words in `<mark>…</mark>` (the rest is plain text: escape it). */
export function snippetSql(text: TextQuery): RawBuilder<string | null> {
  if (text.tsquery === null) return sql<null>`null`;
  return sql<string>`ts_headline('simple'::regconfig, concat_ws(' — ', subject, description), ${tsquery(text.tsquery)},
    'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "')`;
}
