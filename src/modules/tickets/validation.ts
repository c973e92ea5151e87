import type { Priority, TicketStatus } from '../../db/enums.js';
import { invalid, type ErrorDetail } from '../../errors.js';
import { ticketFields, writableFields, type TicketField, type WritableField } from './shape.js';

export { priorities, ticketStatuses } from '../../db/enums.js';

/** A stage named by its id, or by its sequential number (the monitoring system's integer ids). */
export type StageRef = string | number;

/** The one internal shape both faces' input is folded into before the rules run. */
export type TicketInput = {
  id?: string;
  subject?: string | null;
  description?: string | null;
  status?: TicketStatus;
  priority?: Priority;
  category?: string | null;
  project?: string | null;
  customer_name?: string | null;
  customer_email?: string | null;
  customer_phone?: string | null;
  contact_person?: string | null;
  helpdeskurl?: string | null;
  assigned_to?: string | null;
  metadata?: Record<string, unknown>;
  /** Custom field values by key (issue 25); checked against the project's definitions by the service. */
  fields?: Record<string, unknown>;
  current_stage_id?: StageRef | null;
  stages?: StageRef[];
  created_at?: Date;
  version?: number;
};

/** The fields a client may write on create and update, from the ticket field table (`shape.ts`). */
export const editableFields = writableFields.filter(
  (name): name is Exclude<WritableField, 'current_stage_id' | 'stages'> => name !== 'current_stage_id' && name !== 'stages',
) satisfies readonly (keyof TicketInput)[];

const ID_PATTERN = new RegExp(`^[A-Za-z0-9._:-]{1,${ticketFields.id.max}}$`);
const EMAIL_PATTERN = /^[^\s@"<>,;]+@[^\s@"<>,;]+\.[^\s@"<>,;.]{2,}$/;
const PHONE_PATTERN = /^[0-9+().\-\s/x]{3,50}$/;

/** Sequential numbers are PostgreSQL integers; a bigger one names nothing. */
export const MAX_NUMBER = 2_147_483_647;

/** An all-digit reference names a sequential number; `undefined` when it is not one that can exist. */
export function numberRef(ref: string): number | undefined {
  if (!/^\d{1,10}$/.test(ref)) return undefined;
  const number = Number(ref);
  return number >= 1 && number <= MAX_NUMBER ? number : undefined;
}

/** A client-chosen id: 1–64 of [A-Za-z0-9._:-], not all digits (those name the sequential number). */
export function isWellFormedId(id: string): boolean {
  return ID_PATTERN.test(id) && !/^\d+$/.test(id);
}

export function isEmail(value: string): boolean {
  return value.length <= ticketFields.customer_email.max && EMAIL_PATTERN.test(value);
}

type Mode = 'create' | 'update';
type TextField = Exclude<
  { [K in keyof TicketInput]-?: TicketInput[K] extends string | null | undefined ? K : never }[keyof TicketInput],
  undefined
>;

/** Collects every problem of a body before failing, so a client fixes them all in one go. */
class Problems {
  readonly list: ErrorDetail[] = [];
  add(field: string, problem: string): void {
    this.list.push({ field, problem });
  }
}

function text(value: unknown, field: string, max: number, problems: Problems): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'string') return (problems.add(field, 'must be a string or null'), undefined);
  if (value.includes('\u0000')) return (problems.add(field, 'must not contain NUL characters'), undefined);
  if (value.trim() === '') return (problems.add(field, 'must not be empty (send null to clear it)'), undefined);
  if (value.length > max) return (problems.add(field, `must be at most ${max} characters`), undefined);
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], problems: Problems): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    return (problems.add(field, `must be one of ${allowed.join(', ')}`), undefined);
  }
  return value as T;
}

function stageRef(value: unknown, field: string, problems: Problems): StageRef | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= MAX_NUMBER) return value;
  if (typeof value === 'string' && numberRef(value) !== undefined) return numberRef(value);
  if (typeof value === 'string' && isWellFormedId(value)) return value;
  problems.add(field, 'must be a stage id or a stage number');
  return undefined;
}

/** An ISO-8601 date-time from 1970 to 9999, or null when the value is anything else. */
export function parseIsoTime(value: unknown): Date | null {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) return null;
  return date;
}

export const isoTimeProblem = 'must be an ISO-8601 date-time such as 2026-01-31T09:00:00Z';

