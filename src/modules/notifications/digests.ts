import type { Tx } from '../../db/database.js';
import type { MailDigestItemRow } from '../../db/types.js';
import type { EventType } from '../dispatch/catalogue.js';
import type { Outbox } from '../outbox/outbox.js';
import { escapeHtml, htmlLink } from './html.js';
import type { NewDigestItem } from './mail-repository.js';
import type { Mailer } from './mailer.js';

export const digestKind = 'mail.digest';

type DigestPayload = { address: string; dueAt: string };

/**
 * Events waiting to go out together: a reader's digest, and at-risk/overdue alerts gathered over a short
 * window. One outbox job per (address, due moment) sends them as one mail when it is due; the job's
 * work is only in the database, so it runs in the transaction that finishes it.
 */
export class Digests {
  constructor(
    private readonly outbox: Outbox,
    private readonly mailer: Mailer,
  ) {
    outbox.register<DigestPayload, null, never>(digestKind, {
      deliver: () => Promise.resolve({ ok: true, result: null }),
      record: (tx, job, _delivery, recorded) => (recorded.state === 'done' ? this.#send(tx, job.payload) : Promise.resolve()),
    });
  }

  /** Keeps the event for the address's mail due at `item.due_at`, and makes sure that mail is scheduled. */
  async add(tx: Tx, item: NewDigestItem): Promise<void> {
    if (!(await this.mailer.repository.insertDigestItem(tx, item))) return;
    const schedule = {
      kind: digestKind,
      payload: { address: item.to_address, dueAt: item.due_at.toISOString() },
      dedupeKey: `${item.to_address}|${item.due_at.toISOString()}`,
      maxAttempts: 10,
      runAt: item.due_at,
    };
    const { job, created } = await this.outbox.enqueue<DigestPayload>(tx, schedule);
    // The job exists and may be finishing right now: hold it so it cannot finish before our item is
    // visible to it; if it finished already, our item needs a job of its own.
    if (created || (await this.mailer.repository.holdOpenJob(tx, job.id))) return;
    await this.outbox.enqueue<DigestPayload>(tx, schedule);
  }

  async #send(tx: Tx, payload: DigestPayload): Promise<void> {
    const items = await this.mailer.repository.takeDigestItems(tx, payload.address, new Date(payload.dueAt));
    if (items.length === 0) return;
    const tickets = [...new Set(items.map((item) => item.ticket_id))];
    const events = [...new Set(items.map((item) => item.event))];
    const reasons = [...new Set(items.map((item) => item.reason))];
    const subject =
      items.length === 1
        ? `[Stageline ${items[0].title}] ${items[0].summary.split('\n')[0]}`
        : `[Stageline] ${items.length} updates on ${tickets.length} ticket${tickets.length === 1 ? '' : 's'}`;
    await this.mailer.queue(tx, {
      to: payload.address,
      subject,
      text: this.#text(items),
      html: this.#html(items),
      reason: reasons.join(' and '),
      event: events.length === 1 ? (events[0] as EventType) : null,
      ticketId: tickets.length === 1 ? tickets[0] : null,
      userId: items[0].user_id,
      dedupeKey: `digest:${items[0].id}`,
      digest: true,
    });
  }

  #text(items: MailDigestItemRow[]): string {
    return items.map((item) => `${item.title}\n${item.summary}\n${this.mailer.ticketUrl(item.ticket_id)}`).join('\n\n');
  }

  #html(items: MailDigestItemRow[]): string {
    const entries = items.map(
      (item) =>
        `<li><strong>${escapeHtml(item.title)}</strong><br><span style="white-space: pre-wrap">${escapeHtml(item.summary)}</span><br>` +
        `${htmlLink(this.mailer.ticketUrl(item.ticket_id), 'Open the ticket')}</li>`,
    );
    return `<ul style="padding-left: 1em">${entries.join('')}</ul>`;
  }
}
