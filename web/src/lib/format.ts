import shape from '../api/ticket-fields.json' with { type: 'json' };
/**
 * The one way the dashboard writes time, durations, states and field names. Every page formats through here, so
 * "2 d 4 h", "due in 3 h", "5 m ago", "In progress" and "Assignee" read the same everywhere. Pure functions (no
 * React, no DOM): test/web/format.test.ts checks them with tables.
 */

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

/** "45 s", "12 m", "3 h 20 m", "2 d 4 h": the two largest units, rounded down (a duration is never overstated). */
export function formatDuration(ms: number): string {
  const value = Math.abs(ms);
  if (value < minute) return `${Math.floor(value / second)} s`;
  if (value < hour) return `${Math.floor(value / minute)} m`;
  if (value < day) {
    const m = Math.floor((value % hour) / minute);
    return `${Math.floor(value / hour)} h${m ? ` ${m} m` : ''}`;
  }
  const h = Math.floor((value % day) / hour);
  return `${Math.floor(value / day)} d${h ? ` ${h} h` : ''}`;
}

/** Whole minutes as a target: "45 m", "4 h", "1 d 12 h" (targets are entered in hours or days). */
export function formatTarget(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined) return 'no target';
  return formatDuration(minutes * minute);
}

/** "in 3 h 20 m" for a moment ahead, "5 d 2 h ago" for one behind, "just now" within a minute either way. */
export function formatRelative(iso: string, now: number): string {
  const diff = new Date(iso).getTime() - now;
  if (Math.abs(diff) < minute) return 'just now';
  return diff > 0 ? `in ${formatDuration(diff)}` : `${formatDuration(diff)} ago`;
}

/**
 * A moment that has happened (created, updated, an event): never written as in the future. A server clock a
 * little ahead of the browser's would otherwise make "updated in 4 s" of a change made a moment ago.
 */
export function formatAgo(iso: string, now: number): string {
  const diff = now - new Date(iso).getTime();
  if (diff < minute) return 'just now';
  return `${formatDuration(diff)} ago`;
}

/** Whether `formatRelative` or `formatAgo` fits a field: moments in the past by nature use the latter. */
export function formatMoment(iso: string, now: number, kind: 'past' | 'any' = 'past'): string {
  return kind === 'past' ? formatAgo(iso, now) : formatRelative(iso, now);
}

const pad = (value: number) => String(value).padStart(2, '0');
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The zone's short name ("CET", "GMT+1") for a moment, as the browser knows it. */
function zoneName(date: Date, timeZone?: string): string {
  const part = new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'short' })
    .formatToParts(date)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? '';
}

/** The calendar fields of a moment in a zone (the viewer's unless given). */
function fieldsOf(date: Date, timeZone?: string) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute') };
}

/** "29 Nov 2026, 14:39 CET": the exact moment in the viewer's zone (tooltips, tables, the timeline). */
export function formatExact(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  const f = fieldsOf(date, timeZone);
  return `${f.day} ${months[f.month - 1]} ${f.year}, ${pad(f.hour)}:${pad(f.minute)} ${zoneName(date, timeZone)}`.trim();
}

/** "29 Nov 2026": a calendar day (a `YYYY-MM-DD` string is taken as that day, whatever the zone). */
export function formatDate(value: string, timeZone?: string): string {
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (plain) return `${Number(plain[3])} ${months[Number(plain[2]) - 1]} ${plain[1]}`;
  const f = fieldsOf(new Date(value), timeZone);
  return `${f.day} ${months[f.month - 1]} ${f.year}`;
}

/** "29 Nov": a short day for chart axes. */
export function formatDay(value: string): string {
  return formatDate(value).replace(/ \d{4}$/, '');
}

/** 0.8 → "80 %". */
export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || Number.isNaN(fraction)) return '—';
  return `${Math.round(fraction * 100)} %`;
}

/** Capitalised words from a machine name: "in_progress" → "In progress". */
export function humanize(name: string): string {
  const words = name.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

const statusNames: Record<string, string> = {
  new: 'New',
  open: 'Open',
  pending: 'Pending',
  sent: 'Sent to OPS',
  in_progress: 'In progress',
  delayed: 'Delayed',
  closed: 'Closed',
  failed: 'OPS failed',
};

/** A ticket status as people read it; the same words in badges, filters, history and selects. */
export function statusLabel(status: string | null | undefined): string {
  if (!status) return '—';
  return statusNames[status] ?? humanize(status);
}

const delayNames: Record<string, string> = { on_track: 'On track', at_risk: 'At risk', overdue: 'Overdue' };

/** "On track", "At risk", "Overdue". */
export function delayLabel(state: string | null | undefined): string {
  if (!state) return 'No target';
  return delayNames[state] ?? humanize(state);
}

/** Labels of what history names that is not a ticket field; the fields' own come from the server's table. */
const otherNames: Record<string, string> = { ops_status: 'OPS status' };
const ticketFieldNames: Record<string, { label: string }> = shape.fields;

/** A ticket field's label: "assigned_to" → "Assignee" (history, errors, columns). */
export function fieldLabel(field: string): string {
  return ticketFieldNames[field]?.label ?? otherNames[field] ?? humanize(field);
}

/** A field's value as shown in history: statuses in words, empty as "—". */
export function fieldValue(field: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (field === 'status' || field === 'ops_status') return statusLabel(String(value));
  if (field === 'priority') return humanize(String(value));
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export type JudgementState = 'on_track' | 'at_risk' | 'overdue';

/** One of a ticket's two judgements: the current stage's, or the whole ticket's target. */
export type Judgement = {
  state: JudgementState | null | undefined;
  due_at: string | null | undefined;
  overdue_by: number | null | undefined;
};

/**
 * What a judgement says, without its label: "due in 2 d", "passed 5 d 2 h ago", "no target". Lateness comes
 * from `overdue_by` (seconds, the server's measure, business hours where the calendar says so) when it is there.
 */
export function judgementText(judgement: Judgement, now: number): string {
  const { state, due_at, overdue_by } = judgement;
  if (!due_at && !overdue_by) return 'no target';
  if (state === 'overdue' || (overdue_by ?? 0) > 0) {
    const late = overdue_by ? overdue_by * second : due_at ? now - new Date(due_at).getTime() : 0;
    return late >= minute ? `passed ${formatDuration(late)} ago` : 'passed just now';
  }
  const left = new Date(due_at!).getTime() - now;
  if (left < minute) return 'due now';
  return `due in ${formatDuration(left)}`;
}

/** "Stage Fix" or "Ticket target": how each judgement is labelled wherever it is shown. */
export function judgementLabel(kind: 'stage' | 'ticket', stageName?: string | null): string {
  return kind === 'stage' ? `Stage ${stageName ?? ''}`.trim() : 'Ticket target';
}

/** "Stage Fix: due in 2 d". */
export function judgementLine(kind: 'stage' | 'ticket', judgement: Judgement, now: number, stageName?: string | null): string {
  const text = judgementText(judgement, now);
  return `${judgementLabel(kind, stageName)}: ${text === 'no target' && kind === 'ticket' ? 'none set' : text}`;
}

/** A count with its noun: 1 ticket, 2 tickets. */
export function plural(count: number, noun: string, many = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : many}`;
}
