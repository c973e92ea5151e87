const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

/** "3 h 20 m", "2 d 4 h", "45 s": the two largest units, for times in a stage or late. */
export function formatDuration(ms: number): string {
  const value = Math.abs(ms);
  if (value < minute) return `${Math.round(value / 1000)} s`;
  if (value < hour) return `${Math.floor(value / minute)} m`;
  if (value < day) {
    const m = Math.floor((value % hour) / minute);
    return `${Math.floor(value / hour)} h${m ? ` ${m} m` : ''}`;
  }
  const h = Math.floor((value % day) / hour);
  return `${Math.floor(value / day)} d${h ? ` ${h} h` : ''}`;
}

/** "5 min ago", "in 2 h": relative to now, in the viewer's language. */
export function formatRelative(iso: string, now = Date.now()): string {
  const diff = new Date(iso).getTime() - now;
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
  const abs = Math.abs(diff);
  if (abs < minute) return format.format(Math.round(diff / 1000), 'second');
  if (abs < hour) return format.format(Math.round(diff / minute), 'minute');
  if (abs < day) return format.format(Math.round(diff / hour), 'hour');
  return format.format(Math.round(diff / day), 'day');
}

// dateStyle/timeStyle cannot be combined with timeZoneName, hence the separate fields.
const exactFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});

/** The exact moment in the viewer's time zone, e.g. for a tooltip. */
export function formatExact(iso: string): string {
  return exactFormat.format(new Date(iso));
}
