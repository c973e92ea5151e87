/**
 * The server's "now" as the browser sees it. Every API answer carries a `Date` header; the difference to the
 * browser's clock is kept (smoothed, to the second the header has), so "due in 2 h" and "5 m ago" are measured
 * against the clock that wrote the times, not a laptop's that runs minutes fast or slow.
 */
let offsetMs = 0;
let samples = 0;

/** Takes one `Date` header (HTTP date, whole seconds) observed at `receivedAt` (browser time). */
export function noteServerDate(header: string | null, receivedAt = Date.now()): void {
  if (!header) return;
  const server = Date.parse(header);
  if (Number.isNaN(server)) return;
  // The header drops the milliseconds: the server's moment was somewhere in [server, server + 1 s).
  const sample = server + 500 - receivedAt;
  offsetMs = samples === 0 ? sample : offsetMs + (sample - offsetMs) / Math.min(samples + 1, 8);
  samples++;
}

/** The browser clock's lag behind the server, in ms (positive: the browser is behind); 0 within a second. */
export function clockOffset(): number {
  return Math.abs(offsetMs) < 1000 ? 0 : Math.round(offsetMs);
}

/** Now, on the server's clock. */
export function serverNow(): number {
  return Date.now() + clockOffset();
}

/** For tests: forget what was learnt. */
export function resetClock(): void {
  offsetMs = 0;
  samples = 0;
}
