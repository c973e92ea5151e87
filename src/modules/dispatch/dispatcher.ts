import type { Clock } from '../../clock.js';
import { unlessUnavailable } from '../../db/availability.js';
import type { Db, Tx } from '../../db/database.js';
import type { TicketEventRow, TicketRow } from '../../db/types.js';
import type { ChangeFeed } from '../events/feed.js';
import type { ChangeCursor, EventsService } from '../events/service.js';
import { DispatchRepository } from './repository.js';

/** What happened to a ticket, as consumers of ticket history see it. */
export type DomainEvent =
  | { kind: 'history'; event: TicketEventRow; ticket: TicketRow }
  | { kind: 'ticket_deleted'; ticketId: string; projectId: string | null; at: Date };

/**
 * Something that acts on ticket history — e-mail notifications, webhooks. `handle` runs in the
 * transaction that moves the consumer's cursor past the events, so work it queues there (outbox jobs)
 * is queued exactly once per event: never lost if the process dies, never twice if it restarts.
 */
export interface EventConsumer {
  readonly name: string;
  handle(tx: Tx, events: readonly DomainEvent[]): Promise<void>;
}

const BATCH = 200;
/** The least time between two runs woken by notifications: the commits of that window go as one batch. */
const COALESCE_MS = 50;

/** Orders two cursors as the change log does: by transaction, then by id. */
function compareCursors(a: ChangeCursor, b: ChangeCursor): number {
  const byTx = BigInt(a.txid) - BigInt(b.txid);
  if (byTx !== 0n) return byTx < 0n ? -1 : 1;
  return a.id - b.id;
}

/** A range of the change log as consumers take it. */
type Batch = { changes: Awaited<ReturnType<EventsService['historyAfter']>>; events: DomainEvent[] };

/**
 * Tails the change log for history inserts and ticket deletions and hands them, in commit order, to
 * each registered consumer from its own stored cursor. Safe to run in several processes at once: the
 * cursor row is locked while a batch is handled.
 */
