import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import { isFatalPGliteError, type PGliteHost } from './pglite-host.js';

/**
 * A Kysely dialect for PGlite. PGlite is one connection: two Kysely transactions running at once
 * would interleave their statements inside one BEGIN…COMMIT. So a connection is handed out to one
 * caller at a time (a FIFO lock), which serialises transactions the way a one-connection pool would.
 * (kysely-pglite's driver shares the client without such a lock, hence our own.)
 * A turn runs on the instance it started on: if that instance is retired mid-turn (a fatal error),
 * the rest of the turn fails instead of continuing on the reopened one.
 */
export class PGliteDialect implements Dialect {
  constructor(private readonly host: PGliteHost) {}
  createAdapter = () => new PostgresAdapter();
  createDriver = (): Driver => new PGliteDriver(this.host);
  createIntrospector = (db: Kysely<unknown>) => new PostgresIntrospector(db);
  createQueryCompiler = () => new PostgresQueryCompiler();
}

class PGliteDriver implements Driver {
  #tail: Promise<void> = Promise.resolve();
  #release = new WeakMap<DatabaseConnection, () => void>();

  constructor(private readonly host: PGliteHost) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => turn);
    await previous;
    let client: PGlite;
    try {
      client = await this.host.acquire();
    } catch (error) {
      release();
      throw error;
    }
    // A fresh wrapper per turn, so a release can only end the turn it belongs to.
    const connection = new PGliteConnection(this.host, client);
    this.#release.set(connection, release);
    return connection;
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#release.get(connection)?.();
    this.#release.delete(connection);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('BEGIN'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
    } catch (error) {
      // A ROLLBACK that fails (a PANIC after a full disk) must not hide why the transaction failed.
      throw (connection as PGliteConnection).failure ?? error;
    }
  }

  async destroy(): Promise<void> {
    // Let queued work finish; the owner of the PGlite instance closes it.
    await this.#tail;
  }
}

class PGliteConnection implements DatabaseConnection {
  /** The first error of this turn. */
  failure: unknown = null;
  #retired = false;

  constructor(
    private readonly host: PGliteHost,
    private readonly client: PGlite,
  ) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#retired) throw this.failure;
    let result;
    try {
      await this.host.assertRoomFor(compiledQuery.sql);
      result = await this.client.query<R>(compiledQuery.sql, [...compiledQuery.parameters]);
    } catch (error) {
      this.failure ??= error;
      if (!isFatalPGliteError(error)) throw error;
      this.#retired = true;
      this.host.retire(this.client, error);
      if (this.failure === error) this.failure = this.host.unavailable(error);
      throw this.failure;
    }
    const affected = result.affectedRows;
    return {
      rows: result.rows,
      ...(affected !== undefined ? { numAffectedRows: BigInt(affected) } : {}),
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite cannot stream query results; page with a keyset cursor instead');
  }
}
