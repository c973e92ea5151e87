import { PGlite } from '@electric-sql/pglite';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Migrator, type Migration } from 'kysely';
import pg from 'pg';
import { openDatabase, pgliteOptions, type Database, type Db } from '../../src/db/database.js';
import { migrations } from '../../src/db/migrations/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const migrationsDir = path.join(root, 'src/db/migrations');

/** Changes whenever a migration changes, so a stale template is never reused. */
function migrationsHash(): string {
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(migrationsDir).sort()) {
    hash.update(file).update(fs.readFileSync(path.join(migrationsDir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * PGlite's start-up (WebAssembly + initdb + migrations) takes seconds, so it runs once: the migrated
 * data directory is dumped to a file that every test file's database is loaded from.
 */
async function pgliteTemplate(): Promise<Blob> {
  const file = path.join(root, 'node_modules/.cache/stageline', `pglite-template-${migrationsHash()}.tar.gz`);
  if (!fs.existsSync(file)) {
    const client = await PGlite.create(pgliteOptions());
    const database = await openDatabase({ pglite: client });
    const dump = await client.dumpDataDir('gzip');
    await database.close();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Written aside and renamed, so a test file running alongside never reads half a template.
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(temporary, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(temporary, file);
  }
  return new Blob([fs.readFileSync(file)]);
}

export type FreshDatabaseOptions = {
  /** PostgreSQL only: the URL the app connects with, from the test database's own (e.g. through a proxy). */
  connectUrl?: (url: string) => string;
  /** PostgreSQL only: a streaming replica of the test server; the app reads from the same database there. */
  replicaUrl?: string;
  /** With `replicaUrl`: DATABASE_READ_MAX_LAG_MS. */
  maxReadLagMs?: number;
};

async function postgresDatabase(adminUrl: string, options: FreshDatabaseOptions): Promise<Database> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const template = `stageline_template_${migrationsHash()}`;
  const name = `stageline_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    // One process builds the template; the rest wait on the lock and then copy it.
    await admin.query('select pg_advisory_lock(771177)');
    const exists = await admin.query('select 1 from pg_database where datname = $1', [template]);
    if (exists.rowCount === 0) {
      await admin.query(`create database ${pg.escapeIdentifier(template)}`);
      const built = await openDatabase({ databaseUrl: withDatabase(adminUrl, template), poolSize: 1 });
      await built.close();
    }
    await admin.query(`create database ${pg.escapeIdentifier(name)} template ${pg.escapeIdentifier(template)}`);
    await admin.query('select pg_advisory_unlock(771177)');
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const database = await openDatabase({
    databaseUrl: options.connectUrl?.(url) ?? url,
    poolSize: 5,
    migrate: false,
    ...(options.replicaUrl ? { readUrls: [withDatabase(options.replicaUrl, name)], maxReadLagMs: options.maxReadLagMs } : {}),
  });
  return droppedOnClose(database, adminUrl, name);
}

/** The database, whose close also drops it from the test server. */
export function droppedOnClose(database: Database, adminUrl: string, name: string): Database {
  return {
    ...database,
    async close() {
      await database.close();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
      await cleanup.end();
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A fresh, migrated database for one test file: PGlite by default, PostgreSQL with TEST_DATABASE_URL. */
export async function freshDatabase(options: FreshDatabaseOptions = {}): Promise<Database> {
  const url = process.env.TEST_DATABASE_URL;
  if (url) return postgresDatabase(url, options);
  const pglite = await PGlite.create({ ...pgliteOptions(), loadDataDir: await pgliteTemplate() });
  return openDatabase({ pglite, migrate: false });
}

/** An empty database (no migrations run) on PGlite, or a new database on the test server named after `prefix`. */
export async function unmigratedDatabase(prefix: string): Promise<Database> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return openDatabase({ pglite: await PGlite.create(pgliteOptions()), migrate: false });
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${pg.escapeIdentifier(name)}`);
  await admin.end();
  return droppedOnClose(await openDatabase({ databaseUrl: withDatabase(adminUrl, name), poolSize: 2, migrate: false }), adminUrl, name);
}

/** Runs the migrations before `first` (a name prefix, e.g. '0017'): a database as the layout before it left it. */
export async function migrateBefore(db: Db, first: string): Promise<void> {
  const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < first)) as Record<string, Migration>;
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
  if (error) throw error;
}
