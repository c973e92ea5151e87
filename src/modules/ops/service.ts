import type { Db } from '../../db/database.js';
import type { OpsConfig } from '../../config.js';
import type { OutboxRow } from '../../db/types.js';
import { AppError, fail } from '../../errors.js';
import type { AuditLog } from '../audit/service.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, type Actor } from '../access/policy.js';
import type { TicketsService } from '../tickets/service.js';
import { isWellFormedId } from '../tickets/validation.js';
import type { Outbox } from '../outbox/outbox.js';
import { ticketNotFound, type OpsLink } from './link.js';
import { presentHandOff, presentLogEntry } from './presenter.js';
import { OpsRepository, opsOpenStatuses, type LogFilters } from './repository.js';
import { opsSendKind, type SendPayload, type SendResult } from './sender.js';

export type SendOptions = { wait: boolean; force: boolean; retry: boolean };

export type Delivered = { ticketId: string; opsId: string; timestamp: string };
export type SendOutcome = { delivered: Delivered } | { handOff: OutboxRow };

/**
 * Hands tickets to OPS through the outbox and answers what OPS holds: a ticket's hand-off, the queue, the exchange log.
 * The outbox delivers a hand-off with `OpsSender` (sender.ts); `OpsStatusSync` (status.ts) mirrors OPS's state.
 */
export class OpsService {
  readonly #db: Db;
  readonly #config: OpsConfig;
  readonly #repository = new OpsRepository();
  readonly #outbox: Outbox;
  readonly #link: OpsLink;
  readonly #tickets: Pick<TicketsService, 'findRow'>;
  readonly #audit: AuditLog;

