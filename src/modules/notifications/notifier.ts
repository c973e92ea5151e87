import type { Clock } from '../../clock.js';
import type { Tx } from '../../db/database.js';
import type { TicketRow, UserRow } from '../../db/types.js';
import { canSeeTicket, canSeeView, seesInternal, ticketVisibility, type Actor } from '../access/policy.js';
import { actorOf } from '../auth/service.js';
import { publicTypeOf } from '../dispatch/catalogue.js';
import type { DomainEvent, EventConsumer } from '../dispatch/dispatcher.js';
import { parseSearch } from '../search/parser.js';
import { searchCondition } from '../search/sql.js';
import { describe, htmlOf, standing, subjectOf, textOf, ticketLabel, type Audience, type Notice } from './compose.js';
import type { Digests } from './digests.js';
import { isMailAddress, normalizeAddress, type Mailer } from './mailer.js';
import { dueAt, effectivePreferences, isMailable, type Preferences } from './preferences.js';
import { NotificationsRepository, type ViewTest } from './repository.js';

/** Someone to mail about a notice: an account, or a bare address (a stage contact, an assignee by address). */
type Recipient = { address: string; user: UserRow | null; reasons: string[]; assignee: boolean };

const reasons = {
  watcher: 'you watch this ticket',
  assignee: 'you are the assignee',
  contact: 'you are the stage contact',
  view: (name: string) => `you subscribed to the view "${name}"`,
};

/**
 * Turns ticket history into mail: finds who is to hear of each event (watchers, the assignee, stage
 * contacts, subscribers of saved views that match the ticket), keeps to what each may see and wants,
 * and queues the mail — or the digest entry — in the dispatcher's transaction.
 */
export class Notifier implements EventConsumer {
  readonly name = 'notifications';
  readonly #repository = new NotificationsRepository();

  constructor(
    private readonly clock: Clock,
    private readonly mailer: Mailer,
    private readonly digests: Digests,
  ) {}

  async handle(tx: Tx, events: readonly DomainEvent[]): Promise<void> {
    const notices = groupNotices(events);
    if (notices.length === 0) return;
    const recipients = await this.#recipients(tx, notices);
    const accounts = [...new Set([...recipients.values()].flat().flatMap((recipient) => (recipient.user ? [recipient.user.id] : [])))];
    const preferences = new Map(
      (await this.#repository.preferencesOf(tx, accounts)).map((stored) => [stored.user_id, effectivePreferences(stored)]),
    );
    const bare = [...new Set([...recipients.values()].flat().flatMap((recipient) => (recipient.user ? [] : [recipient.address])))];
    const suppressions = await this.mailer.repository.suppressionsOf(tx, bare);
    for (const notice of notices) {
      for (const recipient of recipients.get(notice.key) ?? []) {
        const wants = recipient.user
          ? (preferences.get(recipient.user.id) ?? effectivePreferences(undefined))
          : effectivePreferences(undefined);
        const suppressed = suppressions.get(recipient.address);
        if (suppressed?.has(notice.type) || suppressed?.has('*')) continue;
        await this.#notify(tx, notice, recipient, wants);
      }
    }
  }

  async #notify(tx: Tx, notice: Notice, recipient: Recipient, wants: Preferences): Promise<void> {
    const mode = wants.events[notice.type];
    if (mode === 'off') return;
    // A bare address is nobody's account: it hears only the public side.
    const audience: Audience = recipient.user && seesInternal(readerOf(recipient.user)) ? 'staff' : 'public';
    const described = describe(notice, audience, recipient.assignee);
    if (!described) return;
    const ticket = notice.ticket;
    // Every mail says where the ticket stands against both targets, each named.
    const message = { ...described, details: [...described.details, ...standing(ticket, this.clock.now())] };
    const url = this.mailer.ticketUrl(ticket.id);
    const reason = recipient.reasons.join(' and ');
    const subject = subjectOf(ticket, message);
    const due = dueAt(notice.type, mode, wants.digestMinutes, this.clock.now());
    if (due === null) {
      await this.mailer.queue(tx, {
        to: recipient.address,
        subject,
        text: textOf(ticketLabel(ticket), message, url),
        html: htmlOf(ticketLabel(ticket), message, url),
        reason,
        event: notice.type,
        ticketId: ticket.id,
        userId: recipient.user?.id ?? null,
        dedupeKey: notice.key,
      });
      return;
    }
    await this.digests.add(tx, {
      to_address: recipient.address,
      user_id: recipient.user?.id ?? null,
      dedupe_key: notice.key,
      event: notice.type,
      ticket_id: ticket.id,
      ticket_number: ticket.number,
      title: ticketLabel(ticket),
      summary: [message.title, ...message.details, ...(message.quote === null ? [] : [message.quote])].join('\n'),
      reason,
      due_at: due,
      created_at: this.clock.now(),
    });
  }

  /** Everyone to hear of each notice, by notice key: found for the whole batch in a few statements. */
  async #recipients(tx: Tx, notices: readonly Notice[]): Promise<Map<string, Recipient[]>> {
    const tickets = new Map(notices.map((notice) => [notice.ticket.id, notice.ticket]));
    const ticketIds = [...tickets.keys()];
    const stageOf = (notice: Notice) => (notice.events[0].data as { stage_id?: string }).stage_id ?? notice.ticket.current_stage_id;
    const stageIds = [...new Set(notices.flatMap((notice) => stageOf(notice) ?? []))];

