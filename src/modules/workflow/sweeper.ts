import type { Clock } from '../../clock.js';
import type { Db } from '../../db/database.js';
import type { ServiceContext } from '../../service-context.js';
import { SweepRepository, type Crossing } from './repository.js';

const BATCH = 500;
export const SWEEP_INTERVAL_MS = 15_000;

/**
 * Records the first crossing of at-risk and overdue for every open stage and ticket as history events
 * (notifications hang on these). Delay state itself never waits for it: it is computed at query time.
 * Safe to run in several processes at once.
 */
export class DelaySweeper {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly sweeps = new SweepRepository();

  constructor(context: ServiceContext) {
    this.db = context.database.db;
    this.clock = context.clock;
  }

  /** One full sweep, in batches; returns what it recorded. */
  async sweep(): Promise<Crossing[]> {
    const recorded: Crossing[] = [];
    for (;;) {
      const now = this.clock.now();
      const batch = await this.db.transaction().execute((tx) => this.sweeps.recordCrossings(tx, now, BATCH));
      recorded.push(...batch.crossings);
      if (!batch.more) return recorded;
    }
  }
}
