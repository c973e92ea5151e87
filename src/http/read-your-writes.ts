import type { FastifyInstance } from 'fastify';

/** Response header after a write, request header on reads: the primary's WAL position the client has seen. */
export const LSN_HEADER = 'stageline-lsn';

/**
 * With read replicas: after a successful write, the position of its commit is kept for its client (and sent in
 * `Stageline-LSN`), so that client's reads go to the primary until a replica has replayed it. A client spread over
 * several processes sends the header back on its reads for the same guarantee. Without replicas: nothing.
 */
export function registerReadYourWrites(app: FastifyInstance): void {
  if (app.database.replication() === null) return;
  app.addHook('preHandler', async (request) => {
    const seen = request.headers[LSN_HEADER];
    if (typeof seen === 'string' && request.actor) request.actor = { ...request.actor, readAfter: seen };
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'GET' || request.method === 'HEAD' || reply.statusCode >= 400) return payload;
    try {
      const lsn = await app.database.recordWrite(request.actor);
      if (lsn) reply.header(LSN_HEADER, lsn);
    } catch (error) {
      // The write is done; without its position this client may briefly read from a replica behind it.
      request.log.warn({ err: error }, 'could not read the WAL position after a write');
    }
    return payload;
  });
}
