import type { FieldType } from '../../db/types.js';
import { isEmail, parseIsoTime } from '../tickets/validation.js';

/** The types a custom field may have (issue 25); the list lives with the other enumerations. */
export { fieldTypes } from '../../db/enums.js';

export const FIELD_KEY_PATTERN = '^[a-z][a-z0-9_]{0,39}$';
export const fieldKeyRegExp = new RegExp(FIELD_KEY_PATTERN);

/** A stored value: what `tickets.fields` holds under a key (a cleared field holds nothing). */
export type FieldValue = string | number | boolean | string[];

/** When a value must be there: always, to leave a stage (its key), or to enter a final stage. */
export type FieldRequirement = null | 'always' | 'final' | { leave_stage: string };

/** What validating one value needs to know of its definition. */
export type FieldShape = { key: string; type: FieldType; options: string[] | null };

export type Checked = { value: FieldValue | null; problem?: undefined } | { problem: string; value?: undefined };

const TEXT_MAX = 500;
const LONG_TEXT_MAX = 20_000;

function validDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

function httpUrl(text: string): boolean {
  if (text.length > 2000 || !/^https?:\/\//i.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * One value checked against its field's type: the value to store (dates normalised, datetimes in UTC so stored
 * text sorts in time order), or the problem. `null` clears, and so does an empty multi-select. A `user` value is
 * checked for form here; that the user exists is the service's (it needs the database).
 */
export function checkValue(field: FieldShape, value: unknown): Checked {
  if (value === null) return { value: null };
  const options = field.options ?? [];
  switch (field.type) {
    case 'text':
    case 'long_text': {
      const max = field.type === 'text' ? TEXT_MAX : LONG_TEXT_MAX;
      if (typeof value !== 'string') return { problem: 'must be text (or null to clear)' };
      if (value.trim() === '') return { problem: 'must not be empty; send null to clear' };
      if (value.length > max) return { problem: `must be at most ${max} characters` };
      if (value.includes('\u0000')) return { problem: 'must not contain NUL characters' };
      return { value };
    }
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return { problem: 'must be a finite number' };
      return { value };
    case 'date':
      if (typeof value !== 'string' || !validDate(value)) return { problem: 'must be a date as YYYY-MM-DD' };
      return { value };
    case 'datetime': {
      const date = parseIsoTime(value);
      if (!date) return { problem: 'must be an ISO-8601 date-time such as 2026-01-31T09:00:00Z' };
      return { value: date.toISOString() };
    }
    case 'select':
      if (typeof value !== 'string' || !options.includes(value)) return { problem: `must be one of ${options.join(', ')}` };
      return { value };
    case 'multi_select': {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
        return { problem: `must be an array of ${options.join(', ')}` };
      }
      const unknown = value.filter((item) => !options.includes(item));
      if (unknown.length) return { problem: `${unknown.join(', ')} is not one of ${options.join(', ')}` };
      if (new Set(value).size !== value.length) return { problem: 'lists an option more than once' };
      return { value: value.length === 0 ? null : (value as string[]) };
    }
    case 'checkbox':
      if (typeof value !== 'boolean') return { problem: 'must be true or false' };
      return { value };
    case 'url':
      if (typeof value !== 'string' || !httpUrl(value)) return { problem: 'must be an http(s) URL' };
      return { value };
    case 'email':
      if (typeof value !== 'string' || !isEmail(value)) return { problem: 'must be an email address' };
      return { value };
    case 'user':
      if (typeof value !== 'string' || value.length === 0 || value.length > 200) return { problem: 'must be a user id' };
      return { value };
  }
}

/**
 * A value written as text (a CSV cell) → the JSON value its type takes, before `checkValue`. An empty cell is null.
 * Numbers, checkboxes and multi-selects (`a|b` or `a,b`) are parsed; text that does not parse is passed on as is,
 * so `checkValue` names the problem.
 */
export function valueFromText(type: FieldType, text: string): unknown {
  if (text === '') return null;
  switch (type) {
    case 'number': {
      const number = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(text) ? Number(text) : NaN;
      return Number.isFinite(number) ? number : text;
    }
    case 'checkbox':
      return /^(true|yes|1)$/i.test(text) ? true : /^(false|no|0)$/i.test(text) ? false : text;
    case 'multi_select':
      return text.startsWith('[')
        ? (() => {
            try {
              return JSON.parse(text) as unknown;
            } catch {
              return text;
            }
          })()
        : text
            .split(/[|,]/)
            .map((item) => item.trim())
            .filter((item) => item !== '');
    default:
      return text;
  }
}

/** Which rules a move breaks for a field: `leaving` are the stage keys left (a minor and maybe its major). */
export function requirementProblem(
  required: FieldRequirement,
  move: { leaving: { key: string; name: string }[]; entering: { key: string; name: string; final: boolean } },
): string | undefined {
  if (required === null) return undefined;
  if (required === 'always') return 'is required';
  if (required === 'final') return move.entering.final ? `required to enter final stage "${move.entering.name}"` : undefined;
  const left = move.leaving.find((stage) => stage.key === required.leave_stage);
  return left ? `required to leave stage "${left.name}"` : undefined;
}
