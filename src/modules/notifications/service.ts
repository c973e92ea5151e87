import type { Clock } from '../../clock.js';
import type { Db, Executor } from '../../db/database.js';
import type { MailDeliveryRow, UserRow } from '../../db/types.js';
import { AppError, fail, invalid, notFound } from '../../errors.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, canSeeTicket, seesInternal, type Actor } from '../access/policy.js';
import { actorOf } from '../auth/service.js';
import type { TicketsService, TicketView } from '../tickets/service.js';
import type { ViewsService } from '../views/service.js';
import type { DeliveryFilters } from './mail-repository.js';
import { normalizeAddress, type Mailer } from './mailer.js';
import { effectivePreferences, isMailable, type Preferences } from './preferences.js';
import { NotificationsRepository, type Watcher } from './repository.js';
import type { PreferencesUpdateBody } from './schemas.js';

/** A reader's preferences with the address they go to. */
export type ReaderPreferences = Preferences & { email: string };

/** Preferences, watchers, view subscriptions, the mail log and unsubscribing, for the routes. */
export class NotificationsService {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #repository = new NotificationsRepository();

  constructor(
    context: ServiceContext,
    private readonly mailer: Mailer,
    private readonly peers: { tickets: TicketsService; views: ViewsService },
  ) {
    this.#db = context.database.db;
    this.#clock = context.clock;
  }

  async #me(actor: Actor, db: Executor = this.#db): Promise<UserRow> {
    if (actor.id === null) fail('FORBIDDEN', 'only a signed-in user has notification settings');
    return (await this.#repository.findUser(db, actor.id)) ?? fail('FORBIDDEN', 'your account no longer exists');
  }

  // ── Preferences ───────────────────────────────────────────────────────────────────────────

  async preferences(actor: Actor): Promise<ReaderPreferences> {
    assertCan(actor, 'account:read');
    const me = await this.#me(actor);
    return { email: me.email, ...effectivePreferences(await this.#repository.findPreferences(this.#db, me.id)) };
  }

  async updatePreferences(actor: Actor, body: PreferencesUpdateBody): Promise<ReaderPreferences> {
    assertCan(actor, 'account:write');
    return this.#db.transaction().execute(async (tx) => {
      const me = await this.#me(actor, tx);
      if (body.email !== undefined && normalizeAddress(body.email) !== normalizeAddress(me.email)) {
        invalid([{ field: 'email', problem: "is your account's address; change it on your account, not here" }]);
      }
      const current = effectivePreferences(await this.#repository.findPreferences(tx, me.id));
      const next: Preferences = {
        digestMinutes: body.digestMinutes ?? current.digestMinutes,
        events: { ...current.events, ...body.events },
      };
      await this.#repository.savePreferences(
        tx,
        { user_id: me.id, digest_minutes: next.digestMinutes, events: next.events },
        this.#clock.now(),
      );
      return { email: me.email, ...next };
    });
  }

  // ── Watchers ──────────────────────────────────────────────────────────────────────────────

  /** A customer sees only themselves among the watchers: the rest are other people's addresses. */
  async watchers(actor: Actor, ref: string): Promise<Watcher[]> {
    const ticket = await this.peers.tickets.get(actor, ref);
    const watchers = await this.#repository.watchers(this.#db, ticket.id);
    return !seesInternal(actor) ? watchers.filter((watcher) => watcher.user_id === actor.id) : watchers;
  }

  async watch(actor: Actor, ref: string, userId: string | undefined): Promise<Watcher[]> {
    const { ticket, user } = await this.#watcherChange(actor, ref, userId);
    if (!canSeeTicket(actorOf(user, 'token', 'read', ''), ticket)) {
      invalid([{ field: 'userId', problem: 'may not see this ticket (a customer watches only their own tickets)' }]);
    }
    await this.#repository.addWatcher(this.#db, ticket.id, user.id, this.#clock.now());
    return this.watchers(actor, ticket.id);
  }

