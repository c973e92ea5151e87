/**
 * Backup and restore of the configured database (DATABASE_URL, else the embedded one in DATA_DIR):
 *   npm run backup -- [--out FILE]           PostgreSQL server: pg_dump custom format (.pgdump), taken live;
 *                                            embedded: PGlite's data directory as .tar.gz, the server stopped
 *   npm run restore -- FILE [--clean]        into an empty database; --clean replaces a database that has data
 * Exit codes: 0 done, 1 refused or failed (one clear message), 2 bad usage. See docs/backup.md.
 */
import { PGlite } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/config.js';
import { pgliteOptions } from '../src/db/database.js';
import { DataDirInUseError, lockDataDir } from '../src/db/lock.js';

const run = promisify(execFile);

export class BackupError extends Error {}

/** What a backup file holds, told by its first bytes, not its name. */
type BackupKind = 'postgres' | 'pglite';

function kindOf(file: string): BackupKind | null {
  const handle = fs.openSync(file, 'r');
  const head = Buffer.alloc(5);
  fs.readSync(handle, head, 0, 5, 0);
  fs.closeSync(handle);
  if (head.toString('latin1') === 'PGDMP') return 'postgres';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'pglite';
  return null;
}

/**
 * libpq's settings for the server, the password in PGPASSWORD rather than on the command line, where any local user
 * could read it in the process list.
 */
function libpq(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv; database: string } {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  const env = { ...process.env, ...(password ? { PGPASSWORD: password } : {}) };
  return { dbname: url.toString(), env, database: decodeURIComponent(url.pathname.slice(1)) || '(default)' };
}

async function clientMajor(tool: 'pg_dump' | 'pg_restore'): Promise<number> {
  try {
    const { stdout } = await run(tool, ['--version']);
    return Number(/(\d+)(?:\.\d+)?/.exec(stdout)?.[1]);
  } catch {
    throw new BackupError(`${tool} is not installed or not on PATH (Debian/Ubuntu: apt-get install postgresql-client)`);
  }
}

async function withServer<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new BackupError(`cannot reach the PostgreSQL server at DATABASE_URL: ${(error as Error).message}`);
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** pg_dump refuses a newer server, with a message about versions that is easy to misread; say it plainly first. */
async function assertToolFits(client: pg.Client, tool: 'pg_dump' | 'pg_restore'): Promise<void> {
  const major = await clientMajor(tool);
  const { rows } = await client.query<{ v: string }>(`select current_setting('server_version_num') as v`);
  const server = Math.floor(Number(rows[0].v) / 10000);
  if (major < server) {
    throw new BackupError(`${tool} ${major} is older than the PostgreSQL ${server} server; install postgresql-client-${server}`);
  }
}

/** Tables, sequences and views outside PostgreSQL's own schemas. */
async function userRelations(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `select count(*)::int as n from pg_class c join pg_namespace s on s.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'S', 'v', 'm') and s.nspname not in ('pg_catalog', 'information_schema')
        and s.nspname not like 'pg\\_toast%' and s.nspname not like 'pg\\_temp%'`,
  );
  return rows[0].n;
}

/** Other sessions on the database: a running Stageline (or anything else) would fight the restore for locks. */
async function otherSessions(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
  );
  return rows[0].n;
}

