import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid, type ErrorDetail } from '../errors.js';

/** PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate has no UTF-8 form: both fail (or are mangled) in SQL. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function problemOf(text: string): string {
  return text.includes('\u0000') ? 'must not contain NUL characters' : 'must be valid Unicode text (it holds a lone surrogate)';
}

/** Every string (and object key) in a parsed value that the database could not store, by dotted path. */
function unstorable(value: unknown, path: string, found: ErrorDetail[]): void {
  if (found.length >= 20) return;
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value)) found.push({ field: path, problem: problemOf(value) });
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) found.push({ field: path, problem: 'must be a finite number' });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => unstorable(item, path ? `${path}.${index}` : String(index), found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const field = path ? `${path}.${key}` : key;
      if (UNSTORABLE.test(key)) found.push({ field, problem: `is not a usable field name: ${problemOf(key)}` });
      else unstorable(item, field, found);
    }
  }
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text.replace(/\+/g, ' '));
    return true;
  } catch {
    return false;
  }
}

/** Query parameters whose percent-encoding is not UTF-8 (`%C0%AE`, `%FF`): the parser keeps them raw, unnoticed. */
function undecodableQuery(url: string): ErrorDetail[] {
  const start = url.indexOf('?');
  if (start < 0) return [];
  const found: ErrorDetail[] = [];
  for (const pair of url.slice(start + 1).split('&')) {
    const [key, value = ''] = pair.split('=', 2);
    if (decodes(key) && decodes(value)) continue;
    found.push({
      field: decodes(key) ? decodeURIComponent(key.replace(/\+/g, ' ')) : 'query',
      problem: 'is not valid percent-encoded UTF-8',
    });
  }
  return found;
}

/**
 * Names the path parameter a URL the router could not decode (`/api/tickets/%C0%AE`) was meant to fill, by matching
 * the URL again with the bad segments replaced; `url` when no route takes it.
 */
export function undecodablePathDetails(request: FastifyRequest): ErrorDetail[] {
  const [path] = request.url.split('?');
  const segments = path.split('/');
  const placeholders = new Map<string, number>();
  const probe = segments.map((segment, index) => {
    if (decodes(segment)) return segment;
    placeholders.set(`undecodable-${index}`, index);
    return `undecodable-${index}`;
  });
  const route = request.server.findRoute({ method: request.method as 'GET', url: probe.join('/') });
  const names = Object.entries((route?.params ?? {}) as Record<string, string>)
    .filter(([, value]) => placeholders.has(value))
    .map(([name]) => name);
  const problem = 'is not valid percent-encoded UTF-8';
  return names.length > 0 ? names.map((field) => ({ field, problem })) : [{ field: 'url', problem }];
}

/**
 * One check over every request's query, path parameters, headers and parsed body, before schema validation:
 * input PostgreSQL cannot store or compare answers 400 naming the field, on every route of both faces.
 */
export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    const found = undecodableQuery(request.url);
    unstorable(request.query, '', found);
    unstorable(request.params, '', found);
    const headers = request.headers;
    for (const name in headers) {
      const value = headers[name];
      if (typeof value === 'string' && UNSTORABLE.test(value)) found.push({ field: `header ${name}`, problem: problemOf(value) });
    }
    unstorable(request.body, typeof request.body === 'string' ? 'body' : '', found);
    // Thrown: Fastify answers a hook's synchronous throw like a rejected one.
    if (found.length > 0) invalid(found);
    done();
  });
}
