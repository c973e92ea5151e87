import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../../db/database.js';
import { customerEmailIn } from '../../db/sql-helpers.js';
import type { UserRow } from '../../db/types.js';

export type StoredPreferences = { user_id: string; digest_minutes: number; events: Record<string, string> };

export type Watcher = { user_id: string; name: string; email: string };

/** One subscriber of one saved view, with the view's query to evaluate as that subscriber. */
export type ViewSubscriber = { view_id: string; view_name: string; query: string; owner_id: string; shared: boolean; user: UserRow };

/** A saved view's search, as SQL, to test a batch of tickets against for one subscriber. */
export type ViewTest = { key: number; conditions: RawBuilder<boolean>[]; customerEmails: string[] | null };

/** Preferences, watchers, view subscriptions, and who is to hear of a ticket's events. */
export class NotificationsRepository {
  findPreferences(db: Executor, userId: string): Promise<StoredPreferences | undefined> {
    return db
      .selectFrom('notification_preferences')
      .select(['user_id', 'digest_minutes', 'events'])
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  preferencesOf(db: Executor, userIds: readonly string[]): Promise<StoredPreferences[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return db
      .selectFrom('notification_preferences')
      .select(['user_id', 'digest_minutes', 'events'])
      .where('user_id', 'in', userIds)
      .execute();
  }

  async savePreferences(db: Executor, preferences: StoredPreferences, now: Date): Promise<void> {
    const events = JSON.stringify(preferences.events);
    await db
      .insertInto('notification_preferences')
      .values({ user_id: preferences.user_id, digest_minutes: preferences.digest_minutes, events, updated_at: now })
      .onConflict((conflict) =>
        conflict.column('user_id').doUpdateSet({ digest_minutes: preferences.digest_minutes, events, updated_at: now }),
      )
      .execute();
  }

  findUser(db: Executor, id: string): Promise<UserRow | undefined> {
    return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
    return db
      .selectFrom('users')
      .selectAll()
      .where(sql<boolean>`lower(email) = ${email}`)
      .executeTakeFirst();
  }

  /** Enabled accounts with these (lower-case) addresses. */
  usersByEmail(db: Executor, emails: readonly string[]): Promise<UserRow[]> {
    if (emails.length === 0) return Promise.resolve([]);
    return db
      .selectFrom('users')
      .selectAll()
      .where(sql<boolean>`lower(email) in (${sql.join(emails)})`)
      .where('disabled_at', 'is', null)
      .execute();
  }

  watchers(db: Executor, ticketId: string): Promise<Watcher[]> {
    return db
      .selectFrom('ticket_watchers as w')
      .innerJoin('users as u', 'u.id', 'w.user_id')
      .select(['w.user_id', 'u.name', 'u.email'])
      .where('w.ticket_id', '=', ticketId)
      .orderBy('w.created_at')
      .orderBy('w.user_id')
      .execute();
  }

  async addWatcher(db: Executor, ticketId: string, userId: string, now: Date): Promise<void> {
    await db
      .insertInto('ticket_watchers')
      .values({ ticket_id: ticketId, user_id: userId, created_at: now })
      .onConflict((conflict) => conflict.columns(['ticket_id', 'user_id']).doNothing())
      .execute();
  }

  async removeWatcher(db: Executor, ticketId: string, userId: string): Promise<void> {
    await db.deleteFrom('ticket_watchers').where('ticket_id', '=', ticketId).where('user_id', '=', userId).execute();
  }

  async isSubscribed(db: Executor, viewId: string, userId: string): Promise<boolean> {
    const row = await db
      .selectFrom('view_subscriptions')
      .select('view_id')
      .where('view_id', '=', viewId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async subscribe(db: Executor, viewId: string, userId: string, now: Date): Promise<void> {
    await db
      .insertInto('view_subscriptions')
      .values({ view_id: viewId, user_id: userId, created_at: now })
      .onConflict((conflict) => conflict.columns(['view_id', 'user_id']).doNothing())
      .execute();
  }

  async unsubscribe(db: Executor, viewId: string, userId: string): Promise<void> {
    await db.deleteFrom('view_subscriptions').where('view_id', '=', viewId).where('user_id', '=', userId).execute();
  }

  // ── Who hears of a batch of tickets' events ───────────────────────────────────────────────

  /** The enabled watchers of these tickets. */
  async watchersOf(db: Executor, ticketIds: readonly string[]): Promise<{ ticket_id: string; user: UserRow }[]> {
    if (ticketIds.length === 0) return [];
    const rows = await db
      .selectFrom('ticket_watchers as w')
      .innerJoin('users as u', 'u.id', 'w.user_id')
      .selectAll('u')
      .select('w.ticket_id as watched_ticket_id')
      .where('w.ticket_id', 'in', ticketIds)
      .where('u.disabled_at', 'is', null)
      .execute();
    return rows.map(({ watched_ticket_id, ...user }) => ({ ticket_id: watched_ticket_id, user }));
  }

  /**
   * The account each ticket is assigned to: `assigned_to` holds a user's id, e-mail address or name
   * (what `assignee:me` matches); a name counts only when exactly one account has it.
   */
  async assigneesOf(db: Executor, ticketIds: readonly string[]): Promise<{ ticket_id: string; user: UserRow }[]> {
    if (ticketIds.length === 0) return [];
    const { rows } = await sql<UserRow & { assigned_ticket_id: string }>`
      select u.*, t.id as assigned_ticket_id
      from tickets t
      join users u on u.disabled_at is null and (
        u.id = t.assigned_to or lower(u.email) = lower(t.assigned_to)
        or (lower(u.name) = lower(t.assigned_to) and (select count(*) from users n where lower(n.name) = lower(t.assigned_to)) = 1))
      where t.id in (${sql.join(ticketIds)}) and t.assigned_to is not null`.execute(db);
    return rows.map(({ assigned_ticket_id, ...user }) => ({ ticket_id: assigned_ticket_id, user: user as UserRow }));
  }

  async stageContacts(db: Executor, stageIds: readonly string[]): Promise<Map<string, string[]>> {
    if (stageIds.length === 0) return new Map();
    const rows = await db.selectFrom('stages').select(['id', 'contact_emails']).where('id', 'in', stageIds).execute();
    return new Map(rows.map((row) => [row.id, row.contact_emails]));
  }

  /** Every enabled subscriber of every saved view. */
  async viewSubscribers(db: Executor): Promise<ViewSubscriber[]> {
    const rows = await db
      .selectFrom('view_subscriptions as s')
      .innerJoin('saved_views as v', 'v.id', 's.view_id')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .selectAll('u')
      .select(['v.id as view_id', 'v.name as view_name', 'v.query as view_query', 'v.owner_id as view_owner_id', 'v.shared as view_shared'])
      .where('u.disabled_at', 'is', null)
      .execute();
    return rows.map(({ view_id, view_name, view_query, view_owner_id, view_shared, ...user }) => ({
      view_id,
      view_name,
      query: view_query,
      owner_id: view_owner_id,
      shared: view_shared,
      user,
    }));
  }

  /**
   * Which of these tickets each test's search matches, in one statement: the saved views' own SQL
   * (search conditions and the subscriber's customer restriction), never a re-implementation in JS.
   */
  async matchingTickets(
    db: Executor,
    ticketIds: readonly string[],
    tests: readonly ViewTest[],
  ): Promise<{ key: number; ticket_id: string }[]> {
    if (ticketIds.length === 0 || tests.length === 0) return [];
    const selects = tests.map((test) => {
      const conditions = [
        sql<boolean>`id in (${sql.join(ticketIds)})`,
        ...test.conditions,
        ...(test.customerEmails ? [customerEmailIn('customer_email', test.customerEmails)] : []),
      ];
      return sql`select ${test.key}::integer as key, id as ticket_id from tickets where ${sql.join(conditions, sql` and `)}`;
    });
    const { rows } = await sql<{ key: number; ticket_id: string }>`${sql.join(selects, sql` union all `)}`.execute(db);
    return rows;
  }
}
