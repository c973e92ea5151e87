import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalid } from '../errors.js';

/**
 * The older systems answered bare arrays; we keep that and page through headers instead, so an old
 * client gets a plain array and a new one can follow `Link: <…>; rel="next"`.
 */
export function setLegacyPageHeaders(request: FastifyRequest, reply: FastifyReply, total: number, nextCursor: string | null): void {
  reply.header('x-total-count', String(total));
  if (!nextCursor) return;
  const url = new URL(request.url, 'http://placeholder');
  url.searchParams.set('cursor', nextCursor);
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
