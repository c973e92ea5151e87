import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, type ReactNode } from 'react';
import { api, dataOf } from './client';
import { ApiError } from './http';
import type { Me } from './types';

/**
 * What the signed-in person may do, as the server's one permission policy says (`abilities` in `GET /api/me`):
 * `ticket:update`, `ticket:transition`, `ticket:comment`, `project:read`, `monitor:read`, `ops:send`, …
 */
export type Ability = string;

type Session = {
  me: Me | null;
  abilities: ReadonlySet<Ability>;
  loading: boolean;
  error: unknown;
  logout(): Promise<void>;
};

const SessionContext = createContext<Session>({
  me: null,
  abilities: new Set(),
  loading: true,
  error: null,
  logout: async () => {},
});

const none: ReadonlySet<Ability> = new Set();

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      const data = await dataOf(api.GET('/api/me'));
      return { user: data.user, abilities: new Set<Ability>(data.abilities) as ReadonlySet<Ability> };
    },
    staleTime: 60_000,
  });
  const unauthenticated = query.error instanceof ApiError && query.error.status === 401;
  const session: Session = {
    me: query.data?.user ?? null,
    abilities: query.data?.abilities ?? none,
    loading: query.isPending && !query.isError,
    error: unauthenticated ? null : query.error,
    async logout() {
      await api.POST('/api/auth/logout').catch(() => undefined);
      queryClient.clear();
      window.location.assign(`${import.meta.env.BASE_URL}login`);
    },
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export const useSession = () => useContext(SessionContext);

/**
 * Whether the signed-in person may do `action`: the one place the dashboard asks. A control whose action is not
 * here is not shown, and a page that needs one says so instead of firing requests the server would refuse.
 */
export function useCan(action: Ability): boolean {
  return useContext(SessionContext).abilities.has(action);
}

/** All of the abilities at once, for code that decides several things (or outside a component's first render). */
export function useAbilities(): ReadonlySet<Ability> {
  return useContext(SessionContext).abilities;
}
