import type { Clock } from '../../clock.js';
import type { Db, Executor, Tx } from '../../db/database.js';
import type { TicketRow } from '../../db/types.js';
import type { ServiceContext } from '../../service-context.js';
import type { Delivery, OutboxHandler, OutboxJob, Recorded } from '../outbox/outbox.js';
import type { TicketsService } from '../tickets/service.js';
import type { Exchange } from './client.js';
import type { OpsTicketInput } from './contract.js';
import type { OpsLink } from './link.js';
import { OpsRepository } from './repository.js';

export const opsSendKind = 'ops.send';

export type SendPayload = { ticketId: string; action: 'send' | 'retry' };
export type SendResult = { opsId: string; acceptedAt: string };
type SendContext = { exchange: Exchange | null };

/**
 * The outbox's handler of OPS hand-offs: one call to OPS with the job's idempotency key, its outcome on the ticket and
 * in the log, held back while the breaker is open. Registered with the outbox in src/services.ts.
 */
export class OpsSender implements OutboxHandler<SendPayload, SendResult, SendContext> {
  readonly backoff: { baseMs: number; maxMs: number };
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #repository = new OpsRepository();
  readonly #link: OpsLink;
  readonly #tickets: Pick<TicketsService, 'findRow' | 'lockRow'>;

  constructor(context: ServiceContext, deps: { link: OpsLink; tickets: Pick<TicketsService, 'findRow' | 'lockRow'> }) {
    ({ link: this.#link, tickets: this.#tickets } = deps);
    this.#db = context.database.db;
    this.#clock = context.clock;
    this.backoff = { baseMs: context.config.ops.retryBaseMs, maxMs: context.config.ops.retryMaxMs };
  }

  /** While the breaker is open, hand-offs wait without using an attempt. */
  heldUntil(): Date | null {
    return this.#link.breaker.heldUntil();
  }

  async deliver(job: OutboxJob<SendPayload>): Promise<Delivery<SendResult, SendContext>> {
    const ticket = await this.#tickets.findRow(this.#db, job.payload.ticketId);
    if (!ticket)
      return {
        ok: false,
        error: 'the ticket was deleted before OPS accepted it',
        retryable: false,
        context: { exchange: null },
      };
    const { exchange, data } = await this.#link.client.send(opsTicket(ticket), job.idempotency_key);
    if (data)
      return {
        ok: true,
        result: { opsId: data.opsId, acceptedAt: data.acceptedAt },
        context: { exchange },
      };
    return {
      ok: false,
      error: exchange.error ?? 'OPS did not accept the ticket',
      retryable: exchange.retryable,
      context: { exchange },
    };
  }

  /** OPS may have received the cut-off call (it deduplicates by the job's idempotency key): the log says so. */
  async interrupted(db: Executor, job: OutboxJob<SendPayload>, attempt: { number: number; startedAt: Date }) {
    await this.#repository.insertLog(db, {
      ticketId: job.payload.ticketId,
      action: 'interrupted',
      success: false,
      at: this.#clock.now(),
      attempt: attempt.number,
      error:
        `attempt ${attempt.number} (${job.payload.action}), begun ${attempt.startedAt.toISOString()}, was cut off before its ` +
        'outcome was recorded (the worker stopped or lost the database); OPS may have received it',
    });
  }

  async record(tx: Tx, job: OutboxJob<SendPayload>, delivery: Delivery<SendResult, SendContext>, recorded: Recorded) {
    const { ticketId, action } = job.payload;
    const exchange = delivery.context?.exchange ?? null;
    await this.#link.log(tx, ticketId, action, exchange, {
      attempt: job.attempts,
      opsId: delivery.ok ? delivery.result.opsId : null,
      error: delivery.ok ? null : delivery.error,
    });
    const ticket = await this.#tickets.lockRow(tx, ticketId);
    if (!ticket) return;
    if (delivery.ok) {
      await this.#link.changeTicket(
        tx,
        ticket,
        {
          ...(ticket.status === 'pending' ? { status: 'sent' } : {}),
          ops_id: delivery.result.opsId,
          ops_error: null,
        },
        null,
        {
          type: 'ops_sent',
          data: {
            ops_id: delivery.result.opsId,
            attempt: job.attempts,
            action,
          },
        },
      );
    } else if (recorded.state === 'dead') {
      await this.#link.changeTicket(
        tx,
        ticket,
        {
          ...(ticket.status === 'pending' ? { status: 'failed' } : {}),
          ops_error: delivery.error,
        },
        null,
        {
          type: 'ops_failed',
          data: { error: delivery.error, attempts: job.attempts, action },
        },
      );
    }
  }
}

/** The ticket as OPS receives it (the old backend's vocabulary). */
function opsTicket(ticket: TicketRow): OpsTicketInput {
  return {
    ticketId: ticket.id,
    number: ticket.number,
    subject: ticket.subject,
    description: ticket.description,
    priority: ticket.priority,
    category: ticket.category,
    customer: {
      name: ticket.customer_name,
      email: ticket.customer_email,
      phone: ticket.customer_phone,
    },
  };
}
