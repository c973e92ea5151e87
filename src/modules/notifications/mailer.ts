import { newId } from '../../ids.js';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Clock } from '../../clock.js';
import type { MailConfig } from '../../config.js';
import type { Db, Executor, Tx } from '../../db/database.js';
import type { MailDeliveryRow } from '../../db/types.js';
import type { ServiceContext } from '../../service-context.js';
import type { EventType } from '../dispatch/catalogue.js';
import type { Delivery, Outbox, OutboxJob, Recorded } from '../outbox/outbox.js';
import { escapeHtml, htmlLink } from './html.js';
import { MailRepository } from './mail-repository.js';
import { mailMetrics, type MailMetrics } from './metrics.js';
import { signUnsubscribe, verifyUnsubscribe, type UnsubscribeScope } from './unsubscribe-token.js';

export const mailKind = 'mail';

/** Attempts per mail before it counts as failed: with the backoff below, 5 to 10 hours of retrying. */
const maxAttempts = 12;
const backoff = { baseMs: 30_000, maxMs: 3 * 3_600_000 };

export type MailInput = {
  to: string;
  subject: string;
  /** The body, plain text; the mailer adds the reason and the unsubscribe link below it. */
  text: string;
  /** The same body as an HTML fragment, its content already escaped. */
  html: string;
  /** Why the reader gets it, as the end of "You got this mail because …" ("you watch this ticket"). */
  reason: string;
  /** The event it tells of; its unsubscribe link turns this event off (without: all mail). */
  event?: EventType | null;
  ticketId?: string | null;
  userId?: string | null;
  /**
   * Names what the mail tells of (an event, a hook's disabling): one address never gets two mails with
   * the same key, however often it is queued.
   */
  dedupeKey: string;
  /** A digest of several events (the delivery log shows it). */
  digest?: boolean;
};

type MailPayload = { deliveryId: string };
type MailResult = { response: string };
type MailContext = { response: string | null };

/** Lower-cased and trimmed: the one spelling of an address in every table. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

export function isMailAddress(address: string): boolean {
  return /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$|^[^\s@<>(),;:"]+@localhost$/.test(address);
}

/**
 * Queues mail through the outbox (kind 'mail') in the caller's transaction and sends it over SMTP,
 * recording each attempt's answer on the delivery row. Without SMTP_URL each mail is only kept
 * (status 'stored'), so what would have been sent can still be read.
 */
export class Mailer {
  readonly repository = new MailRepository();
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #config: MailConfig;
  readonly #outbox: Outbox;
  readonly #metrics: MailMetrics;
  readonly #transport: Transporter | null;
  #secret: string | null;

  constructor(context: ServiceContext, outbox: Outbox) {
    this.#db = context.database.db;
    this.#clock = context.clock;
    this.#config = context.config.mail;
    this.#outbox = outbox;
    this.#secret = this.#config.notifySecret;
    this.#metrics = mailMetrics(context.metrics);
    this.#transport = this.#config.smtpUrl ? nodemailer.createTransport(this.#config.smtpUrl) : null;
    outbox.register<MailPayload, MailResult, MailContext>(mailKind, {
      deliver: (job) => this.#deliver(job),
      record: (tx, job, delivery, recorded) => this.#record(tx, job, delivery, recorded),
      backoff,
    });
  }

