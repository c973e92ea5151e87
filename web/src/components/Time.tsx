import { useEffect, useState } from 'react';
import { serverNow } from '../lib/clock';
import { formatExact, formatMoment } from '../lib/format';

/** Now on the server's clock, ticking every 30 s so relative times stay true on a dashboard left open. */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(() => serverNow());
  useEffect(() => {
    const timer = setInterval(() => setNow(serverNow()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/**
 * A relative time with the exact moment, in the viewer's time zone, on hover. `past` (the default) is for moments
 * that have happened (created, updated, an event): never shown as in the future; `any` for due dates and forecasts.
 */
export function Time({ iso, now, kind = 'past' }: { iso: string | null | undefined; now?: number; kind?: 'past' | 'any' }) {
  const tick = useNow();
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatExact(iso)}>
      {formatMoment(iso, now ?? tick, kind)}
    </time>
  );
}
