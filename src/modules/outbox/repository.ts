import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { keysetPage, type SortKey } from '../../db/keyset.js';
import type { OutboxRow } from '../../db/types.js';

export type NewJob = {
  kind: string;
  dedupeKey: string | null;
  idempotencyKey: string;
  payload: Record<string, unknown>;
  maxAttempts: number;
  runAt: Date;
};

/** A claimed job; `interrupted_at` is when the previous claim began if that attempt never recorded its outcome. */
export type ClaimedRow = OutboxRow & { interrupted_at: Date | null };

export type JobUpdate = {
  state: 'pending' | 'done' | 'dead';
  nextAttemptAt?: Date;
  lastError?: string | null;
  result?: Record<string, unknown> | null;
};

const pendingOrder = [
  { column: 'created_at', kind: 'timestamp' },
  { column: 'id', kind: 'integer' },
] as const satisfies readonly SortKey[];

export class OutboxRepository {
  /** Inserts the job, or returns null when an open job with the same (kind, dedupe key) exists. */
  async insert(db: Executor, job: NewJob, now: Date): Promise<OutboxRow | null> {
    const row = await db
      .insertInto('outbox')
      .values({
        kind: job.kind,
        dedupe_key: job.dedupeKey,
        idempotency_key: job.idempotencyKey,
        payload: JSON.stringify(job.payload),
        max_attempts: job.maxAttempts,
        next_attempt_at: job.runAt,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(['kind', 'dedupe_key']).where('state', '=', 'pending').where('dedupe_key', 'is not', null).doNothing())
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  async findOpen(db: Executor, kind: string, dedupeKey: string): Promise<OutboxRow | undefined> {
    return db
      .selectFrom('outbox')
      .selectAll()
      .where('kind', '=', kind)
      .where('dedupe_key', '=', dedupeKey)
      .where('state', '=', 'pending')
      .executeTakeFirst();
  }

  async find(db: Executor, id: number): Promise<OutboxRow | undefined> {
    return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Claims up to `limit` due jobs of the given kinds (or the one job `onlyId`): each gets an attempt,
   * a claim token and a lease — its next_attempt_at moves to the lease's end, so if the worker dies
   * before recording, the job becomes due again then. SKIP LOCKED lets workers claim side by side. A job that still
   * holds a claim token was claimed before and never finished or released: that attempt was cut off.
   */
  async claim(
    db: Executor,
    options: {
      kinds: readonly string[];
      limit: number;
      now: Date;
      leaseUntil: Date;
      token: string;
      onlyId?: number;
    },
  ): Promise<ClaimedRow[]> {
    if (options.kinds.length === 0) return [];
    const only = options.onlyId === undefined ? sql`` : sql`and id = ${options.onlyId}`;
    const result = await sql<ClaimedRow>`
      update outbox
         set attempts = outbox.attempts + 1, claim_token = ${options.token}, claimed_at = ${options.now},
             next_attempt_at = ${options.leaseUntil}, updated_at = ${options.now}
        from (
          select id, claim_token as previous_token, claimed_at as previous_claimed_at from outbox
           where state = 'pending' and next_attempt_at <= ${options.now}
             and kind in (${sql.join(options.kinds)}) ${only}
           order by next_attempt_at, id
           limit ${options.limit}
           for update skip locked) due
       where outbox.id = due.id
      returning outbox.*, case when due.previous_token is not null then due.previous_claimed_at end as interrupted_at`.execute(db);
    return result.rows;
  }

  /** Records a claimed job's outcome; false when the claim is no longer ours (lease expired, reclaimed). */
  async finishClaim(db: Executor, id: number, token: string, update: JobUpdate, now: Date): Promise<boolean> {
    const result = await db
      .updateTable('outbox')
      .set({
        state: update.state,
        ...(update.nextAttemptAt ? { next_attempt_at: update.nextAttemptAt } : {}),
        ...(update.lastError !== undefined ? { last_error: update.lastError } : {}),
        ...(update.result !== undefined
          ? {
              result: update.result === null ? null : JSON.stringify(update.result),
            }
          : {}),
        claim_token: null,
        updated_at: now,
        finished_at: update.state === 'pending' ? null : now,
      })
      .where('id', '=', id)
      .where('claim_token', '=', token)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Gives a claim back without counting it as an attempt (the worker chose not to deliver now). */
  async releaseClaim(db: Executor, id: number, token: string, runAt: Date, now: Date): Promise<void> {
    await db
      .updateTable('outbox')
      .set((eb) => ({
        attempts: eb('attempts', '-', 1),
        claim_token: null,
        next_attempt_at: runAt,
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('claim_token', '=', token)
      .where('state', '=', 'pending')
      .execute();
  }

  /** Pending jobs of a kind, oldest first, one keyset page. */
  listPending(db: Executor, kind: string, limit: number, cursor: string | undefined) {
    const query = db.selectFrom('outbox').selectAll().where('kind', '=', kind).where('state', '=', 'pending');
    return keysetPage(query, pendingOrder, false, limit, cursor);
  }

  async countPending(db: Executor, kind: string): Promise<number> {
    const row = await db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('kind', '=', kind)
      .where('state', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Pending jobs per kind (the queue-depth metric). */
  async depth(db: Executor): Promise<{ kind: string; count: number }[]> {
    const rows = await db
      .selectFrom('outbox')
      .select(['kind', (eb) => eb.fn.countAll<number>().as('count')])
      .where('state', '=', 'pending')
      .groupBy('kind')
      .execute();
    return rows.map((row) => ({ kind: row.kind, count: Number(row.count) }));
  }

  /** Deletes finished jobs older than `before`, a batch at a time; returns how many went. */
  async purgeFinished(db: Executor, before: Date, batch: number): Promise<number> {
    const result = await sql`
      delete from outbox where id in (
        select id from outbox where state <> 'pending' and finished_at < ${before} limit ${batch})`.execute(db);
    return Number(result.numAffectedRows ?? 0);
  }
}
