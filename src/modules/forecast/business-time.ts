import { workingSpans, type Calendar } from '../projects/calendar.js';

const DAY_MS = 86_400_000;
/** How far around the first moment asked about a timeline reaches at first; it doubles its reach when asked beyond. */
const FIRST_REACH_MS = 40 * DAY_MS;
/** Calendars kept (a process serves a handful of projects; a changed calendar is a new one). */
const KEPT = 64;

/**
 * A calendar's working spans laid out once with running totals, so business time between two moments, or the moment
 * a business duration ends, is a binary search instead of a walk over the days in the calendar's time zone (which is
 * most of a forecast's cost when a ticket has been open for weeks). Same answers as `businessMs` / `addBusinessMs`.
 */
export class BusinessTimeline {
  private from = 0;
  private to = 0;
  private starts = new Float64Array(0);
  private ends = new Float64Array(0);
  /** Business time before each span. */
  private before = new Float64Array(0);

  constructor(private readonly calendar: Calendar) {}

  /** Lays out the spans of every local day from `from` to `to` (and past `to` to the next working moment). */
  private layOut(from: number, to: number): void {
    const starts: number[] = [];
    const ends: number[] = [];
    for (const [start, end] of workingSpans(this.calendar, from)) {
      starts.push(start);
      ends.push(end);
      if (start >= to) break;
    }
    this.from = from;
    this.to = starts.length ? Math.max(to, starts.at(-1)!) : to;
    this.starts = Float64Array.from(starts);
    this.ends = Float64Array.from(ends);
    this.before = new Float64Array(starts.length);
    for (let i = 1; i < starts.length; i += 1) this.before[i] = this.before[i - 1]! + ends[i - 1]! - starts[i - 1]!;
  }

  /** Makes sure the laid-out days cover `at` (a day of margin on each side, for time zones). */
  private cover(at: number): void {
    if (this.starts.length > 0 && at >= this.from + DAY_MS && at < this.to - DAY_MS) return;
    if (this.starts.length === 0) return this.layOut(at - FIRST_REACH_MS, at + FIRST_REACH_MS);
    const reach = 2 * (this.to - this.from);
    this.layOut(Math.min(this.from, at - reach / 2), Math.max(this.to, at + reach / 2));
  }

  /** Business time from the start of the laid-out days to `at`; the caller has covered `at`. */
  private position(at: number): number {
    // The last span starting at or before `at`.
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.starts[mid]! <= at) low = mid + 1;
      else high = mid;
    }
    const i = low - 1;
    if (i < 0) return 0;
    return this.before[i]! + Math.min(at, this.ends[i]!) - this.starts[i]!;
  }

  /** Business time between two instants (0 when `to` is not after `from`), as `businessMs`. */
  between(from: Date, to: Date): number {
    const start = from.getTime();
    const end = to.getTime();
    if (end <= start) return 0;
    this.cover(start);
    this.cover(end);
    return this.position(end) - this.position(start);
  }

  /** The instant at which `ms` of business time have passed since `start`, as `addBusinessMs`. */
  add(start: Date, ms: number): Date {
    const at = start.getTime();
    for (let reach = 0; reach < 40; reach += 1) {
      this.cover(at);
      const target = this.position(at) + ms;
      // The first span that ends at or after the target and after `start` (a zero duration lands on the next working moment).
      let low = 0;
      let high = this.starts.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (this.before[mid]! + this.ends[mid]! - this.starts[mid]! < target) low = mid + 1;
        else high = mid;
      }
      while (low < this.starts.length && this.ends[low]! <= at) low += 1;
      if (low < this.starts.length) return new Date(this.starts[low]! + target - this.before[low]!);
      // Past the laid-out days: reach further and look again.
      this.cover(this.to + (this.to - this.from));
    }
    throw new Error('the calendar has no working time in reach');
  }
}

const timelines = new Map<string, BusinessTimeline>();

/** The timeline of `calendar`, laid out once per process (a changed calendar gets a new one). */
export function timelineOf(calendar: Calendar): BusinessTimeline {
  const key = JSON.stringify(calendar);
  let timeline = timelines.get(key);
  if (!timeline) {
    if (timelines.size >= KEPT) timelines.clear();
    timeline = new BusinessTimeline(calendar);
    timelines.set(key, timeline);
  }
  return timeline;
}