function timestamp(value: unknown, field: string, problems: Problems): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = parseIsoTime(value);
  if (!date) problems.add(field, isoTimeProblem);
  return date ?? undefined;
}

function containsNul(value: unknown): boolean {
  return JSON.stringify(value).includes('\\u0000');
}

/**
 * Checks every field's value (types, enums, formats, lengths) and returns the typed input.
 * Both faces call it, so a rule changes in one place. Cross-record rules (stages exist, id free)
 * are the service's.
 */
export function parseTicketInput(body: Record<string, unknown>, mode: Mode): TicketInput {
  const problems = new Problems();
  const input: TicketInput = {};
  const set = <K extends keyof TicketInput>(key: K, value: TicketInput[K] | undefined) => {
    if (value !== undefined) input[key] = value;
  };

  // The table's plain fields, each checked by its type and limit.
  for (const name of editableFields) {
    const spec: TicketField = ticketFields[name];
    const value = body[name];
    switch (spec.type) {
      case 'text':
        set(name as TextField, text(value, name, spec.max!, problems));
        break;
      case 'email': {
        const email = text(value, name, spec.max!, problems);
        if (typeof email === 'string' && !isEmail(email)) problems.add(name, 'must be an email address');
        else set(name as TextField, email);
        break;
      }
      case 'phone': {
        const phone = text(value, name, spec.max!, problems);
        if (typeof phone === 'string' && !PHONE_PATTERN.test(phone))
          problems.add(name, 'must be a phone number (digits, spaces, + - ( ) .)');
        else set(name as TextField, phone);
        break;
      }
      case 'url': {
        const url = text(value, name, spec.max!, problems);
        if (typeof url === 'string' && !(/^https?:\/\/\S+$/i.test(url) && URL.canParse(url))) problems.add(name, 'must be an http(s) URL');
        else set(name as TextField, url);
        break;
      }
      case 'enum':
        if (value === null) problems.add(name, 'cannot be cleared');
        else set(name as 'status', oneOf(value, name, spec.values as TicketStatus[], problems));
        break;
      case 'json':
        if (value === undefined) break;
        if (value === null) input.metadata = {};
        else if (typeof value !== 'object' || Array.isArray(value)) problems.add(name, 'must be a JSON object');
        else if (containsNul(value)) problems.add(name, 'must not contain NUL characters');
        else if (JSON.stringify(value).length > spec.max!) problems.add(name, `must be at most ${spec.max! / 1024} KiB of JSON`);
        else input.metadata = value as Record<string, unknown>;
        break;
    }
  }

  if (body.fields !== undefined) {
    if (body.fields === null || typeof body.fields !== 'object' || Array.isArray(body.fields)) {
      problems.add('fields', 'must be an object of field values by key');
    } else input.fields = body.fields as Record<string, unknown>;
  }

  if (body.current_stage_id !== undefined) {
    input.current_stage_id = body.current_stage_id === null ? null : stageRef(body.current_stage_id, 'current_stage_id', problems);
  }
  if (body.stages !== undefined) {
    if (!Array.isArray(body.stages)) problems.add('stages', 'must be an array of stage ids');
    else if (body.stages.length > ticketFields.stages.max) problems.add('stages', `must list at most ${ticketFields.stages.max} stages`);
    else {
      const refs = body.stages.map((ref, index) => stageRef(ref, `stages.${index}`, problems));
      if (refs.every((ref) => ref !== undefined)) input.stages = refs as StageRef[];
    }
  }

  if (body.version !== undefined && body.version !== null) {
    if (typeof body.version !== 'number' || !Number.isSafeInteger(body.version) || body.version < 1) {
      problems.add('version', 'must be a positive whole number');
    } else input.version = body.version;
  }

  if (mode === 'create') {
    if (body.id !== undefined && body.id !== null) {
      if (typeof body.id !== 'string' || !isWellFormedId(body.id)) {
        problems.add('id', 'must be 1–64 characters of A-Z a-z 0-9 . _ : - and not only digits');
      } else input.id = body.id;
    }
    set('created_at', timestamp(body.created_at, 'created_at', problems));
    if (
      input.subject == null &&
      input.customer_name == null &&
      !problems.list.some((p) => p.field === 'subject' || p.field === 'customer_name')
    ) {
      problems.add('subject', 'a ticket needs a subject or a customer_name');
    }
  }

  if (problems.list.length > 0) invalid(problems.list);
  return input;
}
