import type { Db, Executor } from '../../db/database.js';
import { invalid } from '../../errors.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, type Actor } from '../access/policy.js';
import type { ProjectsService } from '../projects/service.js';
import { ChangeFeed } from './feed.js';
import { ChangesRepository, type Change, type ChangeCursor } from './repository.js';

export type { ChangeCursor };

/** How long the change log keeps changes for resuming streams. */
export const CHANGE_RETENTION_MS = 7 * 24 * 3_600_000;

const EVENT_ID = /^(\d{1,20})-(\d{1,19})$/;

export const eventIdOf = (change: Pick<Change, 'txid' | 'id'>) => `${change.txid}-${change.id}`;

/** The change log as a resumable stream: who may read it, where a stream starts, what comes next. */
export class EventsService {
  readonly feed: ChangeFeed;
  private readonly db: Db;
  private readonly changes = new ChangesRepository();

  constructor(
    context: ServiceContext,
    private readonly projects: ProjectsService,
  ) {
    this.db = context.database.db;
    this.feed = new ChangeFeed(context.database);
  }

  /** Checks access and parses `Last-Event-ID`; a stream without one starts with the changes from now on. */
  async start(
    actor: Actor,
    project: string | undefined,
    lastEventId: string | undefined,
  ): Promise<{ cursor: ChangeCursor; projectId: string | null }> {
    assertCan(actor, 'events:read');
    let cursor: ChangeCursor | undefined;
    if (lastEventId !== undefined && lastEventId !== '') {
      const match = EVENT_ID.exec(lastEventId.trim());
      if (!match || !Number.isSafeInteger(Number(match[2]))) {
        invalid([{ field: 'last-event-id', problem: 'must be an event id this stream sent ("<txid>-<id>")' }]);
      }
      cursor = { txid: match[1], id: Number(match[2]) };
    }
    let projectId: string | null = null;
    if (project) {
      const found = await this.projects.find(this.db, project);
      if (!found) invalid([{ field: 'project', problem: `no project "${project}"` }]);
      projectId = found.id;
    }
    return { cursor: cursor ?? (await this.changes.head(this.db)), projectId };
  }

  /** Forgets changes older than the retention; a stream resumed from before that gets what is left. */
  prune(now: Date): Promise<number> {
    return this.changes.prune(this.db, new Date(now.getTime() - CHANGE_RETENTION_MS));
  }

  read(cursor: ChangeCursor, projectId: string | null, limit: number): Promise<Change[]> {
    return this.changes.after(this.db, cursor, { projectId }, limit);
  }

  // The change log for the consumers of ticket history (the dispatcher), read in their transaction: the table stays
  // private to this module (issue 21).

  /** Where a new reader starts: just before anything not yet final. */
  head(db: Executor): Promise<ChangeCursor> {
    return this.changes.head(db);
  }

  /** New history rows and deleted tickets after the cursor, in commit-safe order. */
  historyAfter(db: Executor, cursor: ChangeCursor, limit: number): Promise<Change[]> {
    return this.changes.after(db, cursor, { historyAndDeletions: true }, limit);
  }
}
