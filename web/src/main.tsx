import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App';
import { ApiError } from './api/http';
import './styles.css';

const base = import.meta.env.BASE_URL;

/** A session that ended (expired, signed out elsewhere, user disabled) sends the viewer to sign in again. */
function signInAgain(error: unknown) {
  const path = window.location.pathname;
  if (!(error instanceof ApiError) || error.status !== 401 || path === `${base}login`) return;
  const here = path.slice(base.length - 1) + window.location.search;
  window.location.assign(`${base}login?next=${encodeURIComponent(here)}`);
}

const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: signInAgain }),
  mutationCache: new MutationCache({ onError: signInAgain }),
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      refetchOnWindowFocus: true,
      // A 4xx will not change by asking again (a ticket that is not there, a role that may not); a 5xx might.
      retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter basename={import.meta.env.BASE_URL.replace(/\/$/, '')}>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
