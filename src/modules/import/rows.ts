import { parse as parseCsv } from 'csv-parse';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { AppError } from '../../errors.js';
import { parseStageInput, type StageInput } from '../stages/validation.js';
import { editableFields, parseTicketInput, type TicketInput } from '../tickets/validation.js';

export type ImportFormat = 'ndjson' | 'csv';

/** One line of the file: a record to validate, or why it could not even be read. */
export type SourceRow = { line: number; record: Record<string, unknown> } | { line: number; error: string };

/** A ticket's field as the API takes it; `stages`, `current_stage_id` and `version` come from the visits instead. */
const ticketFields = ['id', ...editableFields, 'created_at'] as const;
const rowFields = new Set<string>(['external_id', 'visits', 'fields', ...ticketFields]);
/** A custom field's column (CSV) or key (NDJSON) beside a `fields` object: `field.<key>` (issue 25). */
const fieldColumn = /^field\.(.+)$/;
/** A visit is a stage record of the ticket; `key` names the stage definition in the ticket's project. */
const visitFields = new Set(['key', 'stage_type', 'stage_description', 'stage_start_time', 'stage_end_time', 'due_at', 'contact_emails']);
/** Cells of a CSV row that hold JSON. */
const jsonColumns = new Set(['metadata', 'visits', 'fields']);

export type VisitInput = StageInput & { key: string | null; stage_start_time: Date };
export type ImportRow = {
  line: number;
  externalId: string;
  ticket: TicketInput;
  visits: VisitInput[];
  /** The custom field values came as CSV text: each is read by its field's type before it is checked. */
  fieldsAsText: boolean;
};

/** Reads NDJSON (one JSON object a line; blank lines skipped) or CSV (a header row; one ticket a row). */
export async function* readRows(source: Readable, format: ImportFormat): AsyncGenerator<SourceRow> {
  if (format === 'ndjson') {
    let line = 0;
    for await (const text of createInterface({ input: source, crlfDelay: Infinity })) {
      line += 1;
      if (text.trim() === '') continue;
      try {
        const record: unknown = JSON.parse(text);
        if (typeof record !== 'object' || record === null || Array.isArray(record)) yield { line, error: 'must be a JSON object' };
        else yield { line, record: record as Record<string, unknown> };
      } catch {
        yield { line, error: 'is not valid JSON' };
      }
    }
    return;
  }
  const skipped: SourceRow[] = [];
  const parser = source.pipe(
    parseCsv({
      columns: true,
      bom: true,
      info: true,
      trim: false,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error) => {
        if (error) skipped.push({ line: (error as { lines?: number }).lines ?? 0, error: `CSV: ${error.message}` });
      },
    }),
  );
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    yield* skipped.splice(0);
    const cells: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const [column, value] of Object.entries(record)) {
      if (value === '') continue;
      if (!jsonColumns.has(column)) cells[column] = value;
      else {
        try {
          cells[column] = JSON.parse(value);
        } catch {
          problems.push(`${column}: must be JSON`);
        }
      }
    }
    yield problems.length ? { line: info.lines, error: problems.join('; ') } : { line: info.lines, record: cells };
  }
  yield* skipped.splice(0);
}

const reason = (details: readonly { field: string; problem: string }[], prefix = '') =>
  details.map((detail) => `${prefix}${detail.field}: ${detail.problem}`).join('; ');

/**
 * The API's own value rules (`parseTicketInput`, `parseStageInput`) applied to one row; returns the typed row
 * or the reason it is refused.
 */
export function validateRow(line: number, record: Record<string, unknown>): ImportRow | { line: number; error: string } {
  const problems: string[] = [];
  const columns = Object.keys(record).filter((name) => fieldColumn.test(name));
  let fieldsAsText = false;
  if (columns.length) {
    const given = record.fields;
    if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
      problems.push('fields: must be an object of field values by key');
    }
    fieldsAsText = columns.some((name) => typeof record[name] === 'string');
    const folded = { ...(given as Record<string, unknown> | undefined) };
    for (const name of columns) folded[fieldColumn.exec(name)![1]!] = record[name];
    record = { ...Object.fromEntries(Object.entries(record).filter(([name]) => !fieldColumn.test(name))), fields: folded };
  }
  const unknown = Object.keys(record).filter((field) => !rowFields.has(field));
  if (unknown.length) problems.push(`${unknown.join(', ')}: unknown field${unknown.length > 1 ? 's' : ''}`);
  const externalId = record.external_id;
  if (typeof externalId !== 'string' || externalId.trim() === '' || externalId.length > 200 || externalId.includes('\u0000')) {
    problems.push('external_id: must be a non-empty string of at most 200 characters');
  }
  let ticket: TicketInput | undefined;
  try {
    ticket = parseTicketInput(Object.fromEntries([...ticketFields, 'fields'].map((field) => [field, record[field]])), 'create');
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    problems.push(reason(error.details));
  }
  const visits: VisitInput[] = [];
  const rawVisits = record.visits ?? [];
  if (!Array.isArray(rawVisits)) problems.push('visits: must be an array of stage visits');
  else if (rawVisits.length > 1000) problems.push('visits: must list at most 1000 visits');
  else {
    rawVisits.forEach((raw: unknown, index) => {
      const at = `visits.${index}.`;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return problems.push(`visits.${index}: must be an object`);
      const visit = raw as Record<string, unknown>;
      const extra = Object.keys(visit).filter((field) => !visitFields.has(field));
      if (extra.length) problems.push(`${at}${extra.join(', ')}: unknown field${extra.length > 1 ? 's' : ''}`);
      const key = visit.key ?? null;
      if (key !== null && (typeof key !== 'string' || key.trim() === '' || key.length > 64)) problems.push(`${at}key: must be a stage key`);
      try {
        const stage = parseStageInput(visit);
        if (stage.stage_type === 'minor') problems.push(`${at}stage_type: visits are major stages`);
        if (!stage.stage_start_time) problems.push(`${at}stage_start_time: a visit needs its start time`);
        else if (stage.stage_end_time && stage.stage_end_time < stage.stage_start_time) {
          problems.push(`${at}stage_end_time: must not be before stage_start_time`);
        } else visits.push({ ...stage, key: key as string | null, stage_start_time: stage.stage_start_time });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        problems.push(reason(error.details, at));
      }
    });
  }
  if (problems.length || !ticket) return { line, error: problems.join('; ') };
  return { line, externalId: externalId as string, ticket, visits, fieldsAsText };
}
