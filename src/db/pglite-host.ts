import fs from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { DatabaseUnavailableError } from './availability.js';
import { DiskFullError, isOutOfStorage } from './storage.js';

export type NotificationHandler = (payload: string) => void;

export type PGliteHostOptions = {
  /** Opens the data directory again after a fatal error; null: the instance is not ours to reopen (tests). */
  reopen: (() => Promise<PGlite>) | null;
  /** The data directory whose free space is checked before each write (null: no check). */
  dataDir: string | null;
  /** Writes are refused below this many free bytes on the data directory's file system (0: never). */
  minFreeBytes: number;
  /** How long a request waits for a reopen before it is answered "unavailable". */
  reopenWaitMs?: number;
  log?: (message: string, error?: unknown) => void;
};

const FREE_SPACE_TTL_MS = 1000;
/** Reopening replays the WAL and may start a new 16 MiB WAL segment: not tried with less room than this. */
const REOPEN_MIN_FREE_BYTES = 17 * 2 ** 20;
/** After a failed reopen, the next try waits this long, doubling per failed start-up (which blocks for seconds). */
const REOPEN_RETRY_MS = 1000;
const REOPEN_RETRY_MAX_MS = 60_000;
const WRITE_STATEMENT = /^\s*(insert|update|delete|merge|copy)\b|^\s*with\b[\s\S]*\b(insert|update|delete)\b/i;

/** A PANIC or FATAL leaves the WebAssembly Postgres in a state where its next query spins forever. */
export function isFatalPGliteError(error: unknown): boolean {
  const { severity, name } = (error ?? {}) as { severity?: unknown; name?: unknown };
  // RuntimeError: the WebAssembly trapped (abort); ExitStatus: Postgres called exit().
  return severity === 'PANIC' || severity === 'FATAL' || name === 'RuntimeError' || name === 'ExitStatus';
}

/**
 * Owns the embedded database's PGlite instance and replaces it when it breaks.
 *
 * On a full disk PGlite reports ENOSPC as an ordinary error (53100) — except where Postgres escalates it
 * to PANIC (e.g. `cannot drop active portal` when the ROLLBACK after a failed write finds the portal
 * still active). Native Postgres would exit and be restarted by the postmaster; in PGlite the process
 * stays, and the next query on that instance loops inside `errfinish` at 100% CPU without returning,
 * freezing the event loop. So after a fatal error an instance is never used again: it is dropped and
 * the data directory opened afresh (Postgres replays its WAL as after a crash; every committed write is
 * there). Turns already running keep their instance and fail; new turns wait for the new instance.
 */
export class PGliteHost {
  #client: PGlite | null;
  #reopening: Promise<PGlite> | null = null;
  #lastFailure: { at: number; error: unknown; waitMs: number } | null = null;
  #failedStarts = 0;
  #free = { bytes: Infinity, checkedAt: 0 };
  #subscriptions = new Set<{ channel: string; handler: NotificationHandler; unsubscribe: (() => Promise<void>) | null }>();
  #closed = false;

  constructor(
    client: PGlite,
    private readonly options: PGliteHostOptions,
  ) {
    this.#client = client;
  }

