import { PGlite } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { lockDataDir } from './lock.js';
import { migrateToLatest } from './migrate.js';
import { PGliteDialect } from './pglite-dialect.js';
import { PGliteHost } from './pglite-host.js';
import type { DB } from './types.js';

export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;
/** Either the database or an open transaction: repositories accept both. */
export type Executor = Kysely<DB> | Transaction<DB>;

export type DatabaseKind = 'pglite' | 'postgres';

export type NotificationHandler = (payload: string) => void;

/** The one place that knows which PostgreSQL runs; everything else sees Kysely and these few calls. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Db;
  /** Subscribes to NOTIFY on a channel; returns the unsubscribe function. */
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export class DatabaseUnavailableError extends Error {}

const INT8 = 20;
const DATE = 1082;

// int8 (counts, sequences) as a JS number on both drivers; dates stay 'YYYY-MM-DD' strings.
const parsers = {
  [INT8]: (value: string) => Number(value),
  [DATE]: (value: string) => value,
};

const pgliteExtensions = { pg_trgm, btree_gin };

export type OpenOptions =
  | { databaseUrl: string; poolSize?: number; migrate?: boolean }
  /** minFreeBytes: writes answer 507 below this much free space on the data directory's disk (default 0: no check). */
  | { dataDir: string; minFreeBytes?: number; migrate?: boolean }
  /** A PGlite built by the caller (tests load a migrated template into memory). */
  | { pglite: PGlite; migrate?: boolean };

export async function openDatabase(options: OpenOptions): Promise<Database> {
  const database = 'databaseUrl' in options ? await openPostgres(options.databaseUrl, options.poolSize ?? 10) : await openPGlite(options);
  if (options.migrate !== false) {
    try {
      await migrateToLatest(database.db);
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}

async function openPGlite(options: { dataDir: string; minFreeBytes?: number } | { pglite: PGlite }): Promise<Database> {
  let unlock = () => {};
  let host: PGliteHost;
  if ('pglite' in options) {
    host = new PGliteHost(options.pglite, { reopen: null, dataDir: null, minFreeBytes: 0 });
  } else {
    const { dataDir } = options;
    unlock = lockDataDir(dataDir);
    const open = () => PGlite.create({ dataDir, ...pgliteOptions() });
    try {
      host = new PGliteHost(await open(), {
        reopen: open,
        dataDir,
        minFreeBytes: options.minFreeBytes ?? 0,
        log: (message, error) => console.error(`stageline: ${message}${error ? `: ${(error as Error).message}` : ''}`),
      });
    } catch (error) {
      unlock();
      throw error;
    }
  }
  const db = new Kysely<DB>({ dialect: new PGliteDialect(host) });
  let closed = false;
  return {
    kind: 'pglite',
    db,
    listen: (channel, handler) => host.listen(channel, handler),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await host.close();
      unlock();
    },
  };
}

/** The options every PGlite of ours is created with (extensions, type parsers). */
export function pgliteOptions() {
  return { extensions: pgliteExtensions, parsers };
}

async function openPostgres(databaseUrl: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid in parsers
          ? parsers[oid as keyof typeof parsers]
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end();
    throw new DatabaseUnavailableError(`cannot reach the PostgreSQL server at DATABASE_URL: ${(error as Error).message}`);
  }
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const listeners = new Set<pg.Client>();
  let closed = false;
  return {
    kind: 'postgres',
    db,
    async listen(channel, handler) {
      // LISTEN needs a connection of its own that stays open, outside the pool.
      const client = new pg.Client({ connectionString: databaseUrl });
      client.on('error', () => {});
      await client.connect();
      client.on('notification', (message) => {
        if (message.channel === channel) handler(message.payload ?? '');
      });
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      listeners.add(client);
      return async () => {
        listeners.delete(client);
        await client.end();
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...listeners].map((client) => client.end()));
      await db.destroy();
    },
  };
}
