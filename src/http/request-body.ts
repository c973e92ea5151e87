import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors.js';

/** A body still arriving after its answer is read and thrown away up to this much, then the connection is cut. */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
const DISCARD_MAX_MS = 30_000;

/**
 * Reads and discards the rest of a body whose answer went out before it was all received (over the limit, refused
 * before parsing). Node closes a `Connection: close` answer's socket as soon as the answer is written; a socket closed
 * with unread input is reset, and a client still sending then sees EPIPE instead of the answer. So only our sending
 * half is closed at first, the socket once the body is in (a lingering close), bounded in bytes and time.
 */
function discardRestOfBody(raw: IncomingMessage): void {
  const socket = raw.socket;
  let discarded = 0;
  const cut = () => socket.destroy();
  const timer = setTimeout(cut, DISCARD_MAX_MS).unref();
  raw.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_MAX_BYTES) cut();
  });
  raw.once('close', () => clearTimeout(timer));
  raw.resume();
  socket.destroySoon = () => {
    socket.end();
    if (raw.complete) socket.destroy();
    else raw.once('end', cut);
  };
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * How request bodies are read: JSON that must be UTF-8, a 415 for a body of a type the route does not take
 * (before it is read), and a readable answer for a client still sending an oversized body.
 */
export function registerRequestBodies(app: FastifyInstance): void {
  // Old clients send `Content-Type: application/json` with an empty body on DELETE; that is no body, not bad JSON.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const buffer = body as Buffer;
    if (!isUtf8(buffer)) {
      done(new AppError('VALIDATION_FAILED', 'body: must be UTF-8 encoded JSON', [{ field: 'body', problem: 'is not valid UTF-8' }]));
      return;
    }
    const text = buffer.toString('utf8');
    if (text === '' || (text.trim() === '' && request.method === 'DELETE')) {
      done(null, undefined);
      return;
    }
    void jsonParser(request, text, done);
  });

  // Hooks with a callback: an async one costs a promise and a microtask on every request, body or not.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const schema = request.routeOptions.schema;
    if (!schema?.body || !hasBody(request)) return done(null, payload);
    // `consumes` (also the route's OpenAPI request body types) lists what a route takes besides JSON.
    const accepted = schema.consumes ?? ['application/json'];
    const sent = request.headers['content-type'];
    const type = (sent ?? '').split(';')[0].trim().toLowerCase();
    if (accepted.includes(type)) return done(null, payload);
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      `this route takes ${accepted.join(' or ')}, not ${sent ? type || 'an empty Content-Type' : 'a body without Content-Type'}`,
      [{ field: 'header content-type', problem: `must be ${accepted.join(' or ')}` }],
    );
  });

  app.addHook('onSend', (request, _reply, payload, done) => {
    // `complete` is Node's: false while a body is still arriving on the socket (injected requests have neither).
    if (request.raw.complete === false && !request.raw.destroyed) discardRestOfBody(request.raw);
    done(null, payload);
  });
}
