import { useCallback } from 'react';
import { useSearchParams } from 'react-router';

/** Filters kept in the URL, so a link or reload shows the same view. */
export function useUrlState<K extends string>(keys: readonly K[]) {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(keys.map((key) => [key, params.get(key) ?? ''])) as Record<K, string>;
  const set = useCallback(
    (changes: Partial<Record<K, string>>) =>
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [key, value] of Object.entries(changes) as [string, string | undefined][]) {
            if (value) next.set(key, value);
            else next.delete(key);
          }
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  return [values, set] as const;
}

/** The monitoring filters every overview chart and list accepts. */
export const monitorFilterKeys = ['project', 'customer', 'assigned_to', 'priority', 'from', 'to'] as const;
export type MonitorFilters = Record<(typeof monitorFilterKeys)[number], string>;

/** Date inputs give local days; the API takes instants. */
export function monitorQuery(filters: MonitorFilters) {
  return {
    project: filters.project,
    customer: filters.customer,
    assigned_to: filters.assigned_to,
    priority: filters.priority,
    from: filters.from ? new Date(`${filters.from}T00:00:00`).toISOString() : undefined,
    to: filters.to ? new Date(`${filters.to}T23:59:59.999`).toISOString() : undefined,
  };
}
