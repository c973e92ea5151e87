import { DateTime } from 'luxon';
import type { Priority, TicketStatus } from '../../db/types.js';
import { invalid } from '../../errors.js';
import { priorities, ticketStatuses } from '../tickets/validation.js';

/**
 * The search box's language: field terms (`status:open,pending created:>2026-01-01`) narrow with the list's
 * indexed filters, everything else is web-search text (`"exact phrase"`, `or`, `-word`, prefixes while typing).
 * Terms combine with AND; commas inside one field term mean OR.
 */
export type TimeColumn = 'created_at' | 'updated_at';
export type Comparison = '>' | '>=' | '<' | '<=';

export type FieldCondition =
  | { field: 'status'; values: TicketStatus[] }
  | { field: 'priority'; values: Priority[] }
  | { field: 'customer'; value: string }
  | { field: 'project'; values: string[] }
  | { field: 'category'; values: string[] }
  | { field: 'stage'; values: string[] }
  | { field: 'assignee'; values: string[]; unassigned: boolean }
  | { field: 'overdue' }
  | { field: 'at_risk' }
  | { field: 'time'; column: TimeColumn; op: Comparison; at: Date }
  /** A custom field (issue 25): equal to one of the values (any type's form), or compared as a number or a date. */
  | { field: 'custom'; key: string; op: '=' | Comparison; values: string[] };

export type TextQuery = {
  /** `to_tsquery('simple', …)` input built from sanitized, quoted lexemes; null when the text has no words. */
  tsquery: string | null;
  /**
   * Without operators, each plain word on its own: it matches as a prefix in the document, or (typos) its
   * letter runs of 3+ are close to a word of the subject or the customer. Null when operators are used.
   */
  words: { tsquery: string; runs: string[] }[] | null;
  /** The plain words together, for the typo part of the rank; null when operators are used. */
  fuzzy: string | null;
  /** Text without any word (e.g. `100%` or `_`): matched as a plain case-insensitive "contains". */
  contains: string | null;
};

export type SearchFilter = { conditions: FieldCondition[]; text: TextQuery | null };

export type SearchContext = {
  now: Date;
  /** What `assignee:me` matches in `assigned_to`: the user's id and name. */
  me: string[];
};

type FieldHelp = { field: string; values: string; example: string; description: string };

const listHelp = (values: readonly string[]) => `one or more of ${values.join(', ')}, comma-separated`;
const timeHelp = '>, >=, <, <= followed by a date (2026-01-01), a date-time (2026-01-01T09:00:00Z) or an age (30m, 12h, 7d, 2w)';

/** Every field term, for `GET /api/search/help` and for the errors below. */
export const searchFields: readonly FieldHelp[] = [
  { field: 'status', values: listHelp(ticketStatuses), example: 'status:open,pending', description: 'Ticket status is one of these' },
  { field: 'priority', values: listHelp(priorities), example: 'priority:high', description: 'Priority is one of these' },
  { field: 'customer', values: 'text', example: 'customer:acme', description: 'Customer name or email contains this (case-insensitive)' },
  { field: 'project', values: 'project names, comma-separated', example: 'project:billing', description: 'Project is one of these' },
  { field: 'category', values: 'categories, comma-separated', example: 'category:hardware', description: 'Category is one of these' },
  {
    field: 'stage',
    values: 'stage keys or names, comma-separated',
    example: 'stage:triage',
    description: "The ticket's current stage (its workflow stage definition's key or name)",
  },
  {
    field: 'assignee',
    values: 'me, none, or names, comma-separated',
    example: 'assignee:me',
    description: 'Assigned to you, to nobody, or to one of these',
  },
  { field: 'overdue', values: 'true', example: 'overdue:true', description: 'Open and past a stage or ticket due time now' },
  { field: 'at_risk', values: 'true', example: 'at_risk:true', description: 'Open, at risk now and not yet overdue' },
  { field: 'created', values: timeHelp, example: 'created:>2026-01-01', description: 'Created before/after; an age counts back from now' },
  {
    field: 'updated',
    values: timeHelp,
    example: 'updated:<7d',
    description: 'Last changed before/after; `updated:<7d` is "changed in the last 7 days"',
  },
  {
    field: 'field.<key>',
    values: 'values, comma-separated; or >, >=, <, <= followed by a number or a date (field.impact>3, field.due:<2026-12-01)',
    example: 'field.severity:high',
    description: "A custom field of the ticket's project (GET /api/projects/{id}/fields lists them)",
  },
];

export const textSyntax = [
  {
    syntax: 'word',
    description:
      'Tickets containing a word starting with it (so results appear while typing); close misspellings of subject and customer match too',
  },
  { syntax: '"exact phrase"', description: 'These words in this order' },
  { syntax: 'a or b', description: 'Either' },
  { syntax: '-word, -"phrase"', description: 'Without it' },
  { syntax: 'field:value', description: 'A field term (see fields); quote values with spaces: customer:"acme corp"' },
];

