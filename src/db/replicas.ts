import {
  Kysely,
  type CompiledQuery,
  PostgresAdapter,
  PostgresDriver,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import { isDatabaseUnavailable } from './availability.js';
import type { DB } from './types.js';

/*
 * Read replicas. Reads that may be a moment old (dashboard numbers, lists, search, export, board, timelines) ask
 * `database.reader(who)` for a connection; everything else, and everything inside a write's transaction, uses the
 * primary (`database.db`). A replica serves a read only when it is up, lags less than DATABASE_READ_MAX_LAG_MS and
 * has replayed past the last write of whoever asks (read-your-writes); otherwise the read goes to the primary.
 *
 * Read-your-writes: after a successful write, the server reads the primary's WAL position (`pg_current_wal_lsn()`,
 * at or past the write's commit record) and keeps it per client in memory; that client's reads go to the primary
 * until a replica's `pg_last_wal_replay_lsn()` has passed it. The position is also sent back in the
 * `Stageline-LSN` response header: a client served by several processes sends it back on its reads, so a process
 * that did not see the write still routes them to the primary until a replica has caught up.
 */

export type Lsn = bigint;

/** '16/B374D848' → a comparable number; null for anything else. */
export function parseLsn(text: string | null | undefined): Lsn | null {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text?.trim() ?? '');
  return match ? (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`) : null;
}

export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Who reads: the user (or, without one, the address) whose writes they must see, and a position they saw elsewhere. */
export type ReadIdentity = { id: string | null; ip?: string; readAfter?: string } | null | undefined;

function readKeyOf(who: ReadIdentity): string | null {
  if (!who) return null;
  if (who.id) return `user:${who.id}`;
  return who.ip ? `ip:${who.ip}` : null;
}

export type ReplicaStatus = {
  /** host:port/database, never the password. */
  name: string;
  up: boolean;
  /** How far behind the primary it is, in ms (null while unknown or down). */
  lagMs: number | null;
  /** Up, caught up within the bound, and probed recently: it serves reads. */
  serving: boolean;
  replayLsn: string | null;
  error: string | null;
};

export type ReadCounts = { replica: number; primary: number; fallback: number };

export type ReplicaOptions = {
  urls: string[];
  maxLagMs: number;
  poolSize: number;
  queryTimeoutMs: number;
  connectTimeoutMs: number;
  /** How often each replica's position and the primary's are read. */
  probeIntervalMs?: number;
  types: pg.CustomTypesConfig;
};

/** The part of pg.Pool the primary shares with the replicas' fallback. */
type PrimaryPool = { connect(): Promise<pg.PoolClient> };

const DEFAULT_PROBE_MS = 250;

// Errors after which the same read is sent to the primary: the replica went away, a standby query was cancelled by
// replay (40001 conflict with recovery), or the statement turned out to write (25006 read-only transaction).
function fallsBack(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return isDatabaseUnavailable(error) || code === '40001' || code === '25006';
}

function describe(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'replica';
  }
}

class Replica {
  readonly name: string;
  readonly pool: pg.Pool;
  readonly db: Kysely<DB>;
  up = false;
  replayLsn: Lsn | null = null;
  lagMs: number | null = null;
  probedAt = 0;
  error: string | null = 'not probed yet';

  constructor(url: string, options: ReplicaOptions, primary: PrimaryPool, onFallback: (replica: Replica, error: unknown) => void) {
    this.name = describe(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      keepAlive: true,
      ...(options.queryTimeoutMs > 0 ? { query_timeout: options.queryTimeoutMs } : {}),
      types: options.types,
    });
    // A replica that goes away must never crash the process or mark the primary unavailable: its errors only
    // take it out of the rotation (the probe brings it back).
    this.pool.on('connect', (client) => client.on('error', (error) => this.down(error)));
    this.pool.on('error', (error) => this.down(error));
    this.db = new Kysely<DB>({
      dialect: new FallbackDialect(this.pool, primary, (error) => {
        this.down(error);
        onFallback(this, error);
      }),
    });
  }

  down(error: unknown): void {
    this.up = false;
    this.error = (error as Error).message ?? String(error);
  }
}

/** Chooses where each read runs and keeps the replicas' positions current. */
export class ReadRouting {
  readonly #replicas: Replica[];
  readonly #primaryDb: Kysely<DB>;
  readonly #maxLagMs: number;
  readonly #probeMs: number;
  /** The primary's WAL position over the last moments, to turn a replica's position into a lag in time. */
  #samples: { at: number; lsn: Lsn }[] = [];
  /** Per client: the WAL position of its last write, and when it was made. */
  readonly #writes = new Map<string, { lsn: Lsn; at: number }>();
  #next = 0;
  #timer: NodeJS.Timeout | null = null;
  #probing: Promise<void> | null = null;
  readonly counts: ReadCounts = { replica: 0, primary: 0, fallback: 0 };

  constructor(primaryDb: Kysely<DB>, primaryPool: PrimaryPool, options: ReplicaOptions) {
    this.#primaryDb = primaryDb;
    this.#maxLagMs = options.maxLagMs;
    this.#probeMs = options.probeIntervalMs ?? DEFAULT_PROBE_MS;
    this.#replicas = options.urls.map((url) => new Replica(url, options, primaryPool, () => this.counts.fallback++));
  }

  /** Probes once (so a healthy replica serves from the first request) and then every probe interval. */
  async start(): Promise<void> {
    await this.probe();
    this.#timer = setInterval(() => {
      this.#probing ??= this.probe().finally(() => (this.#probing = null));
    }, this.#probeMs);
    this.#timer.unref();
  }

  /** A connection for a read that may come from a replica; the primary when none may serve this reader. */
  reader(who: ReadIdentity): Kysely<DB> {
    const key = readKeyOf(who);
    const now = Date.now();
    let needed: Lsn | null = parseLsn(who?.readAfter);
    const write = key ? this.#writes.get(key) : undefined;
    if (write) {
      if (now - write.at > this.#forgetAfterMs()) this.#writes.delete(key!);
      else if (needed === null || write.lsn > needed) needed = write.lsn;
    }
    for (let i = 0; i < this.#replicas.length; i++) {
      const replica = this.#replicas[(this.#next + i) % this.#replicas.length]!;
      if (!this.#serving(replica, now)) continue;
      if (needed !== null && (replica.replayLsn === null || replica.replayLsn < needed)) continue;
      this.#next = (this.#next + i + 1) % this.#replicas.length;
      this.counts.replica++;
      return replica.db;
    }
    this.counts.primary++;
    return this.#primaryDb;
  }

  positionOf(db: Kysely<DB>): string | null {
    const replica = this.#replicas.find((candidate) => candidate.db === db);
    return replica ? `${replica.name}/${replica.replayLsn === null ? '' : formatLsn(replica.replayLsn)}` : null;
  }

  /** After a successful write: the position its reader must see from now on. Returns it (for the response header). */
  async recordWrite(who: ReadIdentity): Promise<string> {
    const lsn = await this.#primaryLsn();
    const key = readKeyOf(who);
    if (key) {
      const known = this.#writes.get(key);
      this.#writes.set(key, { lsn: known && known.lsn > lsn ? known.lsn : lsn, at: Date.now() });
    }
    return formatLsn(lsn);
  }

  status(): ReplicaStatus[] {
    const now = Date.now();
    return this.#replicas.map((replica) => ({
      name: replica.name,
      up: replica.up,
      lagMs: replica.up ? replica.lagMs : null,
      serving: this.#serving(replica, now),
      replayLsn: replica.replayLsn === null ? null : formatLsn(replica.replayLsn),
      error: replica.up ? null : replica.error,
    }));
  }

  /** Reads the primary's position, then each replica's: up, replayed position, lag. Never throws. */
  async probe(): Promise<void> {
    let primary: Lsn;
    try {
      primary = await this.#primaryLsn();
    } catch {
      return; // the primary's own outage is reported elsewhere; replicas keep their last state
    }
    const now = Date.now();
    this.#samples.push({ at: now, lsn: primary });
    const keepMs = this.#maxLagMs * 2 + this.#probeMs * 4;
    while (this.#samples.length > 1 && now - this.#samples[0]!.at > keepMs) this.#samples.shift();
    await Promise.all(this.#replicas.map((replica) => this.#probeReplica(replica, primary)));
    for (const [key, write] of this.#writes) if (now - write.at > this.#forgetAfterMs()) this.#writes.delete(key);
  }

  async #probeReplica(replica: Replica, primary: Lsn): Promise<void> {
    try {
      const { rows } = await replica.pool.query<{ standby: boolean; lsn: string | null }>(
        'select pg_is_in_recovery() as standby, pg_last_wal_replay_lsn()::text as lsn',
      );
      const row = rows[0]!;
      // A server that is not a standby (a promoted replica, or a mistake) no longer receives our writes.
      if (!row.standby) throw new Error('not a standby (pg_is_in_recovery() is false); reads stay on the primary');
      const replay = parseLsn(row.lsn);
      if (replay === null) throw new Error('has not replayed anything yet');
      replica.replayLsn = replay;
      replica.lagMs = this.#lagOf(replay, primary);
      replica.probedAt = Date.now();
      replica.up = true;
      replica.error = null;
    } catch (error) {
      replica.down(error);
    }
  }

  /**
   * The time since the primary first held WAL the replica has not replayed (0 when it has replayed everything the
   * primary had at this probe): exact to a probe interval, and no false lag while nothing is written.
   */
  #lagOf(replay: Lsn, primary: Lsn): number {
    if (replay >= primary) return 0;
    const first = this.#samples.find((sample) => sample.lsn > replay) ?? this.#samples[0]!;
    return Math.max(0, Date.now() - first.at);
  }

  #serving(replica: Replica, now: number): boolean {
    return replica.up && replica.lagMs !== null && replica.lagMs <= this.#maxLagMs && now - replica.probedAt <= this.#staleAfterMs();
  }

  // A probe older than this says nothing about the replica now.
  #staleAfterMs(): number {
    return Math.max(this.#probeMs * 4, 2_000);
  }

  // A write older than this is either replayed or on a replica lagging past the bound (skipped anyway).
  #forgetAfterMs(): number {
    return this.#maxLagMs + this.#staleAfterMs() + this.#probeMs * 2;
  }

  async #primaryLsn(): Promise<Lsn> {
    const { rows } = await sql<{ lsn: string }>`select pg_current_wal_lsn()::text as lsn`.execute(this.#primaryDb);
    const lsn = parseLsn(rows[0]?.lsn);
    if (lsn === null) throw new Error(`unexpected WAL position ${rows[0]?.lsn}`);
    return lsn;
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#probing;
    await Promise.all(this.#replicas.map((replica) => replica.db.destroy()));
  }
}

/**
 * PostgreSQL's Kysely dialect on a replica's pool, with a way out: when the replica cannot be reached (at connect or
 * during a query outside a transaction), the same read runs on a primary connection, so a replica going away fails
 * no request. Reads are side-effect free, so running one again is safe.
 */
class FallbackDialect implements Dialect {
  constructor(
    private readonly replicaPool: pg.Pool,
    private readonly primaryPool: PrimaryPool,
    private readonly onFallback: (error: unknown) => void,
  ) {}

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    // The primary's pool is shared, never ended from here.
    const primary = new PostgresDriver({ pool: { connect: () => this.primaryPool.connect(), end: async () => {} } });
    return new FallbackDriver(new PostgresDriver({ pool: this.replicaPool }), primary, this.onFallback);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
}

class FallbackConnection implements DatabaseConnection {
  inTransaction = false;

  constructor(
    readonly inner: DatabaseConnection,
    readonly onReplica: boolean,
    private readonly driver: FallbackDriver,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.onReplica || this.inTransaction) return this.inner.executeQuery<R>(query);
    try {
      return await this.inner.executeQuery<R>(query);
    } catch (error) {
      if (!fallsBack(error)) throw error;
      this.driver.fellBack(error);
      return this.driver.onPrimary((connection) => connection.executeQuery<R>(query));
    }
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    let started = false;
    try {
      for await (const chunk of this.inner.streamQuery<R>(query, chunkSize)) {
        started = true;
        yield chunk;
      }
    } catch (error) {
      // Rows already sent cannot be taken back: only a stream that has not started moves to the primary.
      if (started || !this.onReplica || this.inTransaction || !fallsBack(error)) throw error;
      this.driver.fellBack(error);
      const connection = await this.driver.primary.acquireConnection();
      try {
        yield* connection.streamQuery<R>(query, chunkSize);
      } finally {
        await this.driver.primary.releaseConnection(connection as never);
      }
    }
  }
}

class FallbackDriver implements Driver {
  constructor(
    private readonly replica: PostgresDriver,
    readonly primary: PostgresDriver,
    readonly fellBack: (error: unknown) => void,
  ) {}

  async init(): Promise<void> {
    await Promise.all([this.replica.init(), this.primary.init()]);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    try {
      return new FallbackConnection(await this.replica.acquireConnection(), true, this);
    } catch (error) {
      if (!fallsBack(error)) throw error;
      this.fellBack(error);
      return new FallbackConnection(await this.primary.acquireConnection(), false, this);
    }
  }

  async onPrimary<T>(use: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    const connection = await this.primary.acquireConnection();
    try {
      return await use(connection);
    } finally {
      await this.primary.releaseConnection(connection as never);
    }
  }

  #driverOf(connection: FallbackConnection): PostgresDriver {
    return connection.onReplica ? this.replica : this.primary;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const wrapped = connection as FallbackConnection;
    await this.#driverOf(wrapped).beginTransaction(wrapped.inner, settings);
    wrapped.inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const wrapped = connection as FallbackConnection;
    wrapped.inTransaction = false;
    await this.#driverOf(wrapped).commitTransaction(wrapped.inner);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const wrapped = connection as FallbackConnection;
    wrapped.inTransaction = false;
    await this.#driverOf(wrapped).rollbackTransaction(wrapped.inner as never);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const wrapped = connection as FallbackConnection;
    await this.#driverOf(wrapped).releaseConnection(wrapped.inner as never);
  }

  async destroy(): Promise<void> {
    await this.replica.destroy();
  }
}
