import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { unlessUnavailable } from '../../db/availability.js';
import type { Db, Executor, Tx } from '../../db/database.js';
import type { OutboxRow } from '../../db/types.js';
import { retryDelayMs, type BackoffPolicy } from './backoff.js';
import { OutboxRepository, type ClaimedRow } from './repository.js';

export type OutboxJob<P = Record<string, unknown>> = Omit<OutboxRow, 'payload'> & { payload: P };

/**
 * What one delivery attempt came to. `retryable: false` gives up at once (e.g. the request itself is
 * bad). `result` is kept on the job; `context` only travels to the handler's `record` (e.g. the
 * exchange to log).
 */
export type Delivery<R, C = unknown> = ({ ok: true; result: R } | { ok: false; error: string; retryable: boolean }) & { context?: C };

/** How a finished attempt is recorded: the job's new state, for the handler to mirror in its own tables. */
export type Recorded = { state: 'done' } | { state: 'retrying'; nextAttemptAt: Date } | { state: 'dead' };

/**
 * One kind of work (an OPS hand-off, an e-mail, a webhook call). `deliver` talks to the outside and
 * must be safe to repeat with the job's idempotency key: a worker may die after delivering and
 * before recording, and then the job is delivered again. `record` runs in the transaction that
 * finishes the job, so the job's state and the handler's own rows change together or not at all.
 */
export interface OutboxHandler<P, R, C = unknown> {
  deliver(job: OutboxJob<P>): Promise<Delivery<R, C>>;
  record(tx: Tx, job: OutboxJob<P>, delivery: Delivery<R, C>, recorded: Recorded): Promise<void>;
  /**
   * Records that the job's previous attempt (number `attempt`, begun at `startedAt`) was cut off before its outcome
   * was recorded (the worker crashed or lost the database); runs before the new attempt.
   */
  interrupted?(db: Executor, job: OutboxJob<P>, attempt: { number: number; startedAt: Date }): Promise<void>;
  /** When set and it answers a time, delivery is held back until then without using an attempt (circuit open). */
  heldUntil?(): Date | null;
  backoff?: BackoffPolicy;
}

export type EnqueueInput<P> = {
  kind: string;
  payload: P;
  /** At most one open job per (kind, dedupe key); enqueueing again returns the open one. */
  dedupeKey?: string;
  maxAttempts: number;
  runAt?: Date;
};

export type OutboxOptions = {
  /** How long a claim stays ours; a worker that dies holding one frees it after this. */
  leaseMs: number;
  batchSize: number;
  defaultBackoff: BackoffPolicy;
  random?: () => number;
  onError?: (error: unknown, job?: OutboxRow) => void;
  /** Finished jobs are deleted this long after they finished (the loop purges hourly); default 30 days. */
  keepFinishedMs?: number;
};

const purgeEveryMs = 3_600_000;

/**
 * A durable queue in the database, shared by every module that talks to outside systems.
 * Tests drive it with `runDue()`/`runJob()`; the running server calls `start()`.
 */