    // One statement after another: a transaction is one connection.
    const watchers = await this.#repository.watchersOf(tx, ticketIds);
    const assignees = await this.#repository.assigneesOf(tx, ticketIds);
    const contacts = await this.#repository.stageContacts(tx, stageIds);
    const views = await this.#viewMatches(tx, [...tickets.values()]);
    // A stage contact who has an account is that account: its role and preferences apply.
    const contactAddresses = [...new Set([...contacts.values()].flat().map(normalizeAddress))];
    const accounts = new Map(
      (await this.#repository.usersByEmail(tx, contactAddresses)).map((user) => [normalizeAddress(user.email), user]),
    );

    const perTicket = new Map<string, Map<string, Recipient>>();
    const add = (ticketId: string, address: string, user: UserRow | null, reason: string, assignee = false) => {
      const lowered = normalizeAddress(address);
      if (!isMailAddress(lowered)) return;
      const forTicket = perTicket.get(ticketId) ?? new Map<string, Recipient>();
      perTicket.set(ticketId, forTicket);
      const known = forTicket.get(lowered);
      const account = user ?? accounts.get(lowered) ?? null;
      if (!known) forTicket.set(lowered, { address: lowered, user: account, reasons: [reason], assignee });
      else {
        if (!known.reasons.includes(reason)) known.reasons.push(reason);
        known.assignee ||= assignee;
      }
    };
    for (const { ticket_id, user } of watchers) add(ticket_id, user.email, user, reasons.watcher);
    for (const { ticket_id, user } of assignees) add(ticket_id, user.email, user, reasons.assignee, true);
    // Assigned by an address that is nobody's account: mail the address.
    for (const ticket of tickets.values()) {
      if (ticket.assigned_to && !assignees.some((entry) => entry.ticket_id === ticket.id))
        add(ticket.id, ticket.assigned_to, null, reasons.assignee, true);
    }
    for (const { ticketId, user, viewName } of views) add(ticketId, user.email, user, reasons.view(viewName));

    const result = new Map<string, Recipient[]>();
    for (const notice of notices) {
      const forNotice = new Map(perTicket.get(notice.ticket.id) ?? []);
      const stageId = stageOf(notice);
      for (const contact of (stageId ? contacts.get(stageId) : undefined) ?? []) {
        const lowered = normalizeAddress(contact);
        if (!isMailAddress(lowered)) continue;
        const known = forNotice.get(lowered);
        if (known) forNotice.set(lowered, { ...known, reasons: [...new Set([...known.reasons, reasons.contact])] });
        else forNotice.set(lowered, { address: lowered, user: accounts.get(lowered) ?? null, reasons: [reasons.contact], assignee: false });
      }
      result.set(
        notice.key,
        [...forNotice.values()].filter((recipient) => mayHear(recipient, notice)),
      );
    }
    return result;
  }

  /** Which subscribed views match which of these tickets, each evaluated as its subscriber would see it. */
  async #viewMatches(tx: Tx, tickets: readonly TicketRow[]): Promise<{ ticketId: string; user: UserRow; viewName: string }[]> {
    const subscribers = await this.#repository.viewSubscribers(tx);
    const now = this.clock.now();
    const tests: (ViewTest & { user: UserRow; viewName: string })[] = [];
    for (const [key, subscriber] of subscribers.entries()) {
      const actor = readerOf(subscriber.user);
      if (!canSeeView(actor, { owner_id: subscriber.owner_id, shared: subscriber.shared })) continue;
      let conditions;
      try {
        conditions = [searchCondition(parseSearch(subscriber.query, { now, me: [actor.id!, actor.name] }), now)];
      } catch {
        // A view whose query no longer parses (a named value disappeared) matches nothing until fixed.
        continue;
      }
      tests.push({
        key,
        conditions,
        customerEmails: ticketVisibility(actor)?.customerEmails ?? null,
        user: subscriber.user,
        viewName: subscriber.view_name,
      });
    }
    const byKey = new Map(tests.map((test) => [test.key, test]));
    const matches = await this.#repository.matchingTickets(
      tx,
      tickets.map((ticket) => ticket.id),
      tests,
    );
    return matches.map((match) => ({
      ticketId: match.ticket_id,
      user: byKey.get(match.key)!.user,
      viewName: byKey.get(match.key)!.viewName,
    }));
  }
}

/** A recipient's account as the policy sees it: what it reads, a notice may tell it. */
function readerOf(user: UserRow): Actor {
  return actorOf(user, 'token', 'read', '');
}

/** Nobody is mailed about their own change; an account hears only of tickets the policy lets it see. */
function mayHear(recipient: Recipient, notice: Notice): boolean {
  if (recipient.user && recipient.user.id === notice.actorId) return false;
  return recipient.user === null || canSeeTicket(readerOf(recipient.user), notice.ticket);
}

/**
 * History events as notices: the several `field_changed` rows one update writes (same ticket, actor and
 * moment) become one "updated" notice; events nobody subscribes to are dropped.
 */
export function groupNotices(events: readonly DomainEvent[]): Notice[] {
  const notices = new Map<string, Notice>();
  for (const domainEvent of events) {
    if (domainEvent.kind !== 'history') continue;
    const type = publicTypeOf(domainEvent);
    if (type === null || !isMailable(type)) continue;
    const { event, ticket } = domainEvent;
    const groupKey =
      type === 'ticket.updated'
        ? `update|${event.ticket_id}|${event.actor_id ?? event.actor_name}|${event.created_at.getTime()}`
        : `event|${event.id}`;
    const grouped = notices.get(groupKey);
    if (grouped) {
      grouped.events.push(event);
      continue;
    }
    notices.set(groupKey, {
      key: `event:${event.id}`,
      type,
      ticket,
      actorId: event.actor_id,
      actorName: event.actor_name,
      events: [event],
    });
  }
  return [...notices.values()];
}
