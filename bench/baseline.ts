/** The yardstick: a bare Fastify route answering constant JSON, loaded the same way as Stageline's routes. */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ success: true, message: 'ok', data: { hello: 'world' }, timestamp: '2026-01-01T00:00:00.000Z' }));
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(`listening ${(app.server.address() as { port: number }).port}`);
