import { useQueries, useQuery } from '@tanstack/react-query';
import { api, dataOf } from '../../api/client';
import type { SavedView } from '../../api/types';

/** Counts refresh with the live stream (every change refreshes what is on screen) and at least once a minute. */
const countRefreshMs = 60_000;

export function useViews() {
  return useQuery({ queryKey: ['views'], queryFn: () => dataOf(api.GET('/api/views', { params: { query: { limit: 200 } } })) });
}

export function useView(id: string) {
  return useQuery({
    enabled: id !== '',
    queryKey: ['views', id],
    queryFn: () => dataOf(api.GET('/api/views/{id}', { params: { path: { id } } })),
  });
}

/** How many tickets each view matches now, by view id (missing while it loads or when it failed). */
export function useViewCounts(views: readonly SavedView[]): Map<string, number> {
  const counts = useQueries({
    queries: views.map((view) => ({
      queryKey: ['view-count', view.id],
      queryFn: () => dataOf(api.GET('/api/views/{id}/count', { params: { path: { id: view.id } } })),
      refetchInterval: countRefreshMs,
    })),
  });
  return new Map(counts.flatMap((count) => (count.data ? [[count.data.view_id, count.data.count] as const] : [])));
}

/** Where a view opens: the list, or the board for a board view. */
export const viewPath = (view: Pick<SavedView, 'id' | 'layout'>) =>
  `/${view.layout === 'board' ? 'board' : 'tickets'}?view=${encodeURIComponent(view.id)}`;
