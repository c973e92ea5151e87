import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TProperties } from 'typebox';
import { invalid } from '../errors.js';
import { ErrorBody } from './envelope.js';

/** What the older faces answer besides 2xx (their list, read and write routes alike). */
export const legacyErrors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 412: ErrorBody };

/** An older face's list query: the API list's filters, and a `limit` up to `LEGACY_LIST_LIMIT`. */
export function legacyListQuery<P extends TProperties>(filters: P, maxLimit: number) {
  return Type.Object({ ...filters, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: maxLimit })) });
}

export const legacyListSummary = (things: string, maxLimit: number) =>
  `All ${things} as a bare array (newest ${maxLimit} per page; X-Total-Count and Link headers)`;

/**
 * The older systems answered bare arrays; we keep that and page through headers instead, so an old
 * client gets a plain array and a new one can follow `Link: <…>; rel="next"`.
 */
export function setLegacyPageHeaders(
  request: FastifyRequest,
  reply: FastifyReply,
  page: { items: readonly unknown[]; total?: number | null; nextCursor: string | null },
): void {
  reply.header('x-total-count', String(page.total ?? page.items.length));
  if (!page.nextCursor) return;
  const url = new URL(request.url, 'http://placeholder');
  url.searchParams.set('cursor', page.nextCursor);
  reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
}

/** Old clients may send anything; only a JSON object is a body we can read. */
export function legacyBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    invalid([{ field: 'body', problem: 'must be a JSON object' }]);
  }
  return body as Record<string, unknown>;
}

/** Go clients send zero values ("" and 0001-01-01T00:00:00Z) for fields they did not set. */
export function isGoZero(value: unknown): boolean {
  return value === '' || (typeof value === 'string' && value.startsWith('0001-01-01T00:00:00'));
}
