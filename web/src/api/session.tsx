import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, type ReactNode } from 'react';
import { api, dataOf } from './client';
import { ApiError } from './http';
import type { Me, Role } from './types';

type Session = { me: Me | null; loading: boolean; error: unknown; logout(): Promise<void> };

const SessionContext = createContext<Session>({ me: null, loading: true, error: null, logout: async () => {} });

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['me'],
    queryFn: async () => (await dataOf(api.GET('/api/me'))).user,
    staleTime: 60_000,
  });
  const unauthenticated = query.error instanceof ApiError && query.error.status === 401;
  const session: Session = {
    me: query.data ?? null,
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

/** What each role may do in the dashboard; the server decides again on every request. */
export const may = {
  write: (role: Role | undefined) => role === 'admin' || role === 'agent',
  admin: (role: Role | undefined) => role === 'admin',
  seeInternals: (role: Role | undefined) => role !== 'customer',
};
