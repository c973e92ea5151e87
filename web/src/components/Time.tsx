import { useEffect, useState } from 'react';
import { formatExact, formatRelative } from '../lib/time';

/** Ticks every 30 s so relative times stay true on a dashboard left open. */
export function useNow(intervalMs = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** A relative time with the exact moment, in the viewer's time zone, on hover. */
export function Time({ iso, now }: { iso: string | null | undefined; now?: number }) {
  const tick = useNow();
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatExact(iso)}>
      {formatRelative(iso, now ?? tick)}
    </time>
  );
}