export class EventDispatcher {
  readonly #consumers = new Map<string, EventConsumer>();
  readonly #repository = new DispatchRepository();
  readonly #storedCursors = new Map<string, Promise<void>>();
  /** Where each consumer's cursor stood when this process last locked or moved it: never ahead of the stored one. */
  readonly #seen = new Map<string, ChangeCursor>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;
  #again = false;
  #pause: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** The change log, which the events module owns. */
    private readonly changes: Pick<EventsService, 'head' | 'historyAfter'>,
  ) {}

  register(consumer: EventConsumer): void {
    if (this.#consumers.has(consumer.name)) throw new Error(`event consumer ${consumer.name} is already registered`);
    this.#consumers.set(consumer.name, consumer);
  }

  /**
   * Hands every final change to every consumer; returns how many events were handed over. A consumer
   * seen for the first time starts from now: it does not replay history written before it existed.
   */
  async dispatch(): Promise<number> {
    let handed = 0;
    if (!(await this.#anythingNew())) return 0;
    // One read of the change log (and of its events with their tickets) serves every consumer whose cursor stands at
    // the same place: consumers usually move together, so the second reads nothing again (issue 19).
    const read = new Map<string, Promise<Batch>>();
    for (const consumer of this.#consumers.values()) {
      await this.#stored(consumer);
      for (;;) {
        const { count, cursor } = await this.db.transaction().execute((tx) => this.#dispatchBatch(tx, consumer, read));
        // Committed: the stored cursor is there now (or further on, moved by another process meanwhile).
        if (cursor) this.#seen.set(consumer.name, cursor);
        handed += count;
        if (count < BATCH) break;
      }
    }
    return handed;
  }

  /** The consumer's cursor row, written the first time this process dispatches to it (not on every change). */
  #stored(consumer: EventConsumer): Promise<void> {
    let stored = this.#storedCursors.get(consumer.name);
    if (!stored) {
      stored = this.changes.head(this.db).then((head) => this.#repository.ensureConsumer(this.db, consumer.name, head));
      stored.catch(() => this.#storedCursors.delete(consumer.name));
      this.#storedCursors.set(consumer.name, stored);
    }
    return stored;
  }

  /**
   * Whether any consumer may have a final change to take: one read of the change log from the earliest cursor this
   * process saw (a stored cursor only moves on, so nothing after it means nothing after any stored one), instead of a
   * transaction per consumer that locks its cursor to find nothing. Under a steady stream of writes most wake-ups find
   * nothing final yet (issue 19). Unknown cursors (a consumer not dispatched to yet): yes.
   */
  async #anythingNew(): Promise<boolean> {
    let earliest: ChangeCursor | undefined;
    for (const name of this.#consumers.keys()) {
      const cursor = this.#seen.get(name);
      if (!cursor) return true;
      if (!earliest || compareCursors(cursor, earliest) < 0) earliest = cursor;
    }
    if (!earliest) return false;
    return (await this.changes.historyAfter(this.db, earliest, 1)).length > 0;
  }

  async #dispatchBatch(
    tx: Tx,
    consumer: EventConsumer,
    read: Map<string, Promise<Batch>>,
  ): Promise<{ count: number; cursor?: ChangeCursor }> {
    const cursor = await this.#repository.lockCursor(tx, consumer.name);
    if (!cursor) return { count: 0 };
    const key = `${cursor.txid}-${cursor.id}`;
    let batch = read.get(key);
    if (!batch) {
      batch = this.#read(tx, cursor);
      read.set(key, batch);
      // A failed read is not shared: the next consumer there reads again.
      batch.catch(() => read.delete(key));
    }
    const { changes, events } = await batch;
    if (changes.length === 0) return { count: 0, cursor };
    if (events.length > 0) await consumer.handle(tx, events);
    const last = changes[changes.length - 1];
    const moved = { txid: last.txid, id: last.id };
    await this.#repository.moveCursor(tx, consumer.name, moved, this.clock.now());
    return { count: changes.length, cursor: moved };
  }

  /** The changes after `cursor` (final ones only, so the same for every reader) and the events they are. */
  async #read(tx: Tx, cursor: ChangeCursor): Promise<Batch> {
    const changes = await this.changes.historyAfter(tx, cursor, BATCH);
    if (changes.length === 0) return { changes, events: [] };
    const historyIds = changes.filter((change) => change.entity === 'history').map((change) => Number(change.entity_id));
    const found = new Map((await this.#repository.eventsWithTickets(tx, historyIds)).map((entry) => [Number(entry.event.id), entry]));
    const events: DomainEvent[] = [];
    for (const change of changes) {
      if (change.entity === 'ticket') {
        events.push({ kind: 'ticket_deleted', ticketId: change.entity_id, projectId: change.project_id, at: change.created_at });
        continue;
      }
      const entry = found.get(Number(change.entity_id));
      if (entry) events.push({ kind: 'history', ...entry });
    }
    return { changes, events };
  }

  /**
   * Dispatches on every change-log notification and every `intervalMs`, until `stop()`. While the database is
   * away a run fails quietly; the next notification (the feed sends one when it reconnects) or tick catches up.
   */
  async start(feed: ChangeFeed, onError: (error: unknown) => void, intervalMs = 5_000): Promise<void> {
    if (this.#timer || this.#consumers.size === 0) return;
    const reportError = unlessUnavailable(onError);
    const run = () => {
      if (this.#running || this.#pause) {
        this.#again = true;
        return;
      }
      // This run reads whatever the wake-ups so far announced.
      this.#again = false;
      this.#running = this.dispatch()
        .catch(reportError)
        .finally(() => {
          this.#running = null;
          if (this.#again && this.#timer) {
            // Woken while it ran: once more, after a pause that gathers a stream of commits into one batch (a run per
            // commit cost more statements than the writes themselves, issue 19).
            this.#pause = setTimeout(() => {
              this.#pause = null;
              run();
            }, COALESCE_MS);
            this.#pause.unref();
          }
        });
    };
    this.#timer = setInterval(run, intervalMs);
    this.#timer.unref();
    this.#unsubscribe = await feed.subscribe(run);
    // A consumer seen for the first time starts at the change log's head: store that before returning, so whatever is
    // written once start() has returned reaches it (not only what is written after its first run got going).
    await Promise.all([...this.#consumers.values()].map((consumer) => this.#stored(consumer))).catch(reportError);
    run();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#pause) clearTimeout(this.#pause);
    this.#pause = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#again = false;
    await this.#running;
  }
}