  constructor(context: ServiceContext, deps: { outbox: Outbox; link: OpsLink; tickets: Pick<TicketsService, 'findRow'>; audit: AuditLog }) {
    ({ outbox: this.#outbox, link: this.#link, tickets: this.#tickets, audit: this.#audit } = deps);
    this.#db = context.database.db;
    this.#config = context.config.ops;
  }

  // ── Sending ────────────────────────────────────────────────────────────────────────────────

  /**
   * Queues the hand-off in the transaction that marks the ticket `pending`, then (with `wait`) tries
   * to deliver it at once for up to OPS_WAIT_MS. Whatever happens after the commit, the hand-off is
   * not lost: the outbox workers deliver it.
   */
  async send(actor: Actor, ref: string, options: SendOptions): Promise<SendOutcome> {
    assertCan(actor, 'ops:send');
    const job = await this.#db.transaction().execute(async (tx) => {
      const ticket = (await this.#tickets.findRow(tx, ref, true)) ?? ticketNotFound();
      const open = await this.#outbox.repository.findOpen(tx, opsSendKind, ticket.id);
      if (open) {
        throw new AppError(
          'CONFLICT',
          `Ticket #${ticket.number} is already on its way to OPS (${open.attempts} of ${open.max_attempts} attempts made); wait for it to be accepted or to fail`,
          [],
          { data: presentHandOff(open) },
        );
      }
      if (ticket.ops_id !== null && ticket.status !== 'failed' && !options.force) {
        fail(
          'CONFLICT',
          `Ticket #${ticket.number} is already with OPS (${ticket.ops_id}, ${statusWords(ticket.status)}). Sending it again creates a second OPS ticket, so it is an explicit action: send with ?force=true`,
        );
      }
      if (options.retry && ticket.status !== 'failed' && !options.force) {
        fail(
          'CONFLICT',
          `Ticket #${ticket.number} has not failed (${statusWords(ticket.status)}): only a failed hand-off is retried. Sending it again anyway is an explicit action: send with ?force=true`,
        );
      }
      const action = options.retry || ticket.status === 'failed' ? 'retry' : 'send';
      const { job } = await this.#outbox.enqueue<SendPayload>(tx, {
        kind: opsSendKind,
        dedupeKey: ticket.id,
        payload: { ticketId: ticket.id, action },
        maxAttempts: this.#config.maxAttempts,
      });
      await this.#link.changeTicket(tx, ticket, { status: 'pending', ops_error: null }, actor, null);
      await this.#audit.record(tx, {
        actor,
        action: action === 'retry' ? 'ops.retried' : 'ops.sent',
        target: { type: 'ticket', id: ticket.id },
        details: { handOff: job.id, force: options.force ?? false },
      });
      return job;
    });
    this.#outbox.nudge();
    if (!options.wait || this.#config.waitMs === 0) return { handOff: job };

    const attempt = this.#outbox.runJob(job.id).catch(() => undefined);
    const recorded = await Promise.race([attempt, delay(this.#config.waitMs)]);
    const current = (await this.#outbox.repository.find(this.#db, job.id)) ?? job;
    if (recorded?.state === 'done' && current.result) {
      const result = current.result as SendResult;
      return {
        delivered: {
          ticketId: job.payload.ticketId,
          opsId: result.opsId,
          timestamp: result.acceptedAt,
        },
      };
    }
    return { handOff: current };
  }

  /**
   * The ticket's hand-off as it stands now (issue 20): what the OPS panel shows and which send it may offer. Read from
   * the ticket row, its open hand-off and its last exchange, so it is never staler than the last commit.
   */
  async handOffState(actor: Actor, ref: string) {
    assertCan(actor, 'ops:read');
    const ticket = (await this.#tickets.findRow(this.#db, ref)) ?? ticketNotFound();
    const [open, last] = await Promise.all([
      this.#outbox.repository.findOpen(this.#db, opsSendKind, ticket.id),
      this.#repository.listLogs(this.#db, { ticketId: ticket.id }, 1, undefined),
    ]);
    const held = ticket.ops_id !== null && (opsOpenStatuses as readonly string[]).includes(ticket.status);
    const state = open
      ? ('on_its_way' as const)
      : ticket.status === 'failed'
        ? ('failed' as const)
        : held
          ? ('with_ops' as const)
          : ticket.ops_id !== null && ticket.status === 'closed'
            ? ('closed_by_ops' as const)
            : ('not_sent' as const);
    const summary = {
      on_its_way: () =>
        `On its way to OPS: ${open!.attempts} of ${open!.max_attempts} attempts made${open!.last_error ? `, the last failed (${open!.last_error})` : ''}.`,
      failed: () => `Handing it to OPS failed${ticket.ops_error ? `: ${ticket.ops_error}` : ''}. Send it again to retry.`,
      with_ops: () =>
        `OPS holds it as ${ticket.ops_id} (${statusWords(ticket.status)}). Sending it again would create a second OPS ticket.`,
      closed_by_ops: () => `OPS closed it (${ticket.ops_id}).`,
      not_sent: () => 'Not sent to OPS.',
    }[state]();
    return {
      ticket_id: ticket.id,
      number: ticket.number,
      status: ticket.status,
      ops_id: ticket.ops_id,
      ops_error: ticket.ops_error,
      state,
      summary,
      hand_off: open ? presentHandOff(open) : null,
      last_exchange: last.rows[0] ? presentLogEntry(last.rows[0]) : null,
      send: open ? ('none' as const) : state === 'with_ops' || state === 'closed_by_ops' ? ('resend' as const) : ('send' as const),
    };
  }

  /** Open hand-offs, oldest first. */
  queue(actor: Actor, limit: number, cursor: string | undefined) {
    assertCan(actor, 'ops:read');
    return this.#outbox.repository.listPending(this.#db, opsSendKind, limit, cursor);
  }

  // ── Status ─────────────────────────────────────────────────────────────────────────────────

  // ── The log ────────────────────────────────────────────────────────────────────────────────

  logs(actor: Actor, filters: LogFilters, limit: number, cursor: string | undefined) {
    assertCan(actor, 'ops:read');
    return this.#repository.listLogs(this.#db, filters, limit, cursor);
  }

  /** A ticket's exchanges; they outlive the ticket, so a deleted ticket's id still finds them. */
  async ticketLogs(actor: Actor, ref: string, filters: Omit<LogFilters, 'ticketId'>, limit: number, cursor: string | undefined) {
    assertCan(actor, 'ops:read');
    let ticketId = ref;
    if (/^\d{1,15}$/.test(ref)) ticketId = (await this.#tickets.findRow(this.#db, ref))?.id ?? ticketNotFound();
    else if (!isWellFormedId(ref)) ticketNotFound();
    return this.#repository.listLogs(this.#db, { ...filters, ticketId }, limit, cursor);
  }
}

/** A ticket status in words for messages ("in progress", not "in_progress"). */
function statusWords(status: string): string {
  return `status ${status.replace(/_/g, ' ')}`;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
