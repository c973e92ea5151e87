import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { isDatabaseUnavailable } from '../db/availability.js';
import { isOutOfStorage } from '../db/storage.js';
import { AppError, errorStatus, type ErrorCode, type ErrorDetail } from '../errors.js';

type AjvError = {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
};

const locationNames: Record<string, string> = { body: '', querystring: '', params: '', headers: 'header ' };

function fieldOf(error: AjvError, context: string): string {
  const path = (error.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const leaf = (error.params?.missingProperty as string | undefined) ?? (error.params?.additionalProperty as string | undefined);
  const field = [path, leaf].filter(Boolean).join('.');
  return `${locationNames[context] ?? ''}${field || context}`;
}

function problemOf(error: AjvError): string {
  if (error.keyword === 'additionalProperties') return 'is not a known field';
  if (error.keyword === 'required') return 'is required';
  if (error.keyword === 'enum' && Array.isArray(error.params?.allowedValues)) {
    return `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
  }
  if (error.keyword === 'format') return `must be a valid ${String(error.params?.format)}`;
  return error.message ?? 'is invalid';
}

/** Schema errors → one detail per bad field, deduplicated (a union reports each branch). */
export function validationDetails(errors: AjvError[], context: string): ErrorDetail[] {
  const seen = new Map<string, ErrorDetail>();
  for (const error of errors) {
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const detail = { field: fieldOf(error, context), problem: problemOf(error) };
    if (!seen.has(detail.field)) seen.set(detail.field, detail);
  }
  if (seen.size === 0) return [{ field: context, problem: 'is invalid' }];
  return [...seen.values()];
}

const statusCodes = new Map<number, ErrorCode>(Object.entries(errorStatus).map(([code, status]) => [status, code as ErrorCode]));

// PostgreSQL errors a client's input can still cause despite validation (races, odd values).
const postgresCodes: Record<string, { code: ErrorCode; message: string }> = {
  '23505': { code: 'CONFLICT', message: 'that value is already taken' },
  '23503': { code: 'CONFLICT', message: 'a referenced record does not exist or is still referenced' },
  '23514': { code: 'VALIDATION_FAILED', message: 'a value breaks a rule of the data' },
  '22001': { code: 'VALIDATION_FAILED', message: 'a value is too long' },
  '22007': { code: 'VALIDATION_FAILED', message: 'a date/time value is invalid' },
  '22008': { code: 'VALIDATION_FAILED', message: 'a date/time value is out of range' },
  '22P02': { code: 'VALIDATION_FAILED', message: 'a value has the wrong form' },
  // Input the checks before validation (http/input-guard.ts) missed: text or numbers the database cannot hold.
  '22003': { code: 'VALIDATION_FAILED', message: 'a number is out of the range the data can hold' },
  '22021': { code: 'VALIDATION_FAILED', message: 'a value holds characters the database cannot store (NUL, invalid UTF-8)' },
  '22P05': { code: 'VALIDATION_FAILED', message: 'a value holds characters the database cannot store (NUL, invalid UTF-8)' },
  '22023': { code: 'VALIDATION_FAILED', message: 'a value is not one the database accepts' },
  '22025': { code: 'VALIDATION_FAILED', message: 'a value holds an invalid escape sequence' },
  '2201B': { code: 'VALIDATION_FAILED', message: 'a pattern is not a valid regular expression' },
  '54000': { code: 'VALIDATION_FAILED', message: 'a value is too long to be stored or compared' },
  '54001': { code: 'VALIDATION_FAILED', message: 'the request is too complex; ask for fewer values at once' },
  '40001': { code: 'CONFLICT', message: 'a concurrent change got in the way; try again' },
  '40P01': { code: 'CONFLICT', message: 'a concurrent change got in the way; try again' },
};

// Out of storage (SQLSTATE class 53, e.g. 53100 disk full): the database cannot take the write.
const storageFull = {
  code: 'INSUFFICIENT_STORAGE' as const,
  message: 'the database is out of storage (disk full): nothing was saved; writes work again once space is freed on its disk',
};

export function errorBody(code: ErrorCode | string, message: string, details: ErrorDetail[], extra: Record<string, unknown> = {}) {
  return { success: false as const, message, error: { code, details }, ...extra, timestamp: new Date().toISOString() };
}

/** Seconds a client is asked to wait before trying again while the database is away. */
const databaseRetryAfterSeconds = 5;

/** 503 + Retry-After: the database is away, the request may succeed later (the outage itself is logged once, by the database). */
export function sendDatabaseUnavailable(reply: FastifyReply) {
  return reply
    .status(errorStatus.DATABASE_UNAVAILABLE)
    .header('retry-after', String(databaseRetryAfterSeconds))
    .send(errorBody('DATABASE_UNAVAILABLE', 'the database cannot be reached right now; try again shortly', []));
}

/** One handler turns every failure into the error envelope, on both faces. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { code?: string }, request, reply) => {
    if (error instanceof AppError) {
      return reply.status(error.statusCode).send(errorBody(error.code, error.message, error.details, error.extra));
    }
    if (error.validation) {
      const details = validationDetails(error.validation as AjvError[], error.validationContext ?? 'body');
      const message =
        details.length === 1
          ? `${details[0].field}: ${details[0].problem}`
          : `invalid input: ${details.map((d) => `${d.field} ${d.problem}`).join('; ')}`;
      return reply.status(400).send(errorBody('VALIDATION_FAILED', message, details));
    }
    if (isDatabaseUnavailable(error)) {
      request.log.debug({ err: error }, 'database unavailable');
      return sendDatabaseUnavailable(reply);
    }
    const pgCode = isOutOfStorage(error) ? storageFull : typeof error.code === 'string' ? postgresCodes[error.code] : undefined;
    if (pgCode) {
      request.log[pgCode === storageFull ? 'warn' : 'info']({ err: error }, 'database rejected a request');
      const status = errorStatus[pgCode.code];
      return reply.status(status).send(errorBody(pgCode.code, pgCode.message, []));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = statusCodes.get(status) ?? 'VALIDATION_FAILED';
      const field = status === 415 ? 'header content-type' : status === 413 || status === 400 ? 'body' : 'request';
      return reply.status(status).send(errorBody(code, error.message, [{ field, problem: error.message }]));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL', `internal error (request ${request.id})`, []));
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`, []));
  });
}
