import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { isDatabaseUnavailable } from '../../db/availability.js';
import type { ChangeCursor, Change } from './repository.js';
import { eventIdOf } from './service.js';

const BATCH = 500;
/** Re-read even without a notification: a change held back behind a still-running transaction shows up. */
const POLL_MS = 2_000;
const HEARTBEAT_MS = 15_000;

/** One client's Server-Sent Events stream of changes from its cursor on. */
export class ChangeStream {
  private draining: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: () => void = () => {};

  constructor(
    private readonly raw: ServerResponse,
    private cursor: ChangeCursor,
    private readonly read: (cursor: ChangeCursor, limit: number) => Promise<Change[]>,
    private readonly onError: (error: unknown) => void,
  ) {}

  async open(subscribe: (wake: () => void) => Promise<() => void>): Promise<void> {
    this.raw.on('close', () => void this.close());
    const unsubscribe = await subscribe(() => this.wake());
    // Closed while subscribing (the app shut down, the client left): start nothing that would outlive it.
    if (this.closed) {
      unsubscribe();
      return;
    }
    this.unsubscribe = unsubscribe;
    this.timers.push(setInterval(() => this.wake(), POLL_MS));
    this.timers.push(setInterval(() => this.write(': ping\n\n'), HEARTBEAT_MS));
    this.wake();
  }

  wake(): void {
    if (this.closed) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const changes = await this.read(this.cursor, BATCH);
        for (const change of changes) {
          if (this.closed) return;
          const data = {
            entity: change.entity,
            op: change.op,
            id: change.entity_id,
            ticket_id: change.ticket_id,
            project_id: change.project_id,
            at: change.created_at.toISOString(),
          };
          if (!this.write(`id: ${eventIdOf(change)}\nevent: ${change.entity}\ndata: ${JSON.stringify(data)}\n\n`)) {
            await once(this.raw, 'drain');
          }
          this.cursor = { txid: change.txid, id: change.id };
        }
        if (changes.length < BATCH) return;
      }
    } catch (error) {
      // The database is away: keep the stream open (its heartbeat too); the next poll or wake-up reads on from the cursor.
      if (this.closed || isDatabaseUnavailable(error)) return;
      this.onError(error);
      await this.close();
    }
  }

  private write(text: string): boolean {
    if (this.closed || this.raw.writableEnded) return true;
    return this.raw.write(text);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.unsubscribe();
    if (!this.raw.writableEnded) this.raw.end();
  }
}
