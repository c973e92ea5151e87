/** A failed API call: the status and the server's error envelope (message, code, per-field details). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly details: { field: string; problem: string }[] = [],
    readonly data?: unknown,
  ) {
    super(message);
  }
}

type ErrorEnvelope = {
  message?: string;
  error?: { code?: string; details?: { field: string; problem: string }[] };
  data?: unknown;
};

/** Cookie-authenticated writes carry the CSRF token the server set in a readable cookie. */
function csrfToken(): string | undefined {
  const match = /(?:^|;\s*)stageline_csrf=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]) : undefined;
}

export async function toApiError(response: Response): Promise<ApiError> {
  let body: ErrorEnvelope = {};
  try {
    body = (await response.json()) as ErrorEnvelope;
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(
    response.status,
    body.message ?? `${response.status} ${response.statusText}`,
    body.error?.code ?? 'HTTP_' + response.status,
    body.error?.details ?? [],
    body.data,
  );
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** The request headers every call sends: JSON, and the CSRF token on writes. */
export function requestHeaders(method: string, hasBody: boolean): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (hasBody) headers['content-type'] = 'application/json';
  const token = method === 'GET' ? undefined : csrfToken();
  if (token) headers['x-csrf-token'] = token;
  return headers;
}

export type Envelope<T> = { success: true; message: string; data: T; timestamp: string };
export type Page = { limit: number; next_cursor: string | null; total?: number };
export type ListEnvelope<T> = Envelope<T[]> & { page: Page };

/** One call to the Stageline API: unwraps the envelope, throws ApiError on any non-2xx. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<Envelope<T> | ListEnvelope<never>> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: requestHeaders(method, body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await toApiError(response);
  if (response.status === 204) return { success: true, message: 'done', data: undefined as T, timestamp: '' };
  return (await response.json()) as Envelope<T>;
}

export async function getData<T>(path: string, query?: Query): Promise<T> {
  return ((await call<T>('GET', withQuery(path, query))) as Envelope<T>).data;
}

export async function getList<T>(path: string, query?: Query): Promise<{ items: T[]; page: Page }> {
  const answer = (await call<T[]>('GET', withQuery(path, query))) as unknown as ListEnvelope<T>;
  return { items: answer.data, page: answer.page };
}

export async function send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return ((await call<T>(method, path, body)) as Envelope<T>).data;
}
