import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.js';
import { withDatabase } from '../helpers/database.js';

// A server killed with SIGKILL right after acknowledging writes (issue 21): every change that was committed, answered
// or not, has its audit entry, exactly one. The entry is written in the change's own transaction, so there is no
// moment between the commit and the audit at which a crash could lose it.
const root = path.resolve(import.meta.dirname, '../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-audit-crash-'));
const adminUrl = process.env.TEST_DATABASE_URL;
const databaseName = `stageline_audit_crash_${process.pid}_${randomBytes(4).toString('hex')}`;
const databaseUrl = adminUrl ? withDatabase(adminUrl, databaseName) : null;
const dataDir = path.join(work, 'data');
const token = 'audit-crash-token-0123456789';
const children: ChildProcess[] = [];

async function onServer(statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
  if (databaseUrl) await onServer(`drop database if exists ${pg.escapeIdentifier(databaseName)} with (force)`);
});

function start(): Promise<{ child: ChildProcess; base: string; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_API_TOKEN: token,
      RATE_LIMIT_MAX: '0',
      LOG_LEVEL: 'info',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 90 s:\n${output}`)), 90_000);
    const check = setInterval(() => {
      const match = /"port":(\d+)/.exec(output);
      if (match) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ child, base: `http://127.0.0.1:${match[1]}`, exited });
      }
    }, 50);
    void exited.then(() => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`the server exited before listening:\n${output}`));
    });
  });
}

test('SIGKILL right after acknowledged writes: every committed change has exactly one audit entry', async () => {
  if (databaseUrl) await onServer(`create database ${pg.escapeIdentifier(databaseName)}`);
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