export class Outbox {
  readonly repository = new OutboxRepository();
  readonly #handlers = new Map<string, OutboxHandler<never, unknown>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #stopped = true;
  #intervalMs = 1000;
  #lastPurge = 0;
  readonly #random: () => number;
  readonly #onError: (error: unknown, job?: OutboxRow) => void;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly options: OutboxOptions,
  ) {
    this.#random = options.random ?? Math.random;
    this.#onError = unlessUnavailable(options.onError ?? (() => {}));
  }

  register<P, R, C>(kind: string, handler: OutboxHandler<P, R, C>): void {
    if (this.#handlers.has(kind)) throw new Error(`outbox kind ${kind} already has a handler`);
    this.#handlers.set(kind, handler as unknown as OutboxHandler<never, unknown>);
  }

  /** Records work to do, inside the caller's transaction. Returns the job and whether it is new. */
  async enqueue<P extends Record<string, unknown>>(tx: Executor, input: EnqueueInput<P>): Promise<{ job: OutboxJob<P>; created: boolean }> {
    const now = this.clock.now();
    const row = await this.repository.insert(
      tx,
      {
        kind: input.kind,
        dedupeKey: input.dedupeKey ?? null,
        idempotencyKey: randomUUID(),
        payload: input.payload,
        maxAttempts: input.maxAttempts,
        runAt: input.runAt ?? now,
      },
      now,
    );
    if (row) return { job: row as OutboxJob<P>, created: true };
    const open = await this.repository.findOpen(tx, input.kind, input.dedupeKey!);
    // The open job finished between our insert and this read: insert again (no conflict now).
    if (!open) return this.enqueue(tx, input);
    return { job: open as OutboxJob<P>, created: false };
  }

  /** Delivers every due job (one batch per kind at most); returns how many attempts were made. */
  async runDue(): Promise<number> {
    const kinds = this.#readyKinds();
    const jobs = await this.#claim(kinds);
    await Promise.all(jobs.map((job) => this.#track(this.#attempt(job))));
    return jobs.length;
  }

  /** Delivers one job now if it is due and nobody holds it; undefined when it was not ours to run. */
  async runJob(id: number): Promise<Recorded | undefined> {
    const row = await this.repository.find(this.db, id);
    if (!row || !this.#readyKinds().includes(row.kind)) return undefined;
    const [job] = await this.#claim([row.kind], id);
    if (!job) return undefined;
    return this.#track(this.#attempt(job));
  }

  /** Runs due jobs every `intervalMs` until `stop()`; `nudge()` runs them sooner. */
  start(intervalMs: number): void {
    this.#stopped = false;
    this.#schedule(intervalMs);
  }

  /** Asks the loop to look for due work now (after an enqueue committed). */
  nudge(): void {
    if (this.#stopped || this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#schedule(0);
  }

  /** Stops the loop and waits for attempts in flight to be recorded. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #schedule(intervalMs: number): void {
    if (intervalMs > 0) this.#intervalMs = intervalMs;
    this.#timer = setTimeout(() => void this.#tick(), intervalMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    if (this.#stopped) return;
    this.#running = true;
    let claimed = 0;
    try {
      claimed = await this.runDue();
      await this.#purgeNowAndThen();
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#running = false;
    }
    // A full batch means more may be waiting: go again at once.
    if (!this.#stopped) this.#schedule(claimed >= this.options.batchSize ? 0 : this.#intervalMs);
  }

  async #purgeNowAndThen(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.#lastPurge < purgeEveryMs) return;
    this.#lastPurge = now;
    await this.repository.purgeFinished(this.db, new Date(now - (this.options.keepFinishedMs ?? 30 * 86_400_000)), 1000);
  }

  #readyKinds(): string[] {
    const now = this.clock.now().getTime();
    return [...this.#handlers].filter(([, handler]) => (handler.heldUntil?.()?.getTime() ?? 0) <= now).map(([kind]) => kind);
  }

  async #claim(kinds: string[], onlyId?: number): Promise<ClaimedRow[]> {
    const now = this.clock.now();
    return this.repository.claim(this.db, {
      kinds,
      limit: this.options.batchSize,
      now,
      leaseUntil: new Date(now.getTime() + this.options.leaseMs),
      token: randomUUID(),
      onlyId,
    });
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    return promise.finally(() => this.#inFlight.delete(promise));
  }

  async #attempt(claimed: ClaimedRow): Promise<Recorded | undefined> {
    const { interrupted_at: interruptedAt, ...row } = claimed;
    const handler = this.#handlers.get(row.kind)!;
    const job = row as OutboxJob<never>;
    const token = row.claim_token!;
    if (interruptedAt) await handler.interrupted?.(this.db, job, { number: row.attempts - 1, startedAt: interruptedAt });
    const held = handler.heldUntil?.();
    if (held && held.getTime() > this.clock.now().getTime()) {
      await this.repository.releaseClaim(this.db, row.id, token, held, this.clock.now());
      return undefined;
    }
    let delivery: Delivery<unknown>;
    try {
      delivery = await handler.deliver(job);
    } catch (error) {
      // A handler bug must not lose the job: count it as a failed attempt.
      this.#onError(error, row);
      delivery = {
        ok: false,
        error: `internal error: ${(error as Error).message}`,
        retryable: true,
      };
    }
    const now = this.clock.now();
    const recorded = this.#nextState(handler, row, delivery, now);
    try {
      return await this.db.transaction().execute(async (tx) => {
        const ours = await this.repository.finishClaim(
          tx,
          row.id,
          token,
          recorded.state === 'done'
            ? {
                state: 'done',
                lastError: null,
                result: delivery.ok ? toResult(delivery.result) : null,
              }
            : recorded.state === 'dead'
              ? {
                  state: 'dead',
                  lastError: delivery.ok ? null : delivery.error,
                }
              : {
                  state: 'pending',
                  nextAttemptAt: recorded.nextAttemptAt,
                  lastError: delivery.ok ? null : delivery.error,
                },
          now,
        );
        // Our lease ran out and another worker holds the job now: it records; we drop ours.
        if (!ours) return undefined;
        await handler.record(tx, job, delivery, recorded);
        return recorded;
      });
    } catch (error) {
      // Not recorded: the lease runs out and the job is delivered again (same idempotency key).
      this.#onError(error, row);
      return undefined;
    }
  }

  #nextState(handler: OutboxHandler<never, unknown>, row: OutboxRow, delivery: Delivery<unknown>, now: Date): Recorded {
    if (delivery.ok) return { state: 'done' };
    if (!delivery.retryable || row.attempts >= row.max_attempts) return { state: 'dead' };
    const delay = retryDelayMs(row.attempts, handler.backoff ?? this.options.defaultBackoff, this.#random);
    return {
      state: 'retrying',
      nextAttemptAt: new Date(now.getTime() + delay),
    };
  }
}

function toResult(result: unknown): Record<string, unknown> | null {
  if (result === undefined || result === null) return null;
  return typeof result === 'object' && !Array.isArray(result) ? (result as Record<string, unknown>) : { value: result };
}