  /** The healthy instance for the next turn; while one is being reopened, waits a bounded time for it. */
  async acquire(): Promise<PGlite> {
    if (this.#client) return this.#client;
    if (this.#closed) throw new DatabaseUnavailableError('the embedded database is closed');
    if (!this.options.reopen) throw new DatabaseUnavailableError('the embedded database stopped after a fatal error');
    if (!this.#reopening) {
      const failure = this.#lastFailure;
      if (failure && Date.now() - failure.at < failure.waitMs) throw this.unavailable(failure.error);
      this.#reopening = this.#reopen().finally(() => (this.#reopening = null));
    }
    const waitMs = this.options.reopenWaitMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DatabaseUnavailableError('the embedded database is being reopened after a fatal error; retry shortly')),
        waitMs,
      );
    });
    try {
      return await Promise.race([this.#reopening, timeout]);
    } catch (error) {
      throw error instanceof DatabaseUnavailableError ? error : this.unavailable(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Takes an instance out of service after a fatal error; the next turn opens the data directory again. */
  retire(client: PGlite, error: unknown): void {
    if (this.#client !== client) return;
    this.#client = null;
    for (const subscription of this.#subscriptions) subscription.unsubscribe = null;
    this.options.log?.('the embedded database hit a fatal error; it will be reopened', error);
  }

  /** Refuses a write with 507 when the data directory's file system is below the configured reserve. */
  async assertRoomFor(sql: string): Promise<void> {
    const { dataDir, minFreeBytes } = this.options;
    if (!dataDir || minFreeBytes <= 0 || !WRITE_STATEMENT.test(sql)) return;
    const free = await this.#freeBytes(false);
    if (free < minFreeBytes) {
      throw new DiskFullError(
        `the disk of the data directory is full: ${Math.floor(free / 2 ** 20)} MiB free, ` +
          `below the reserve of ${Math.ceil(minFreeBytes / 2 ** 20)} MiB (DATA_DIR_MIN_FREE_MB)`,
      );
    }
  }

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    const subscription = { channel, handler, unsubscribe: null as (() => Promise<void>) | null };
    const client = await this.acquire();
    subscription.unsubscribe = await client.listen(channel, handler);
    this.#subscriptions.add(subscription);
    return async () => {
      this.#subscriptions.delete(subscription);
      if (subscription.unsubscribe && this.#client && !this.#client.closed) await subscription.unsubscribe();
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#reopening?.catch(() => {});
    const client = this.#client;
    this.#client = null;
    // A retired instance is never touched again, not even to close it: it would spin.
    if (client && !client.closed) await client.close();
  }

  async #reopen(): Promise<PGlite> {
    try {
      // Postgres recovering on a disk that is still full could fail as badly as what it recovers from.
      const free = await this.#freeBytes(true);
      if (free < REOPEN_MIN_FREE_BYTES) {
        throw new DiskFullError(
          `only ${Math.floor(free / 2 ** 20)} MiB free; the embedded database reopens once ${REOPEN_MIN_FREE_BYTES / 2 ** 20} MiB are free`,
        );
      }
      let client: PGlite;
      try {
        client = await this.options.reopen!();
      } catch (error) {
        this.#failedStarts++;
        throw error;
      }
      if (this.#closed) {
        await client.close();
        throw new DatabaseUnavailableError('the embedded database is closed');
      }
      for (const subscription of this.#subscriptions) {
        subscription.unsubscribe = await client.listen(subscription.channel, subscription.handler);
      }
      this.#client = client;
      this.#lastFailure = null;
      this.#failedStarts = 0;
      this.options.log?.('the embedded database was reopened');
      return client;
    } catch (error) {
      const waitMs = Math.min(REOPEN_RETRY_MAX_MS, REOPEN_RETRY_MS * 2 ** this.#failedStarts);
      this.#lastFailure = { at: Date.now(), error, waitMs };
      this.options.log?.('reopening the embedded database failed; the next request tries again', error);
      throw error;
    }
  }

  async #freeBytes(fresh: boolean): Promise<number> {
    if (!this.options.dataDir) return Infinity;
    if (fresh || Date.now() - this.#free.checkedAt > FREE_SPACE_TTL_MS) {
      const stats = await fs.promises.statfs(this.options.dataDir);
      this.#free = { bytes: stats.bavail * stats.bsize, checkedAt: Date.now() };
    }
    return this.#free.bytes;
  }

  /** What a request is told when the database failed or cannot be opened: 507 for a full disk, else 503. */
  unavailable(error: unknown): Error {
    if (isOutOfStorage(error)) return new DiskFullError(`the disk of the data directory is full: ${(error as Error).message}`);
    return new DatabaseUnavailableError(`the embedded database is unavailable: ${(error as Error).message}`);
  }
}