const fieldNames = searchFields.map((f) => f.field);

function bad(term: string, problem: string): never {
  invalid([{ field: 'q', problem: `${term}: ${problem}` }]);
}

type Token =
  | { kind: 'field'; key: string; value: string; negated: boolean; raw: string }
  | { kind: 'word' | 'phrase'; text: string; negated: boolean }
  | { kind: 'or' };

/** Splits the box into field terms, quoted phrases, words and `or`; a missing closing quote ends at the end. */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  // A custom field term may compare without a colon: field.impact>3.
  const pattern = /(-?)(?:(field\.[A-Za-z0-9_]+(?=[:<>])|[A-Za-z_]+(?=:)):?(?:"([^"]*)"?|([^\s"]*))|"([^"]*)"?|([^\s"]+))/gy;
  let index = 0;
  while (index < input.length) {
    if (/\s/.test(input[index])) {
      index++;
      continue;
    }
    pattern.lastIndex = index;
    const match = pattern.exec(input);
    if (!match) {
      index++;
      continue;
    }
    index = pattern.lastIndex;
    const [raw, minus, key, quotedValue, plainValue, phrase, word] = match;
    const negated = minus === '-';
    if (key !== undefined) tokens.push({ kind: 'field', key: key.toLowerCase(), value: quotedValue ?? plainValue ?? '', negated, raw });
    else if (phrase !== undefined) tokens.push({ kind: 'phrase', text: phrase, negated });
    else if (!negated && word.toLowerCase() === 'or') tokens.push({ kind: 'or' });
    else tokens.push({ kind: 'word', text: word, negated });
  }
  return tokens;
}

function commaValues(term: string, value: string): string[] {
  const values = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (values.length === 0) bad(term, 'needs a value');
  return values;
}

function oneOf<T extends string>(term: string, value: string, allowed: readonly T[]): T[] {
  const values = commaValues(term, value).map((v) => v.toLowerCase());
  const unknown = values.filter((v) => !(allowed as readonly string[]).includes(v));
  if (unknown.length) bad(term, `${unknown.join(', ')} is not one of ${allowed.join(', ')}`);
  return values as T[];
}

const ageUnits = { m: 'minutes', h: 'hours', d: 'days', w: 'weeks' } as const;

/** `>2026-01-01`, `<=2026-01-01T09:00:00Z`, `<7d` (newer than 7 days), `2026-01-01` (that UTC day). */
function timeConditions(term: string, column: TimeColumn, value: string, now: Date): FieldCondition[] {
  const match = /^(>=|<=|>|<)?(.+)$/.exec(value);
  if (!match) bad(term, `expected ${timeHelp}`);
  const op = match[1] as Comparison | undefined;
  const rest = match[2];
  const age = /^(\d{1,6})([mhdw])$/.exec(rest);
  if (age) {
    const at = DateTime.fromJSDate(now)
      .minus({ [ageUnits[age[2] as keyof typeof ageUnits]]: Number(age[1]) })
      .toJSDate();
    // An age compares the other way round: younger than 7 days is after now − 7 days.
    const flipped: Record<Comparison, Comparison> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
    return [{ field: 'time', column, op: flipped[op ?? '<'], at }];
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(rest)) {
    const day = DateTime.fromISO(rest, { zone: 'utc' });
    if (!day.isValid) bad(term, `${rest} is not a date`);
    const start = day.toJSDate();
    const next = day.plus({ days: 1 }).toJSDate();
    // A whole day: after it means from the next midnight, up to it includes it.
    if (op === undefined) {
      return [
        { field: 'time', column, op: '>=', at: start },
        { field: 'time', column, op: '<', at: next },
      ];
    }
    if (op === '>') return [{ field: 'time', column, op: '>=', at: next }];
    if (op === '<=') return [{ field: 'time', column, op: '<', at: next }];
    return [{ field: 'time', column, op, at: start }];
  }
  const instant = DateTime.fromISO(rest, { setZone: true });
  if (!instant.isValid || !/^\d{4}-\d{2}-\d{2}T/.test(rest)) bad(term, `expected ${timeHelp}`);
  if (op === undefined) bad(term, 'a date-time needs one of >, >=, <, <= in front');
  return [{ field: 'time', column, op, at: instant.toJSDate() }];
}

const customKey = /^[a-z][a-z0-9_]{0,39}$/;

