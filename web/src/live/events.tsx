import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';

export type LiveStatus = 'connecting' | 'live' | 'offline';
type Live = { status: LiveStatus; changed: ReadonlySet<string> };

const LiveContext = createContext<Live>({ status: 'offline', changed: new Set() });

// The event names the stream uses; unnamed events arrive as `message`.
const eventNames = ['message', 'change', 'ticket', 'stage', 'history', 'event'];
const highlightMs = 4000;

/** The ids of tickets an event is about, wherever the payload keeps them. */
function ticketIdsOf(payload: unknown): string[] {
  if (!payload || typeof payload !== 'object') return [];
  const record = payload as Record<string, unknown>;
  const ids = new Set<string>();
  for (const key of ['ticket_id', 'ticketId']) if (typeof record[key] === 'string') ids.add(record[key] as string);
  if (record.entity === 'ticket' && typeof record.entity_id === 'string') ids.add(record.entity_id);
  if (record.entity === 'ticket' && typeof record.id === 'string') ids.add(record.id);
  for (const nested of ['data', 'ticket', 'payload']) for (const id of ticketIdsOf(record[nested])) ids.add(id);
  return [...ids];
}

/**
 * Keeps one Server-Sent Events stream open while the dashboard is: every change refreshes the data on screen
 * (throttled) and marks the tickets it touched for a quiet highlight. Reconnects with backoff when the stream
 * closes for good (the browser retries transient drops itself, resuming with Last-Event-ID).
 */
export function LiveProvider({ children, enabled }: { children: ReactNode; enabled: boolean }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [changed, setChanged] = useState<ReadonlySet<string>>(new Set());
  const pending = useRef<{ timer?: ReturnType<typeof setTimeout>; ids: Set<string> }>({ ids: new Set() });

  useEffect(() => {
    if (!enabled) return;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempts = 0;
    let stopped = false;

    const flush = () => {
      const ids = pending.current.ids;
      pending.current = { ids: new Set() };
      void queryClient.invalidateQueries();
      if (ids.size === 0) return;
      setChanged((current) => new Set([...current, ...ids]));
      setTimeout(() => setChanged((current) => new Set([...current].filter((id) => !ids.has(id)))), highlightMs);
    };
    const onEvent = (event: MessageEvent<string>) => {
      let payload: unknown;
      try {
        payload = JSON.parse(event.data);
      } catch {
        return; // a comment or keep-alive
      }
      for (const id of ticketIdsOf(payload)) pending.current.ids.add(id);
      pending.current.timer ??= setTimeout(flush, 400);
    };
    const connect = () => {
      setStatus('connecting');
      source = new EventSource('/api/events', { withCredentials: true });
      source.onopen = () => {
        attempts = 0;
        setStatus('live');
      };
      source.onerror = () => {
        if (source?.readyState === EventSource.CLOSED && !stopped) {
          setStatus('offline');
          source.close();
          retry = setTimeout(connect, Math.min(30_000, 1000 * 2 ** attempts++) * (0.5 + Math.random() / 2));
        } else {
          setStatus('connecting');
        }
      };
      for (const name of eventNames) source.addEventListener(name, onEvent as EventListener);
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(pending.current.timer);
      source?.close();
    };
  }, [enabled, queryClient]);

  return <LiveContext.Provider value={{ status, changed }}>{children}</LiveContext.Provider>;
}

export const useLive = () => useContext(LiveContext);
