import { PGlite } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { Availability, DatabaseUnavailableError } from './availability.js';
import { enableCopy, stageRowsFor, type StageRows } from './copy.js';
import { lockDataDir } from './lock.js';
import { migrateToLatest } from './migrate.js';
import { PGliteDialect } from './pglite-dialect.js';
import { PGliteHost, type NotificationHandler } from './pglite-host.js';
import { ReadRouting, type ReadCounts, type ReadIdentity, type ReplicaStatus } from './replicas.js';
import type { DB } from './types.js';
import type { Db, DatabaseKind } from './executor.js';

export type { Db, Tx, Executor, DatabaseKind } from './executor.js';

export type { NotificationHandler };

/** The one place that knows which PostgreSQL runs; everything else sees Kysely and these few calls. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Db;
  /** Tells when the server stops and starts answering (always available for the embedded database). */
  readonly availability: Availability;
  /**
   * Bulk loads (import): rows into a temporary staging table of the transaction, by COPY on a PostgreSQL server and a
   * multi-row insert on PGlite (src/db/copy.ts).
   */
  readonly stageRows: StageRows;
  /** Subscribes to NOTIFY on a channel; returns the unsubscribe function. */
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  /**
   * Where a read that may be a moment old runs (lists, search, export, board, timelines, dashboard numbers): a read
   * replica (DATABASE_READ_URL) that is up, within DATABASE_READ_MAX_LAG_MS and past this reader's last write, else
   * the primary. Never for anything inside a write's transaction.
   */
  reader(who: ReadIdentity): Db;
  /** For a connection `reader` gave: null for the primary, else the replica and the position it had replayed. */
  positionOf(db: Db): string | null;
  /** Replicas only: remembers the position of `who`'s write just committed; returns it, or null without replicas. */
  recordWrite(who: ReadIdentity): Promise<string | null>;
  /** The read replicas' state and where reads went, or null when there are none. */
  replication(): { replicas: ReplicaStatus[]; reads: ReadCounts } | null;
  close(): Promise<void>;
}

export type { ReadIdentity, ReplicaStatus };

export { DatabaseUnavailableError };

const INT8 = 20;
const DATE = 1082;

// int8 (counts, sequences) as a JS number on both drivers; dates stay 'YYYY-MM-DD' strings.
const parsers = {
  [INT8]: (value: string) => Number(value),
  [DATE]: (value: string) => value,
};

const pgliteExtensions = { pg_trgm, btree_gin };

export type OpenOptions =
  | {
      databaseUrl: string;
      poolSize?: number;
      migrate?: boolean;
      /**
       * Longest a statement may take before the caller gets an error (a dead connection must not hang a request);
       * 0 = no limit, for batch tools. Migrations always run without one.
       */
      queryTimeoutMs?: number;
      /** Read replicas of this server (streaming standbys); reads that may be a moment old go there. */
      readUrls?: string[];
      /** A replica further behind than this serves no reads (default 5000). */
      maxReadLagMs?: number;
    }
  /** minFreeBytes: writes answer 507 below this much free space on the data directory's disk (default 0: no check). */
  | { dataDir: string; minFreeBytes?: number; migrate?: boolean }
  /** A PGlite built by the caller (tests load a migrated template into memory). */
  | { pglite: PGlite; migrate?: boolean };

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if ('databaseUrl' in options) {
    const connection = { databaseUrl: options.databaseUrl, poolSize: options.poolSize ?? 10, queryTimeoutMs: options.queryTimeoutMs };
    // A migration may rebuild an index over a million rows: it runs on a pool of its own, without the query timeout.
    if (options.migrate !== false)
      await withDatabase(await openPostgres({ ...connection, poolSize: 1, queryTimeoutMs: 0 }), migrateToLatest);
    return openPostgres({ ...connection, readUrls: options.readUrls ?? [], maxReadLagMs: options.maxReadLagMs ?? 5_000 });
  }
  const database = await openPGlite(options);
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

async function withDatabase(database: Database, use: (db: Db) => Promise<void>): Promise<void> {
  try {
    await use(database.db);
  } finally {
    await database.close();
  }
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
    stageRows: stageRowsFor('pglite'),
    availability: new Availability(),
    listen: (channel, handler) => host.listen(channel, handler),
    ...primaryOnly(db),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
      await host.close();
      unlock();
    },
  };
}

/** A database without replicas: every read runs on it. */
export function primaryOnly(db: Db): Pick<Database, 'reader' | 'positionOf' | 'recordWrite' | 'replication'> {
  return { reader: () => db, positionOf: () => null, recordWrite: async () => null, replication: () => null };
}

