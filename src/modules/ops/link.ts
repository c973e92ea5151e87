import type { Clock } from '../../clock.js';
import type { Tx } from '../../db/database.js';
import type { OpsLogAction, TicketRow, TicketRowUpdate } from '../../db/types.js';
import { AppError } from '../../errors.js';
import type { ServiceContext } from '../../service-context.js';
import type { Actor } from '../access/policy.js';
import type { Outbox } from '../outbox/outbox.js';
import type { TicketEvent, TicketsService } from '../tickets/service.js';
import { CircuitBreaker } from './breaker.js';
import { OpsClient, type Exchange } from './client.js';
import { opsMetrics, type OpsMetrics } from './metrics.js';
import { OpsRepository } from './repository.js';

/** OPS as the author of the changes it makes to a ticket. */
export const opsActor = { actor_id: null, actor_name: 'ops' } as const;

export function ticketNotFound(): never {
  // The old backend's exact words; its clients may match on them.
  throw new AppError('NOT_FOUND', 'Ticket not found');
}

/**
 * What the hand-off, the sender and the status sync share: the client behind its circuit breaker, the metrics, and what
 * an exchange writes in the transaction that applies it (its `log_entries` row, the ticket's change with one history
 * event).
 */
export class OpsLink {
  readonly client: OpsClient;
  readonly breaker: CircuitBreaker;
  readonly #clock: Clock;
  readonly #repository = new OpsRepository();
  readonly #metrics: OpsMetrics;
  readonly #tickets: Pick<TicketsService, 'updateRow' | 'appendEventsQuery'>;

  constructor(context: ServiceContext, deps: { outbox: Outbox; tickets: Pick<TicketsService, 'updateRow' | 'appendEventsQuery'> }) {
    const config = context.config.ops;
    this.#clock = context.clock;
    this.#tickets = deps.tickets;
    this.breaker = new CircuitBreaker(context.clock, config.breakerThreshold, config.breakerCooldownMs);
    this.client = new OpsClient(config.url, config.token, config.timeoutMs, this.breaker);
    this.#metrics = opsMetrics(context.metrics, {
      queueDepth: () => deps.outbox.repository.depth(context.database.db),
      breakerState: () => this.breaker.state,
    });
  }

  /** Counts an exchange (or a callback, which has none) in the metrics. */
  observe(action: OpsLogAction, exchange: Exchange | null): void {
    this.#metrics.observe(action, exchange);
  }

  /** Counts the exchange and writes its log entry. */
  async log(
    tx: Tx,
    ticketId: string,
    action: OpsLogAction,
    exchange: Exchange | null,
    extra: { attempt?: number; opsId?: string | null; error?: string | null },
  ) {
    this.observe(action, exchange);
    await this.#repository.insertLog(tx, {
      ticketId,
      action,
      success: exchange !== null && exchange.failure === null && !extra.error,
      at: this.#clock.now(),
      attempt: extra.attempt ?? null,
      httpStatus: exchange?.httpStatus ?? null,
      latencyMs: exchange?.latencyMs ?? null,
      opsId: extra.opsId ?? null,
      request: exchange?.request ?? null,
      response: exchange?.response ?? null,
      error: extra.error ?? null,
    });
  }

  /**
   * Updates the ticket and writes ONE history event for the change (issue 20): the OPS event, carrying `old`/`new` when
   * the status moves too (`ops_status_changed` is public then, as a status change is), or `status_changed` alone when
   * the change has no OPS event (a send marks the ticket pending).
   */
  async changeTicket(
    tx: Tx,
    ticket: TicketRow,
    changes: Pick<TicketRowUpdate, 'status' | 'ops_id' | 'ops_error'>,
    actor: Actor | null,
    opsEvent: {
      type: 'ops_sent' | 'ops_failed' | 'ops_status_changed';
      data: Record<string, unknown>;
    } | null,
  ): Promise<void> {
    const now = this.#clock.now();
    const who = actor ? { actor_id: actor.id, actor_name: actor.name } : opsActor;
    const statusChanges = changes.status !== undefined && changes.status !== ticket.status;
    const update: TicketRowUpdate = { ...changes, updated_at: now };
    if (!statusChanges) delete update.status;
    else if (changes.status === 'closed') update.closed_at = now;
    else if (ticket.status === 'closed') update.closed_at = null;
    const status = statusChanges ? { old: ticket.status, new: changes.status } : {};
    const event: TicketEvent | null = opsEvent
      ? {
          ticket_id: ticket.id,
          type: opsEvent.type,
          ...who,
          data: { ...opsEvent.data, ...status },
          visibility: opsEvent.type === 'ops_status_changed' && statusChanges ? 'public' : 'internal',
          created_at: now,
        }
      : statusChanges
        ? { ticket_id: ticket.id, type: 'status_changed', ...who, data: status, created_at: now }
        : null;
    // The update and its history event in one statement.
    await this.#tickets.updateRow(tx, ticket.id, update, event ? [this.#tickets.appendEventsQuery(tx, [event])] : []);
  }

  /** The OPS client's connections; the background jobs (src/jobs/) are stopped before this. */
  async close(): Promise<void> {
    await this.client.close();
  }
}
