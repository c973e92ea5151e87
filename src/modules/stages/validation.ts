import type { StageType } from '../../db/types.js';
import { invalid, type ErrorDetail } from '../../errors.js';
import { isEmail, isoTimeProblem, isWellFormedId, MAX_NUMBER, numberRef, parseIsoTime, type StageRef } from '../tickets/validation.js';

export type StageInput = {
  stage_type?: StageType;
  major_stage_id?: StageRef | null;
  stage_description?: string | null;
  stage_start_time?: Date | null;
  stage_end_time?: Date | null;
  due_at?: Date | null;
  contact_emails?: string[];
  version?: number;
};

function time(body: Record<string, unknown>, field: string, problems: ErrorDetail[]): Date | null | undefined {
  const value = body[field];
  if (value === undefined || value === null) return value;
  const date = parseIsoTime(value);
  if (!date) problems.push({ field, problem: `${isoTimeProblem}, or null` });
  return date ?? undefined;
}

/** Value rules for a stage body (both faces); the service checks the rules that need the database. */
export function parseStageInput(body: Record<string, unknown>): StageInput {
  const problems: ErrorDetail[] = [];
  const input: StageInput = {};

  if (body.stage_type !== undefined) {
    if (body.stage_type === 'major' || body.stage_type === 'minor') input.stage_type = body.stage_type;
    else problems.push({ field: 'stage_type', problem: 'must be one of major, minor' });
  }
  const major = body.major_stage_id;
  if (major === null) input.major_stage_id = null;
  else if (typeof major === 'number' && Number.isSafeInteger(major) && major > 0 && major <= MAX_NUMBER) input.major_stage_id = major;
  else if (typeof major === 'string' && numberRef(major) !== undefined) input.major_stage_id = numberRef(major);
  else if (typeof major === 'string' && isWellFormedId(major)) input.major_stage_id = major;
  else if (major !== undefined) problems.push({ field: 'major_stage_id', problem: 'must be a stage id or number, or null' });

  const description = body.stage_description;
  if (description === null) input.stage_description = null;
  else if (description !== undefined) {
    if (typeof description !== 'string') problems.push({ field: 'stage_description', problem: 'must be a string or null' });
    else if (description.includes('\u0000')) problems.push({ field: 'stage_description', problem: 'must not contain NUL characters' });
    else if (description.length > 2000) problems.push({ field: 'stage_description', problem: 'must be at most 2000 characters' });
    else input.stage_description = description;
  }

  for (const field of ['stage_start_time', 'stage_end_time', 'due_at'] as const) {
    const value = time(body, field, problems);
    if (value !== undefined) input[field] = value;
  }

  const emails = body.contact_emails;
  if (emails === null) input.contact_emails = [];
  else if (emails !== undefined) {
    if (!Array.isArray(emails)) problems.push({ field: 'contact_emails', problem: 'must be an array of email addresses' });
    else if (emails.length > 50) problems.push({ field: 'contact_emails', problem: 'must list at most 50 addresses' });
    else {
      emails.forEach((email, index) => {
        if (typeof email !== 'string' || !isEmail(email))
          problems.push({ field: `contact_emails.${index}`, problem: 'must be an email address' });
      });
      if (problems.every((p) => !p.field.startsWith('contact_emails'))) input.contact_emails = [...new Set(emails as string[])];
    }
  }

  if (body.version !== undefined && body.version !== null) {
    if (typeof body.version !== 'number' || !Number.isSafeInteger(body.version) || body.version < 1) {
      problems.push({ field: 'version', problem: 'must be a positive whole number' });
    } else input.version = body.version;
  }

  if (problems.length) invalid(problems);
  return input;
}
