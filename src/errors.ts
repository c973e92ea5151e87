export const errorStatus = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  /** A stage transition needs custom field values the ticket lacks (issue 25); details name them. */
  FIELDS_REQUIRED: 409,
  VERSION_MISMATCH: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UPSTREAM_UNAVAILABLE: 503,
  /** The database cannot be reached right now; the client should retry (answers carry Retry-After). */
  DATABASE_UNAVAILABLE: 503,
  /** The database has no room left to write (disk full); reads still work. */
  INSUFFICIENT_STORAGE: 507,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export type ErrorDetail = { field: string; problem: string };

/** The one error type services throw; the HTTP layer turns it into the error envelope. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Extra body members some answers carry (e.g. the allowed transitions, the last known status). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  get statusCode(): number {
    return errorStatus[this.code];
  }
}

export function fail(code: ErrorCode, message: string, details: ErrorDetail[] = []): never {
  throw new AppError(code, message, details);
}

export function notFound(what: string, id: string | number): never {
  throw new AppError('NOT_FOUND', `${what} ${id} does not exist`);
}

export function invalid(details: ErrorDetail[]): never {
  const message =
    details.length === 1
      ? `${details[0].field}: ${details[0].problem}`
      : `${details.length} fields are invalid: ${details.map((d) => d.field).join(', ')}`;
  throw new AppError('VALIDATION_FAILED', message, details);
}
