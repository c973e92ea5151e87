import type { Database } from '../../db/database.js';
import { CHANGE_CHANNEL } from '../../db/migrations/0002_workflows.js';

/**
 * One LISTEN per process on the change-log channel, fanned out to every open stream. A notification
 * only says "look again": each stream reads the change log from its own cursor, so a missed or
 * coalesced notification loses nothing. On PostgreSQL, changes committed by any Stageline process
 * notify every process.
 */
export class ChangeFeed {
  private readonly wakers = new Set<() => void>();
  private unlisten: Promise<() => Promise<void>> | null = null;

  constructor(private readonly database: Database) {}

  async subscribe(wake: () => void): Promise<() => void> {
    this.wakers.add(wake);
    this.unlisten ??= this.database.listen(CHANGE_CHANNEL, () => {
      for (const waker of this.wakers) waker();
    });
    try {
      await this.unlisten;
    } catch (error) {
      this.unlisten = null;
      this.wakers.delete(wake);
      throw error;
    }
    return () => this.wakers.delete(wake);
  }

  async close(): Promise<void> {
    this.wakers.clear();
    const unlisten = this.unlisten;
    this.unlisten = null;
    if (unlisten) await (await unlisten.catch(() => async () => {}))();
  }
}
