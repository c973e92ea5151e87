import { ApiError } from '../api/http';

/** The API marks matched words in a snippet with exactly these; everything else in it is plain text. */
const markPattern = /<mark>([\s\S]*?)<\/mark>/g;

export type SnippetPart = { text: string; match: boolean };

/** A snippet as text runs, the matched ones flagged, so React renders every run as escaped text. */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let last = 0;
  for (const found of snippet.matchAll(markPattern)) {
    if (found.index > last) parts.push({ text: snippet.slice(last, found.index), match: false });
    if (found[1]) parts.push({ text: found[1], match: true });
    last = found.index + found[0].length;
  }
  if (last < snippet.length) parts.push({ text: snippet.slice(last), match: false });
  return parts;
}

/** The word being typed at the caret: where it starts, and its text up to the caret. */
export function tokenAt(text: string, caret: number): { start: number; token: string } {
  let start = 0;
  let quoted = false;
  for (let i = 0; i < caret; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (!quoted && /\s/.test(text[i])) start = i + 1;
  }
  return { start, token: text.slice(start, caret) };
}

/** `one or more of a, b, c, comma-separated` (the help's wording for fixed lists) → [a, b, c]; else none. */
export function fixedValues(values: string): string[] {
  const match = /^one or more of (.+), comma-separated$/.exec(values);
  return match ? match[1].split(', ') : [];
}

/** A value as a field term needs it: quoted when it has spaces (quotes inside cannot be expressed, so dropped). */
function termValue(value: string): string {
  const plain = value.replace(/"/g, '').trim();
  return /\s/.test(plain) ? `"${plain}"` : plain;
}

export type ListFilters = { q: string; status: string; priority: string; project: string; customer: string; assigned_to: string };

/**
 * The list's drop-down filters written as search-box field terms, so a saved view keeps them; custom field
 * filters (`field.<key>` → value) become `field.<key>:value`.
 */
export function filtersAsQuery(filters: ListFilters, fields: Record<string, string> = {}): string {
  const terms = [
    ...Object.entries(fields).map(([name, value]) => value && `${name}:${termValue(value)}`),
    filters.status && `status:${filters.status}`,
    filters.priority && `priority:${filters.priority}`,
    filters.project && `project:${termValue(filters.project)}`,
    filters.customer && `customer:${termValue(filters.customer)}`,
    filters.assigned_to && `assignee:${termValue(filters.assigned_to)}`,
    filters.q.trim(),
  ];
  return terms.filter(Boolean).join(' ');
}

/** What is wrong with the search text, when the list refused it (400 naming `q`); null for other failures. */
export function searchProblem(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const problem = error.details.find((detail) => detail.field === 'q');
  return problem ? problem.problem : null;
}
