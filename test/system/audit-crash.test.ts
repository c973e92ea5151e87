import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.js';
import { withDatabase } from '../helpers/database.js';
import { onPostgres, startServerProcess, type ServerProcess } from '../helpers/server-process.js';

// A server killed with SIGKILL right after acknowledging writes (issue 21): every change that was committed, answered
// or not, has its audit entry, exactly one. The entry is written in the change's own transaction, so there is no
// moment between the commit and the audit at which a crash could lose it.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-audit-crash-'));
const adminUrl = process.env.TEST_DATABASE_URL;
const databaseName = `stageline_audit_crash_${process.pid}_${randomBytes(4).toString('hex')}`;
const databaseUrl = adminUrl ? withDatabase(adminUrl, databaseName) : null;
const dataDir = path.join(work, 'data');
const token = 'audit-crash-token-0123456789';
const children: ChildProcess[] = [];

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
  if (databaseUrl) await onPostgres(adminUrl, `drop database if exists ${pg.escapeIdentifier(databaseName)} with (force)`);
});

function start(): Promise<ServerProcess> {
  return startServerProcess(
    {
      ADMIN_API_TOKEN: token,
      RATE_LIMIT_MAX: '0',
      LOG_LEVEL: 'info',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir }),
    },
    children,
  );
}

test('SIGKILL right after acknowledged writes: every committed change has exactly one audit entry', async () => {
  if (databaseUrl) await onPostgres(adminUrl, `create database ${pg.escapeIdentifier(databaseName)}`);
  const server = await start();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const send = (method: string, url: string, body: unknown) =>
    fetch(`${server.base}${url}`, { method, headers, body: JSON.stringify(body) }).catch(() => null);

  const seed = await send('POST', '/api/tickets', { subject: 'patched while the server dies' });
  assert.equal(seed?.status, 201);
  const seedId = ((await seed!.json()) as { data: { id: string } }).data.id;

  // Writers keep creating and changing tickets; the server is killed the moment the tenth create is acknowledged,
  // with other writes in flight (some committed and unanswered, some not committed).
  const acknowledged: string[] = [];
  let patches = 0;
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    server.child.kill('SIGKILL');
  };
  const creator = async (n: number) => {
    for (let i = 0; !killed; i++) {
      const res = await send('POST', '/api/tickets', { subject: `writer ${n} ticket ${i}` });
      if (res?.status !== 201) continue;
      acknowledged.push(((await res.json()) as { data: { id: string } }).data.id);
      if (acknowledged.length >= 10) kill();
    }
  };
  const patcher = async () => {
    for (let i = 0; !killed; i++) {
      const res = await send('PATCH', `/api/tickets/${seedId}`, { subject: `patched ${i}` });
      if (res?.status === 200) patches++;
    }
  };
  await Promise.all([creator(1), creator(2), creator(3), patcher()]);
  await server.exited;
  assert.ok(acknowledged.length >= 10);

  const database: Database = databaseUrl ? await openDatabase({ databaseUrl, poolSize: 1 }) : await openDatabase({ dataDir });
  try {
    const tickets = await database.db.selectFrom('tickets').select('id').where('id', '<>', seedId).execute();
    const created = await database.db
      .selectFrom('audit_log')
      .select(['target_id', (eb) => eb.fn.countAll<string>().as('n')])
      .where('action', '=', 'ticket.created')
      .where('target_id', '<>', seedId)
      .groupBy('target_id')
      .execute();
    const entries = new Map(created.map((row) => [row.target_id, Number(row.n)]));
    const stored = new Set(tickets.map((row) => row.id));
    for (const id of acknowledged) assert.ok(stored.has(id), `acknowledged ticket ${id} survives`);
    for (const id of stored) assert.equal(entries.get(id), 1, `ticket ${id} has one ticket.created entry`);
    for (const id of entries.keys()) assert.ok(stored.has(id!), `an entry for ${id} means its ticket was committed`);

    // Every committed update has its entry: each one changed the subject and wrote one history event.
    const [updates, events] = await Promise.all([
      database.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('action', '=', 'ticket.updated')
        .where('target_id', '=', seedId)
        .executeTakeFirstOrThrow(),
      database.db
        .selectFrom('ticket_events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('ticket_id', '=', seedId)
        .where('type', '=', 'field_changed')
        .executeTakeFirstOrThrow(),
    ]);
    assert.ok(Number(updates.n) >= patches, `${updates.n} entries for ${patches} acknowledged updates`);
    assert.equal(Number(updates.n), Number(events.n), 'one entry per committed update');
  } finally {
    await database.close();
  }
});