/** The options every PGlite of ours is created with (extensions, type parsers). */
export function pgliteOptions() {
  return { extensions: pgliteExtensions, parsers };
}

/** Bounds for a PostgreSQL server that stops answering: no request waits longer than these for it. */
const CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid in parsers ? parsers[oid as keyof typeof parsers] : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

async function openPostgres(options: {
  databaseUrl: string;
  poolSize: number;
  queryTimeoutMs?: number;
  readUrls?: string[];
  maxReadLagMs?: number;
}): Promise<Database> {
  const availability = new Availability();
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...(queryTimeoutMs > 0 ? { query_timeout: queryTimeoutMs } : {}),
    types: pgTypes,
  });
  // A connection the server closes (restart, pg_terminate_backend, network) emits 'error' on its client. pg-pool
  // listens only while the client is idle; a checked-out client without a listener would crash the process, so
  // every client gets one for its whole life. The pool then drops the broken client and opens a new one on demand.
  const open = new Set<pg.PoolClient>();
  let allClosed = () => {};
  pool.on('connect', (client) => {
    open.add(client);
    enableCopy(client);
    client.on('error', (error) => availability.lost(error));
    availability.reached();
  });
  // pool.end() resolves before its connections have closed; close() waits for them (a database can then be dropped).
  pool.on('remove', (client) => {
    open.delete(client);
    if (open.size === 0) allClosed();
  });
  pool.on('error', (error) => availability.lost(error));
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end();
    throw new DatabaseUnavailableError(`cannot reach the PostgreSQL server at DATABASE_URL: ${(error as Error).message}`);
  }
  const observedPool = {
    connect: () =>
      pool.connect().catch((error: unknown) => {
        availability.lost(error);
        throw error;
      }),
    end: () => pool.end(),
  };
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: observedPool }) });
  const listeners = new Set<ChannelListener>();
  let closed = false;
  const routing = options.readUrls?.length
    ? new ReadRouting(db, observedPool, {
        urls: options.readUrls,
        maxLagMs: options.maxReadLagMs ?? 5_000,
        poolSize: options.poolSize,
        queryTimeoutMs,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        types: pgTypes,
      })
    : null;
  // A replica that is down at start is no reason not to start: reads go to the primary until it answers.
  await routing?.start();
  return {
    kind: 'postgres',
    db,
    stageRows: stageRowsFor('postgres'),
    availability,
    ...(routing
      ? {
          reader: (who) => routing.reader(who),
          positionOf: (reader) => routing.positionOf(reader),
          recordWrite: (who) => routing.recordWrite(who),
          replication: () => ({ replicas: routing.status(), reads: { ...routing.counts } }),
        }
      : primaryOnly(db)),
    async listen(channel, handler) {
      const listener = new ChannelListener(options.databaseUrl, channel, handler, availability);
      await listener.start();
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
        await listener.stop();
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...listeners].map((listener) => listener.stop()));
      await routing?.close();
      const closing = new Promise<void>((resolve) => (allClosed = resolve));
      await db.destroy();
      if (open.size > 0) await closing;
    },
  };
}

const RELISTEN_FIRST_MS = 500;
const RELISTEN_MAX_MS = 10_000;

/**
 * LISTEN on a connection of its own that stays open, outside the pool. When the server closes it, the listener
 * connects again (backing off while the server is away), LISTENs again and calls the handler once with an empty
 * payload: notifications sent while it was away are lost, so its consumers must look again (they read by cursor).
 */
class ChannelListener {
  #client: pg.Client | null = null;
  #retry: NodeJS.Timeout | null = null;
  #delayMs = RELISTEN_FIRST_MS;
  #stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly channel: string,
    private readonly handler: NotificationHandler,
    private readonly availability: Availability,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, null));
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.handler(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (this.#stopped) {
      await client.end();
      return;
    }
    this.#client = client;
    this.#delayMs = RELISTEN_FIRST_MS;
  }

  #lost(client: pg.Client, error: Error | null): void {
    if (client !== this.#client) return;
    this.#client = null;
    if (error) this.availability.lost(error);
    client.end().catch(() => {});
    if (!this.#stopped) this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.start().then(
        () => {
          if (this.#stopped) return;
          this.availability.reached();
          this.handler('');
        },
        (error: unknown) => {
          this.availability.lost(error);
          this.#delayMs = Math.min(this.#delayMs * 2, RELISTEN_MAX_MS);
          if (!this.#stopped) this.#scheduleRestart();
        },
      );
    }, this.#delayMs);
    this.#retry.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    const client = this.#client;
    this.#client = null;
    await client?.end();
  }
}
