import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database, type Db } from '../../src/db/database.js';
import { loadDemoData } from '../../src/demo.js';
import { startOpsSim } from '../../src/ops-sim/server.js';
import { onPostgres } from '../helpers/server-process.js';

// `npm run backup` / `npm run restore` as an operator runs them, on the database this run tests (embedded PGlite,
// or the PostgreSQL server with TEST_DATABASE_URL): fill, back up, wipe, restore, and every row is back.
const root = path.resolve(import.meta.dirname, '../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-backup-'));
const adminUrl = process.env.TEST_DATABASE_URL;
const databaseName = `stageline_backup_${process.pid}_${randomBytes(4).toString('hex')}`;
const databaseUrl = adminUrl ? withDatabase(adminUrl, databaseName) : null;
const dataDir = path.join(work, 'data');
const target: Record<string, string> = databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir };
const token = 'backup-test-token-0123456789';
const backupFile = path.join(work, databaseUrl ? 'stageline.pgdump' : 'stageline.tar.gz');

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** An empty database (a new server database, or no data directory at all). */
async function wipe(): Promise<void> {
  if (databaseUrl) {
    await onPostgres(adminUrl, `drop database if exists ${pg.escapeIdentifier(databaseName)} with (force)`);
    await onPostgres(adminUrl, `create database ${pg.escapeIdentifier(databaseName)}`);
  } else {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function open(): Promise<Database> {
  return databaseUrl ? openDatabase({ databaseUrl, poolSize: 3 }) : openDatabase({ dataDir });
}

/** `npm run <script> -- args` with only the target database configured, as an operator would. */
function npm(script: 'backup' | 'restore', ...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...target },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

/** Per table: row count and a checksum of every row (order-free); per sequence its position. */
async function fingerprint(db: Db): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }>`
    select quote_ident(table_schema) || '.' || quote_ident(table_name) as name from information_schema.tables
     where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1`.execute(db);
  const result: Record<string, string> = {};
  for (const { name } of tables.rows) {
    const { rows } = await sql<{ n: number; sum: string }>`
      select count(*)::int as n, coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '') as sum
        from ${sql.raw(name)} t`.execute(db);
    result[name] = `${rows[0].n} rows ${rows[0].sum}`;
  }
  const sequences = await sql<{ name: string; last_value: number | null }>`
    select schemaname || '.' || sequencename as name, last_value from pg_sequences
     where schemaname not in ('pg_catalog', 'information_schema')`.execute(db);
  for (const { name, last_value } of sequences.rows) result[`sequence ${name}`] = String(last_value);
  return result;
}

function rows(print: Record<string, string>, table: string): number {
  return Number(/^(\d+) rows/.exec(print[`public.${table}`] ?? '')?.[1] ?? -1);
}

let sim: Awaited<ReturnType<typeof startOpsSim>>;
let database: Database;
let before_: Record<string, string>;

before(async () => {
  if (databaseUrl) await onPostgres(adminUrl, `create database ${pg.escapeIdentifier(databaseName)}`);
  sim = await startOpsSim({ seed: 7, sendFailureRate: 0, queryFailureRate: 0 });
  database = await open();
});

after(async () => {
  await database.close();
  await sim.close();
  if (databaseUrl) await onPostgres(adminUrl, `drop database if exists ${pg.escapeIdentifier(databaseName)} with (force)`);
  fs.rmSync(work, { recursive: true, force: true });
});

test('fill through the API: tickets, stages, history, OPS log', async () => {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    ADMIN_API_TOKEN: token,
    PASSWORD_HASH_COST: '4',
    RATE_LIMIT_MAX: '0',
    OPS_URL: sim.url,
    OPS_WAIT_MS: '10000',
    ...target,
  });
  const app = await buildApp({ config, database, logger: false });
  try {
    await loadDemoData(app, { tickets: 30 });
    const headers = { authorization: `Bearer ${token}` };
    for (let i = 0; i < 3; i++) {
      const stage = await app.inject({ method: 'POST', url: '/api/stages', headers, payload: { stage_type: 'major' } });
      assert.equal(stage.statusCode, 201, stage.body);
      const payload = { subject: `Backed up ${i}`, stages: [stage.json().data.id] };
      const ticket = await app.inject({ method: 'POST', url: '/api/tickets', headers, payload });
      assert.equal(ticket.statusCode, 201, ticket.body);
      const id = ticket.json().data.id as string;
      const sent = await app.inject({ method: 'POST', url: `/api/ops/${id}`, headers });
      assert.equal(sent.statusCode, 200, sent.body);
    }
    const legacy = await app.inject({
      method: 'POST',
      url: '/tickets',
      headers,
      payload: { subject: 'From the old client', customer: { name: 'Globex', email: 'noc@globex.example' } },
    });
    assert.equal(legacy.statusCode, 201, legacy.body);
  } finally {
    await app.close();
  }
  before_ = await fingerprint(database.db);
  assert.ok(rows(before_, 'tickets') >= 34, before_['public.tickets']);
  for (const table of ['stages', 'ticket_stages', 'ticket_events', 'log_entries', 'projects', 'users']) {
    assert.ok(rows(before_, table) > 0, `${table} has rows: ${before_[`public.${table}`]}`);
  }
});