  /**
   * Queues one mail; answers the delivery and whether it is new (false: this address already has a
   * mail with this dedupe key), or null when the address turned all mail off.
   */
  async queue(tx: Tx, input: MailInput): Promise<{ delivery: MailDeliveryRow; created: boolean } | null> {
    const address = normalizeAddress(input.to);
    if (await this.repository.isSuppressed(tx, address, '*')) return null;
    const id = newId();
    const unsubscribeUrl = await this.unsubscribeUrl(tx, { address, event: input.event ?? '*' });
    const now = this.#clock.now();
    const row = await this.repository.insertDelivery(tx, {
      id,
      to_address: address,
      dedupe_key: input.dedupeKey,
      subject: input.subject,
      text_body: `${input.text}\n\n-- \nYou got this mail because ${input.reason}.\nUnsubscribe: ${unsubscribeUrl}\n`,
      html_body: htmlDocument(input.html, input.reason, unsubscribeUrl),
      headers: {
        'List-Unsubscribe': `<${unsubscribeUrl}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'Auto-Submitted': 'auto-generated',
      },
      // Stable per delivery: a repeat after a crash between SMTP's answer and our commit is recognisable.
      message_id: `<${id}@${domainOf(this.#config.from)}>`,
      reason: input.reason,
      event: input.event ?? null,
      ticket_id: input.ticketId ?? null,
      user_id: input.userId ?? null,
      digest: input.digest ?? false,
      status: this.#transport ? 'queued' : 'stored',
      created_at: now,
    });
    if (!row) return { delivery: (await this.repository.findDeliveryByKey(tx, address, input.dedupeKey))!, created: false };
    if (this.#transport) {
      await this.#outbox.enqueue<MailPayload>(tx, { kind: mailKind, payload: { deliveryId: row.id }, dedupeKey: row.id, maxAttempts });
    } else {
      this.#metrics.count('stored');
    }
    return { delivery: row, created: true };
  }

  async unsubscribeUrl(db: Executor, scope: UnsubscribeScope): Promise<string> {
    const token = signUnsubscribe(await this.#signingKey(db), scope);
    return `${this.#config.publicUrl}/api/notifications/unsubscribe?token=${token}`;
  }

  async readUnsubscribeToken(token: string): Promise<ReturnType<typeof verifyUnsubscribe>> {
    return verifyUnsubscribe(await this.#signingKey(this.#db), token);
  }

  /** The link to a ticket in the dashboard. */
  ticketUrl(ticketId: string): string {
    return `${this.#config.publicUrl}/app/tickets/${encodeURIComponent(ticketId)}`;
  }

  async #signingKey(db: Executor): Promise<string> {
    this.#secret ??= await this.repository.storedSecret(db);
    return this.#secret;
  }

  async #deliver(job: OutboxJob<MailPayload>): Promise<Delivery<MailResult, MailContext>> {
    const row = await this.repository.findDelivery(this.#db, job.payload.deliveryId);
    if (!row) return { ok: false, error: 'the delivery record is gone', retryable: false };
    try {
      const info = (await this.#transport!.sendMail({
        from: this.#config.from,
        to: row.to_address,
        subject: row.subject,
        text: row.text_body,
        html: row.html_body,
        headers: row.headers,
        messageId: row.message_id,
        date: row.created_at,
      })) as { response?: string };
      const response = info.response ?? '';
      return { ok: true, result: { response }, context: { response } };
    } catch (error) {
      const failure = error as Error & { responseCode?: number; response?: string };
      // 5xx is the server's final word on this mail (unknown mailbox, refused); anything else may pass later.
      const permanent = failure.responseCode !== undefined && failure.responseCode >= 500;
      return { ok: false, error: failure.message, retryable: !permanent, context: { response: failure.response ?? null } };
    }
  }

  async #record(tx: Tx, job: OutboxJob<MailPayload>, delivery: Delivery<MailResult, MailContext>, recorded: Recorded): Promise<void> {
    const status = recorded.state === 'done' ? 'sent' : recorded.state === 'retrying' ? 'retrying' : 'failed';
    const now = this.#clock.now();
    await this.repository.recordAttempt(
      tx,
      job.payload.deliveryId,
      {
        status,
        attempts: job.attempts,
        smtpResponse: delivery.context?.response ?? null,
        error: delivery.ok ? null : delivery.error,
        sentAt: delivery.ok ? now : null,
      },
      now,
    );
    this.#metrics.count(status);
  }
}

function domainOf(from: string): string {
  return /@([^\s@<>]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
}

function htmlDocument(body: string, reason: string, unsubscribeUrl: string): string {
  return (
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.4">' +
    body +
    '<hr style="border: none; border-top: 1px solid #ddd; margin-top: 2em">' +
    `<p style="color: #666; font-size: 12px">You got this mail because ${escapeHtml(reason)}. ` +
    `${htmlLink(unsubscribeUrl, 'Unsubscribe')}</p></body></html>`
  );
}