  async unwatch(actor: Actor, ref: string, userId: string | undefined): Promise<Watcher[]> {
    const { ticket, user } = await this.#watcherChange(actor, ref, userId);
    await this.#repository.removeWatcher(this.#db, ticket.id, user.id);
    return this.watchers(actor, ticket.id);
  }

  /** Anybody who may see the ticket changes their own watching; agents and admins change anybody's. */
  async #watcherChange(actor: Actor, ref: string, userId: string | undefined): Promise<{ ticket: TicketView; user: UserRow }> {
    assertCan(actor, 'account:write');
    const ticket = await this.peers.tickets.get(actor, ref);
    const me = await this.#me(actor);
    if (userId === undefined || userId === me.id) return { ticket, user: me };
    assertCan(actor, 'ticket:watchers');
    const user = await this.#repository.findUser(this.#db, userId);
    if (!user || user.disabled_at !== null) invalid([{ field: 'userId', problem: 'is not an active user' }]);
    return { ticket, user };
  }

  // ── View subscriptions ────────────────────────────────────────────────────────────────────

  async subscription(actor: Actor, viewId: string): Promise<boolean> {
    const view = await this.peers.views.get(actor, viewId);
    const me = await this.#me(actor);
    return this.#repository.isSubscribed(this.#db, view.id, me.id);
  }

  async subscribe(actor: Actor, viewId: string, subscribed: boolean): Promise<boolean> {
    assertCan(actor, 'account:write');
    const view = await this.peers.views.get(actor, viewId);
    const me = await this.#me(actor);
    if (subscribed) await this.#repository.subscribe(this.#db, view.id, me.id, this.#clock.now());
    else await this.#repository.unsubscribe(this.#db, view.id, me.id);
    return subscribed;
  }

  // ── The mail log ──────────────────────────────────────────────────────────────────────────

  deliveries(actor: Actor, filters: DeliveryFilters, limit: number, cursor: string | undefined) {
    assertCan(actor, 'mail:read');
    return this.mailer.repository.listDeliveries(this.#db, { ...filters, to: filters.to && normalizeAddress(filters.to) }, limit, cursor);
  }

  async delivery(actor: Actor, id: string): Promise<MailDeliveryRow> {
    assertCan(actor, 'mail:read');
    return (await this.mailer.repository.findDelivery(this.#db, id)) ?? notFound('mail delivery', id);
  }

  // ── Unsubscribing (no login: the signed token is the permission) ──────────────────────────

  /**
   * Turns off what the token names: for an account, that event in its preferences (every event for
   * '*'), which it can turn on again; for an address without one, a suppression. Repeating it changes nothing.
   */
  /** Who and what an unsubscribe link is for, once its signature is checked; nothing changes yet. */
  async unsubscribeScope(token: string): Promise<{ address: string; event: string }> {
    const scope = await this.mailer.readUnsubscribeToken(token);
    if (scope === 'malformed') invalid([{ field: 'token', problem: 'is not an unsubscribe token' }]);
    if (scope === 'forged') throw new AppError('FORBIDDEN', 'this unsubscribe link is not signed by this server (copied incompletely?)');
    const { address, event } = scope;
    if (event !== '*' && !isMailable(event as never)) invalid([{ field: 'token', problem: `names an unknown event ${event}` }]);
    return { address, event };
  }

  async unsubscribe(token: string): Promise<{ address: string; event: string }> {
    const { address, event } = await this.unsubscribeScope(token);
    const now = this.#clock.now();
    await this.#db.transaction().execute(async (tx) => {
      const user = await this.#repository.findUserByEmail(tx, address);
      if (!user) {
        await this.mailer.repository.suppress(tx, address, event, now);
        return;
      }
      const current = effectivePreferences(await this.#repository.findPreferences(tx, user.id));
      const off = event === '*' ? Object.fromEntries(Object.keys(current.events).map((type) => [type, 'off'])) : { [event]: 'off' };
      await this.#repository.savePreferences(
        tx,
        { user_id: user.id, digest_minutes: current.digestMinutes, events: { ...current.events, ...off } },
        now,
      );
    });
    return { address, event };
  }
}
