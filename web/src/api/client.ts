import createClient, { type Middleware } from 'openapi-fetch';
import { noteServerDate } from '../lib/clock';
import { queryString, toApiError } from './http';
import type { paths } from './schema';

/** Cookie-authenticated writes carry the CSRF token the server set in a readable cookie. */
function csrfToken(): string | undefined {
  const match = /(?:^|;\s*)stageline_csrf=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]) : undefined;
}

/**
 * What every dashboard call needs beyond the contract: JSON answers, the CSRF header on writes (the session
 * cookie goes along by itself), and any non-2xx answer thrown as an ApiError with the server's message — a 401
 * among them, which main.tsx turns into the login page.
 */
export const dashboardSession: Middleware = {
  onRequest({ request }) {
    request.headers.set('accept', 'application/json');
    const token = request.method === 'GET' || request.method === 'HEAD' ? undefined : csrfToken();
    if (token) request.headers.set('x-csrf-token', token);
    return request;
  },
  async onResponse({ response }) {
    noteServerDate(response.headers.get('date'));
    if (!response.ok) throw await toApiError(response);
    return response;
  },
};

/**
 * The Stageline API, typed from openapi.json (web/src/api/schema.d.ts): a path, parameter or field that is not in
 * the contract fails `npm run typecheck`.
 */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin', querySerializer: queryString });
api.use(dashboardSession);

export type Page = { limit: number; next_cursor: string | null; total?: number };

/** The envelope's `data` of a call that succeeded (a failed one has already thrown). */
export async function dataOf<D>(call: Promise<{ data?: { data: D } }>): Promise<D> {
  const { data } = await call;
  return data!.data;
}

/** A list answer's items and page. */
export async function pageOf<D>(call: Promise<{ data?: { data: D[]; page: Page } }>): Promise<{ items: D[]; page: Page }> {
  const { data } = await call;
  return { items: data!.data, page: data!.page };
}