/** Written next to its final name and renamed, so a failed backup never leaves a file that looks complete. */
async function writeAtomically(out: string, write: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = `${out}.partial-${process.pid}`;
  try {
    await write(temporary);
    fs.renameSync(temporary, out);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

async function backupServer(databaseUrl: string, out: string): Promise<void> {
  await withServer(databaseUrl, (client) => assertToolFits(client, 'pg_dump'));
  const { dbname, env } = libpq(databaseUrl);
  await writeAtomically(out, async (temporary) => {
    try {
      await run('pg_dump', ['--format=custom', '--compress=6', `--file=${temporary}`, `--dbname=${dbname}`], { env });
    } catch (error) {
      throw new BackupError(`pg_dump failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`);
    }
  });
}

/** Opens the embedded database only after taking the data directory's lock: a running server makes this refuse. */
async function withDataDir<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  let unlock: () => void;
  try {
    unlock = lockDataDir(dataDir);
  } catch (error) {
    if (error instanceof DataDirInUseError) {
      throw new BackupError(
        `${error.message.replace(/; stop it.*/, '')}: stop the Stageline server first (the embedded database has one user at a time)`,
      );
    }
    throw error;
  }
  try {
    return await work();
  } finally {
    unlock();
  }
}

function hasEmbeddedDatabase(dataDir: string): boolean {
  return fs.existsSync(path.join(dataDir, 'PG_VERSION'));
}

async function backupEmbedded(dataDir: string, out: string): Promise<void> {
  if (!hasEmbeddedDatabase(dataDir)) throw new BackupError(`no embedded database in ${dataDir} (DATA_DIR)`);
  await withDataDir(dataDir, async () => {
    const client = await PGlite.create({ dataDir, ...pgliteOptions() });
    try {
      const dump = await client.dumpDataDir('gzip');
      await writeAtomically(out, async (temporary) => fs.writeFileSync(temporary, Buffer.from(await dump.arrayBuffer())));
    } finally {
      await client.close();
    }
  });
}

async function restoreServer(databaseUrl: string, file: string, clean: boolean): Promise<void> {
  const { database } = libpq(databaseUrl);
  await withServer(databaseUrl, async (client) => {
    await assertToolFits(client, 'pg_restore');
    const sessions = await otherSessions(client);
    if (sessions > 0) {
      throw new BackupError(
        `${sessions} other session(s) are connected to database ${database}: stop the Stageline server (and other clients) first`,
      );
    }
    if (!clean && (await userRelations(client)) > 0) {
      throw new BackupError(`database ${database} is not empty: restore into an empty database, or add --clean to replace what is there`);
    }
  });
  const { dbname, env } = libpq(databaseUrl);
  // One transaction: a restore that fails half-way leaves the database as it was. Objects are owned by the
  // DATABASE_URL user, whoever owned them where the backup was taken.
  const options = ['--no-owner', '--no-acl'];
  try {
    if (!clean) {
      await run('pg_restore', ['--single-transaction', '--exit-on-error', ...options, `--dbname=${dbname}`, file], { env });
      return;
    }
    // Replacing: pg_restore --clean drops object by object and cannot drop a partition's inherited key (the history
    // tables are partitioned by month). Instead the schemas go whole, then the backup's script runs, all in one psql
    // transaction, so a failure still changes nothing.
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-restore-'));
    try {
      const script = path.join(work, 'restore.sql');
      await run('pg_restore', [...options, `--file=${script}`, file], { env, maxBuffer: 16 * 1024 * 1024 });
      const preamble = path.join(work, 'clean.sql');
      fs.writeFileSync(preamble, (await cleanStatements(databaseUrl)).join('\n') + '\n');
      await run(
        'psql',
        ['--single-transaction', '--quiet', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', `--dbname=${dbname}`, '-f', preamble, '-f', script],
        {
          env,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  } catch (error) {
    throw new BackupError(
      `pg_restore failed, nothing was changed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`,
    );
  }
}

/** Drops every schema of the database's own (and what is in them), then gives back an empty `public`. */
async function cleanStatements(databaseUrl: string): Promise<string[]> {
  return withServer(databaseUrl, async (client) => {
    const { rows } = await client.query<{ name: string }>(
      `select quote_ident(nspname) as name from pg_namespace
        where nspname not in ('pg_catalog', 'information_schema') and nspname not like 'pg\\_%' order by 1`,
    );
    return [...rows.map((row) => `drop schema ${row.name} cascade;`), 'create schema public;'];
  });
}

async function restoreEmbedded(dataDir: string, file: string, clean: boolean): Promise<string | null> {
  const exists = fs.existsSync(dataDir);
  return withDataDir(dataDir, async () => {
    if (exists && hasEmbeddedDatabase(dataDir) && !clean) {
      throw new BackupError(`${dataDir} (DATA_DIR) already holds a database: restore into an empty DATA_DIR, or add --clean to replace it`);
    }
    // Loaded and checked beside the data directory first, so a bad file leaves the current database untouched.
    const staging = `${dataDir}.restoring-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    try {
      const client = await PGlite.create({ dataDir: staging, loadDataDir: new Blob([fs.readFileSync(file)]), ...pgliteOptions() });
      try {
        await client.query('select count(*) from kysely_migration');
      } catch (error) {
        throw new BackupError(`${file} is not a Stageline database: ${(error as Error).message}`);
      } finally {
        await client.close();
      }
      let replaced: string | null = null;
      if (hasEmbeddedDatabase(dataDir)) {
        replaced = `${dataDir}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        moveEntries(dataDir, replaced);
      }
      moveEntries(staging, dataDir);
      return replaced;
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  });
}

const lockFileName = 'stageline.lock';

/** Moves a data directory's contents, leaving the lock where it is (it guards the directory, not its contents). */
function moveEntries(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from)) {
    if (entry !== lockFileName) fs.renameSync(path.join(from, entry), path.join(to, entry));
  }
}

function defaultName(kind: BackupKind): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return kind === 'postgres' ? `stageline-${stamp}.pgdump` : `stageline-${stamp}.tar.gz`;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' }, clean: { type: 'boolean', default: false } },
  });
  const [command, file, ...extra] = positionals;
  const config = loadConfig();
  const kind: BackupKind = config.databaseUrl ? 'postgres' : 'pglite';
  const where = config.databaseUrl
    ? `PostgreSQL server (DATABASE_URL, database ${libpq(config.databaseUrl).database})`
    : `embedded database in ${config.dataDir}`;

  if (command === 'backup' && file === undefined && !values.clean) {
    const out = path.resolve(values.out ?? defaultName(kind));
    if (fs.existsSync(out)) throw new BackupError(`${out} already exists; choose another --out`);
    if (config.databaseUrl) await backupServer(config.databaseUrl, out);
    else await backupEmbedded(config.dataDir, out);
    console.log(`backup of the ${where} written to ${out} (${(fs.statSync(out).size / 1024).toFixed(0)} KiB)`);
    return;
  }
  if (command === 'restore' && file !== undefined && extra.length === 0 && values.out === undefined) {
    if (!fs.existsSync(file)) throw new BackupError(`no such file: ${file}`);
    const fileKind = kindOf(file);
    if (fileKind === null) throw new BackupError(`${file} is not a Stageline backup (neither a pg_dump archive nor a .tar.gz)`);
    if (fileKind !== kind) {
      throw new BackupError(
        fileKind === 'postgres'
          ? `${file} is a PostgreSQL server backup: set DATABASE_URL to restore it`
          : `${file} is an embedded-database backup: unset DATABASE_URL and set DATA_DIR to restore it`,
      );
    }
    if (config.databaseUrl) {
      await restoreServer(config.databaseUrl, file, values.clean);
      console.log(`restored ${file} into the ${where}; start Stageline (migrations newer than the backup run at start)`);
    } else {
      const replaced = await restoreEmbedded(config.dataDir, file, values.clean);
      console.log(`restored ${file} into the ${where}; start Stageline (migrations newer than the backup run at start)`);
      if (replaced) console.log(`the database it replaced is kept in ${replaced}; delete it once the restore is checked`);
    }
    return;
  }
  console.error(usage);
  process.exitCode = 2;
}

const usage = 'usage: npm run backup -- [--out FILE]\n       npm run restore -- FILE [--clean]';

main(process.argv.slice(2)).catch((error: unknown) => {
  if (String((error as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exitCode = 2;
    return;
  }
  const expected = error instanceof BackupError || error instanceof ConfigError;
  console.error(`stageline: ${expected ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
  process.exitCode = 1;
});
