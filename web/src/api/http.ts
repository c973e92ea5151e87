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

export type Query = Record<string, unknown>;

/** Query values the server reads as absent are left out, as a form would (no `?q=&status=`); arrays repeat the key. */
export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    for (const item of [value].flat()) params.append(key, String(item));
  }
  return params.toString();
}

/** A plain link with its query (downloads); API calls go through `api` in client.ts. */
export function withQuery(path: string, query: Query = {}): string {
  const text = queryString(query);
  return text ? `${path}?${text}` : path;
}
