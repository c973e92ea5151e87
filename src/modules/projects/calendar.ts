import { DateTime, IANAZone } from 'luxon';
import type { ErrorDetail } from '../../errors.js';

/**
 * When the business clock runs: working days (ISO weekday, 1 = Monday … 7 = Sunday) and one span of
 * working hours on each, in a time zone, except on holidays. A project without a calendar counts
 * every hour.
 */
export type Calendar = {
  time_zone: string;
  working_days: number[];
  working_hours: { start: string; end: string };
  holidays: string[];
};

const HOUR_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** Twenty years of days: far beyond any target, and a guard against a calendar that never works. */
const MAX_DAYS = 366 * 20;

function minutesOf(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return hours * 60 + minutes;
}

/** Problems with a calendar, each naming its field under `prefix`. */
export function calendarProblems(calendar: Calendar, prefix = 'calendar'): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  if (!IANAZone.isValidZone(calendar.time_zone)) {
    problems.push({
      field: `${prefix}.time_zone`,
      problem: `"${calendar.time_zone}" is not an IANA time zone`,
    });
  }
  if (calendar.working_days.length === 0) {
    problems.push({
      field: `${prefix}.working_days`,
      problem: 'must name at least one working day',
    });
  }
  const { start, end } = calendar.working_hours;
  if (!HOUR_PATTERN.test(start))
    problems.push({
      field: `${prefix}.working_hours.start`,
      problem: 'must be HH:MM',
    });
  if (!HOUR_PATTERN.test(end))
    problems.push({
      field: `${prefix}.working_hours.end`,
      problem: 'must be HH:MM (24:00 for midnight)',
    });
  if (HOUR_PATTERN.test(start) && HOUR_PATTERN.test(end) && minutesOf(start) >= minutesOf(end)) {
    problems.push({
      field: `${prefix}.working_hours`,
      problem: 'start must be before end',
    });
  }
  calendar.holidays.forEach((day, index) => {
    if (!DATE_PATTERN.test(day) || !DateTime.fromISO(day).isValid) {
      problems.push({
        field: `${prefix}.holidays.${index}`,
        problem: 'must be a date YYYY-MM-DD',
      });
    }
  });
  return problems;
}

/** The calendar's working spans (UTC ms), in order, from the local day that contains `from`. */
export function* workingSpans(calendar: Calendar, from: number): Generator<[number, number]> {
  const holidays = new Set(calendar.holidays);
  const startMinutes = minutesOf(calendar.working_hours.start);
  const endMinutes = minutesOf(calendar.working_hours.end);
  let day = DateTime.fromMillis(from, { zone: calendar.time_zone }).startOf('day');
  for (let i = 0; i < MAX_DAYS; i++, day = day.plus({ days: 1 }).startOf('day')) {
    if (!calendar.working_days.includes(day.weekday) || holidays.has(day.toISODate() ?? '')) continue;
    // Local wall times: on a DST day a span is an hour shorter or longer, as the people working it see it.
    const at = (minutes: number) =>
      minutes >= 1440 ? day.plus({ days: 1 }).startOf('day') : day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60 });
    yield [at(startMinutes).toMillis(), at(endMinutes).toMillis()];
  }
}

/** Business time between two instants (0 when `to` is not after `from`). */
export function businessMs(calendar: Calendar | null, from: Date, to: Date): number {
  const start = from.getTime();
  const end = to.getTime();
  if (end <= start) return 0;
  if (!calendar) return end - start;
  let total = 0;
  for (const [spanStart, spanEnd] of workingSpans(calendar, start)) {
    if (spanStart >= end) break;
    total += Math.max(0, Math.min(spanEnd, end) - Math.max(spanStart, start));
  }
  return total;
}

/** The instant at which `ms` of business time have passed since `start`. */
export function addBusinessMs(calendar: Calendar | null, start: Date, ms: number): Date {
  if (!calendar) return new Date(start.getTime() + ms);
  let left = ms;
  for (const [spanStart, spanEnd] of workingSpans(calendar, start.getTime())) {
    const from = Math.max(spanStart, start.getTime());
    if (from >= spanEnd) continue;
    // A zero target lands on the next working moment, like any other.
    if (left <= spanEnd - from) return new Date(from + left);
    left -= spanEnd - from;
  }
  throw new Error('the calendar has no working time in the next twenty years');
}