/** `field.<key>` with `value` (`high,low`, `>3`, `<=2026-12-01`): the search term and the list's `field.<key>=` filter. */
export function customFieldCondition(term: string, key: string, raw: string): FieldCondition {
  if (!customKey.test(key)) bad(term, `${key} is not a field key (lowercase a-z, digits and _)`);
  const value = raw.trim();
  const match = /^(>=|<=|>|<)(.*)$/.exec(value);
  if (!match) return { field: 'custom', key, op: '=', values: commaValues(term, value) };
  const operand = match[2].trim();
  const numeric = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(operand);
  if (!numeric && !/^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(operand)) {
    bad(term, `${match[1]} compares a number or a date (YYYY-MM-DD or an ISO date-time)`);
  }
  const normalised = !numeric && operand.includes('T') ? new Date(operand) : null;
  if (normalised && Number.isNaN(normalised.getTime())) bad(term, `${operand} is not a date-time`);
  return { field: 'custom', key, op: match[1] as Comparison, values: [normalised ? normalised.toISOString() : operand] };
}

function fieldCondition(token: Extract<Token, { kind: 'field' }>, context: SearchContext): FieldCondition[] {
  const term = token.raw;
  if (token.key.startsWith('field.')) {
    if (token.negated) bad(term, 'field terms cannot be negated');
    return [customFieldCondition(term, token.key.slice('field.'.length), token.value)];
  }
  if (!fieldNames.includes(token.key)) {
    bad(term, `unknown field ${token.key} (fields: ${fieldNames.join(', ')}; put text with a colon in quotes)`);
  }
  if (token.negated) bad(term, 'field terms cannot be negated');
  const value = token.value.trim();
  if (value === '') bad(term, `needs a value: ${searchFields.find((f) => f.field === token.key)?.values}`);
  switch (token.key) {
    case 'status':
      return [{ field: 'status', values: oneOf(term, value, ticketStatuses) }];
    case 'priority':
      return [{ field: 'priority', values: oneOf(term, value, priorities) }];
    case 'customer':
      return [{ field: 'customer', value }];
    case 'project':
      return [{ field: 'project', values: commaValues(term, value) }];
    case 'category':
      return [{ field: 'category', values: commaValues(term, value) }];
    case 'stage':
      return [{ field: 'stage', values: commaValues(term, value).map((v) => v.toLowerCase()) }];
    case 'assignee': {
      const values = commaValues(term, value);
      const named = values.filter((v) => !['me', 'none'].includes(v.toLowerCase()));
      const me = values.some((v) => v.toLowerCase() === 'me') ? context.me : [];
      return [{ field: 'assignee', values: [...named, ...me], unassigned: values.some((v) => v.toLowerCase() === 'none') }];
    }
    case 'overdue':
    case 'at_risk':
      if (value.toLowerCase() !== 'true') bad(term, 'the only value is true');
      return [{ field: token.key }];
    case 'created':
      return timeConditions(term, 'created_at', value, context.now);
    default:
      return timeConditions(term, 'updated_at', value, context.now);
  }
}

const hasWord = (text: string) => /[\p{L}\p{N}]/u.test(text);
const lexeme = (text: string) => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/** Words, phrases, `or` and exclusions → one tsquery text; `&` binds tighter than `|`, as in web search. */
function textQuery(tokens: Token[]): TextQuery | null {
  const parts: string[] = [];
  const plain: string[] = [];
  let operators = false;
  let pendingOr = false;
  for (const token of tokens) {
    if (token.kind === 'or') {
      pendingOr = parts.length > 0;
      operators = true;
      continue;
    }
    if (token.kind === 'field') continue;
    if (token.kind === 'phrase' || token.negated) operators = true;
    if (token.kind === 'word' && !token.negated) plain.push(token.text);
    if (!hasWord(token.text)) continue;
    const item = `${token.negated ? '!' : ''}${lexeme(token.text)}${token.kind === 'word' && !token.negated ? ':*' : ''}`;
    if (parts.length) parts.push(pendingOr ? '|' : '&');
    parts.push(item);
    pendingOr = false;
  }
  const words = plain.join(' ').trim();
  if (parts.length === 0) return words === '' ? null : { tsquery: null, words: null, fuzzy: null, contains: words };
  if (operators) return { tsquery: parts.join(' '), words: null, fuzzy: null, contains: null };
  const perWord = plain.filter(hasWord).map((word) => ({
    tsquery: `${lexeme(word)}:*`,
    runs: (word.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? []).filter((run) => /\p{L}/u.test(run)),
  }));
  return { tsquery: parts.join(' '), words: perWord, fuzzy: words.toLowerCase(), contains: null };
}

/** Parses the search box; a bad field term is a 400 naming it and what would be valid. */
export function parseSearch(input: string, context: SearchContext): SearchFilter {
  if (input.length > 1000) invalid([{ field: 'q', problem: 'is longer than 1000 characters' }]);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(input)) invalid([{ field: 'q', problem: 'contains control characters' }]);
  const tokens = tokenize(input);
  const conditions = tokens.flatMap((token) => (token.kind === 'field' ? fieldCondition(token, context) : []));
  return { conditions, text: textQuery(tokens) };
}