test('backup: embedded refuses while the database is in use; a server backup is taken live', async () => {
  const result = await npm('backup', '--out', backupFile);
  if (databaseUrl) {
    assert.equal(result.code, 0, result.output);
  } else {
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /already in use by Stageline process \d+ \(.*\): stop the Stageline server first/);
    assert.ok(!fs.existsSync(backupFile), 'no file from a refused backup');
    await database.close();
    const stopped = await npm('backup', '--out', backupFile);
    assert.equal(stopped.code, 0, stopped.output);
  }
  const head = fs.readFileSync(backupFile).subarray(0, 5);
  assert.ok(databaseUrl ? head.toString('latin1') === 'PGDMP' : head[0] === 0x1f && head[1] === 0x8b, 'custom-format dump or gzip');
  const again = await npm('backup', '--out', backupFile);
  assert.equal(again.code, 1);
  assert.match(again.output, /already exists; choose another --out/);
});

test('restore refuses a database in use, then fills a wiped one with every row', async () => {
  if (databaseUrl) {
    // As a running server does: a connection of its own that stays open (LISTEN), whatever the pool keeps.
    const unlisten = await database.listen('stageline_backup_test', () => {});
    const busy = await npm('restore', backupFile, '--clean');
    await unlisten();
    assert.equal(busy.code, 1, busy.output);
    assert.match(busy.output, /other session\(s\) are connected .*stop the Stageline server/);
    await database.close();
  }
  await wipe();
  const restored = await npm('restore', backupFile);
  assert.equal(restored.code, 0, restored.output);
  database = await open();
  assert.deepEqual(await fingerprint(database.db), before_);
});

test('restore into a database with data needs --clean, which replaces it whole', async () => {
  await database.db.deleteFrom('log_entries').execute();
  await database.close();
  const refused = await npm('restore', backupFile);
  assert.equal(refused.code, 1, refused.output);
  assert.match(refused.output, databaseUrl ? /is not empty: .* add --clean/ : /already holds a database: .* add --clean/);

  const clean = await npm('restore', backupFile, '--clean');
  assert.equal(clean.code, 0, clean.output);
  if (!databaseUrl) {
    const kept = /kept in (\S+);/.exec(clean.output)?.[1];
    assert.ok(kept && fs.existsSync(path.join(kept, 'PG_VERSION')), clean.output);
  }
  database = await open();
  assert.deepEqual(await fingerprint(database.db), before_);
});

test('a file that is not a backup, or one for the other database, is refused before anything changes', async () => {
  const junk = path.join(work, 'notes.txt');
  fs.writeFileSync(junk, 'not a backup');
  const untouched = await fingerprint(database.db);
  const notBackup = await npm('restore', junk, '--clean');
  assert.equal(notBackup.code, 1);
  assert.match(notBackup.output, /is not a Stageline backup/);
  const other = path.join(work, 'other');
  fs.writeFileSync(other, databaseUrl ? Buffer.from([0x1f, 0x8b, 8, 0, 0]) : 'PGDMP');
  const wrongKind = await npm('restore', other, '--clean');
  assert.equal(wrongKind.code, 1);
  assert.match(wrongKind.output, databaseUrl ? /embedded-database backup: unset DATABASE_URL/ : /server backup: set DATABASE_URL/);
  const usage = await npm('restore');
  assert.equal(usage.code, 2);
  assert.match(usage.output, /usage: npm run backup/);
  assert.deepEqual(await fingerprint(database.db), untouched);
});
