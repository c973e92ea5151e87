import { useQuery } from '@tanstack/react-query';
import { api, dataOf } from './client';
import { ApiError } from './http';
import type { FieldDefinition, FieldType, FieldValue } from './types';

export type { FieldDefinition, FieldType, FieldValue } from './types';
export type FieldValues = Record<string, FieldValue>;

export const fieldTypes: { type: FieldType; label: string }[] = [
  { type: 'text', label: 'Text' },
  { type: 'long_text', label: 'Long text' },
  { type: 'number', label: 'Number' },
  { type: 'date', label: 'Date' },
  { type: 'datetime', label: 'Date and time' },
  { type: 'select', label: 'Choice (one)' },
  { type: 'multi_select', label: 'Choices (several)' },
  { type: 'checkbox', label: 'Checkbox' },
  { type: 'url', label: 'Link (URL)' },
  { type: 'email', label: 'E-mail' },
  { type: 'user', label: 'User' },
];

export const hasOptions = (type: FieldType) => type === 'select' || type === 'multi_select';

/**
 * A project's field definitions in their order (`project`: its id or key); archived ones too when asked (admins).
 * Customers get only the fields marked for them.
 */
export function useFieldDefinitions(project: string | undefined, { enabled = true, archived = false } = {}) {
  return useQuery({
    enabled: enabled && Boolean(project),
    queryKey: ['fields', project, archived],
    queryFn: async () => {
      const list = await dataOf(
        api.GET('/api/projects/{id}/fields', {
          params: { path: { id: project! }, query: archived ? { include_archived: true } : {} },
        }),
      );
      return [...list].sort((a, b) => a.position - b.position || a.key.localeCompare(b.key));
    },
    staleTime: 60_000,
  });
}

export const activeFields = (definitions: readonly FieldDefinition[] | undefined) =>
  (definitions ?? []).filter((definition) => !definition.archived_at);

/** A ticket's (or board card's) field values; customers get only the ones marked for them, so any may be missing. */
export function fieldsOf(ticket: object | undefined): FieldValues {
  const fields = (ticket as { fields?: unknown } | undefined)?.fields;
  return fields && typeof fields === 'object' ? (fields as FieldValues) : {};
}

/** The per-field problems of a refused write or move, by field key (`fields.<key>` in the error details). */
export function fieldProblems(error: unknown): Map<string, string> {
  const problems = new Map<string, string>();
  if (!(error instanceof ApiError)) return problems;
  for (const detail of error.details) {
    if (detail.field.startsWith('fields.')) problems.set(detail.field.slice('fields.'.length), detail.problem);
  }
  return problems;
}

/** A move refused because fields must be set first (409 FIELDS_REQUIRED): which ones, and why. */
export function requiredFields(error: unknown): Map<string, string> | null {
  if (!(error instanceof ApiError) || error.status !== 409 || error.code !== 'FIELDS_REQUIRED') return null;
  return fieldProblems(error);
}

/** When a field must be set, in words. */
export function requiredLabel(required: FieldDefinition['required'], stageName: (key: string) => string = (key) => key): string {
  if (!required) return 'optional';
  if (required === 'always') return 'always';
  if (required === 'final') return 'to enter a final stage';
  return `to leave ${stageName(required.leave_stage)}`;
}

/** What a control edits: text for most types, a list for multi-select, a flag for a checkbox. */
export type Draft = string | string[] | boolean;

function pad(value: number) {
  return String(value).padStart(2, '0');
}

/** An instant as a `datetime-local` value in the viewer's time zone. */
export function toLocalDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function toDraft(definition: Pick<FieldDefinition, 'type'>, value: unknown): Draft {
  switch (definition.type) {
    case 'checkbox':
      return value === true;
    case 'multi_select':
      return Array.isArray(value) ? value.map(String) : [];
    case 'datetime':
      return typeof value === 'string' ? toLocalDateTime(value) : '';
    case 'number':
      return typeof value === 'number' ? String(value) : '';
    default:
      return value === null || value === undefined ? '' : String(value);
  }
}

/** The value the API takes for a draft; an empty one clears the field (null). */
export function fromDraft(definition: Pick<FieldDefinition, 'type'>, draft: Draft): FieldValue {
  switch (definition.type) {
    case 'checkbox':
      return draft === true;
    case 'multi_select':
      return Array.isArray(draft) && draft.length > 0 ? draft : null;
    default: {
      const text = typeof draft === 'string' ? draft.trim() : '';
      if (text === '') return null;
      if (definition.type === 'number') return Number.isFinite(Number(text)) ? Number(text) : text;
      if (definition.type === 'datetime') {
        const date = new Date(text);
        return Number.isNaN(date.getTime()) ? text : date.toISOString();
      }
      return definition.type === 'long_text' ? (draft as string) : text;
    }
  }
}

/** Whether a value counts as set (a gate or a required field asks for one). */
export function isSet(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** A value as plain text, e.g. on a board card. */
export function valueText(
  definition: Pick<FieldDefinition, 'type'>,
  value: unknown,
  userName?: (id: string) => string | undefined,
): string {
  if (!isSet(value)) return '—';
  switch (definition.type) {
    case 'checkbox':
      return value === true ? 'Yes' : 'No';
    case 'multi_select':
      return Array.isArray(value) ? value.join(', ') : String(value);
    case 'date':
      return typeof value === 'string' ? dateFormat.format(new Date(`${value}T00:00:00`)) : String(value);
    case 'datetime':
      return typeof value === 'string' ? dateTimeFormat.format(new Date(value)) : String(value);
    case 'user':
      return userName?.(String(value)) ?? String(value);
    default:
      return String(value);
  }
}

const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
