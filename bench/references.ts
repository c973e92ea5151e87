/**
 * The bench's two references (issue 19), measured in the same run as Stageline's endpoints so that a ratio to them
 * holds on any machine: bare Fastify routes on the bench's own database, with the server's driver (`pg` on a
 * PostgreSQL server, PGlite for the embedded database) and nothing else — no auth, no schema, no service.
 *   GET  /lookup/:id  the naive lookup: one `select * from tickets where id = $1`
 *   POST /insert      the lean insert: one `insert` into bench_reference.lean_tickets (a primary key, two btree indexes)
 *   GET  /ids         up to 200 open tickets' ids, the sample both the naive lookup and GET /api/tickets/:id read
 * Started by bench/run.ts with DATABASE_URL or DATA_DIR (never both servers on one PGlite data directory at once);
 * the reference schema is dropped when it stops.
 */
import { PGlite } from '@electric-sql/pglite';
import Fastify from 'fastify';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { pgliteOptions } from '../src/db/database.js';

type Query = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

async function connect(): Promise<{ query: Query; close: () => Promise<void> }> {
  if (process.env.DATABASE_URL) {
    // The same pool size as the server's (DATABASE_POOL_SIZE, default 20).
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE || 20) });
    return { query: async (text, params) => (await pool.query(text, params)).rows, close: () => pool.end() };
  }
  if (!process.env.DATA_DIR) throw new Error('set DATABASE_URL or DATA_DIR');
  const db = await PGlite.create({ dataDir: process.env.DATA_DIR, ...pgliteOptions() });
  return { query: async (text, params) => (await db.query<Record<string, unknown>>(text, params)).rows, close: () => db.close() };
}

const { query, close } = await connect();
await query('create schema if not exists bench_reference');
await query('drop table if exists bench_reference.lean_tickets');
await query(`create table bench_reference.lean_tickets (
  id uuid primary key, project text not null, status text not null, subject text not null, created_at timestamptz not null)`);
await query('create index lean_tickets_project on bench_reference.lean_tickets (project, created_at)');
await query('create index lean_tickets_status on bench_reference.lean_tickets (status, created_at)');

const app = Fastify({ logger: false });
app.get('/ids', async () =>
  (await query(`select id from tickets where status = 'open' order by created_at desc, id desc limit 200`)).map((row) => row.id),
);
app.get<{ Params: { id: string } }>('/lookup/:id', async (request, reply) => {
  const rows = await query('select * from tickets where id = $1', [request.params.id]);
  return rows[0] ?? reply.status(404).send({ error: 'not found' });
});
app.post<{ Body: { subject: string; project: string } }>('/insert', async (request, reply) => {
  const rows = await query(
    `insert into bench_reference.lean_tickets (id, project, status, subject, created_at) values ($1, $2, 'new', $3, now()) returning id`,
    [uuidv7(), request.body.project, request.body.subject],
  );
  return reply.status(201).send(rows[0]);
});
app.addHook('onClose', async () => {
  await query('drop schema bench_reference cascade');
  await close();
});
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(`listening ${(app.server.address() as { port: number }).port}`);
