import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { OpsConfig } from '../../config.js';
import type { Db, Executor, Tx } from '../../db/database.js';
import type { OpsLogAction, OutboxRow, TicketRow, TicketRowUpdate, TicketStatus } from '../../db/types.js';
import { AppError, fail } from '../../errors.js';
import type { AuditLog } from '../audit/service.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, type Actor } from '../access/policy.js';
import type { TicketEvent, TicketsService } from '../tickets/service.js';
import { isWellFormedId } from '../tickets/validation.js';
import type { Delivery, Outbox, OutboxJob, Recorded } from '../outbox/outbox.js';
import type { WorkflowService } from '../workflow/service.js';
import { CircuitBreaker } from './breaker.js';
import { OpsClient, type Exchange } from './client.js';
import { statusDetails, type OpsCallbackBody, type OpsStatus, type OpsTicketInput } from './contract.js';
import { opsMetrics, type OpsMetrics } from './metrics.js';
import { presentHandOff, presentLogEntry } from './presenter.js';
import { OpsRepository, opsOpenStatuses, type LogFilters } from './repository.js';

export const opsSendKind = 'ops.send';

type SendPayload = { ticketId: string; action: 'send' | 'retry' };
type SendResult = { opsId: string; acceptedAt: string };
type SendContext = { exchange: Exchange | null };

export type SendOptions = { wait: boolean; force: boolean; retry: boolean };

export type Delivered = { ticketId: string; opsId: string; timestamp: string };
export type SendOutcome = { delivered: Delivered } | { handOff: OutboxRow };

export type StatusAnswer = {
  ticketId: string;
  status: string;
  updated: string;
  details: string;
};

/** The old backend answered status only for these (and 400 "Cannot query status for ticket in 'new' state" otherwise). */
const queryableStatuses: readonly TicketStatus[] = ['sent', 'in_progress', 'closed', 'delayed'];

/** Callbacks older (or newer) than this are refused; signatures are remembered twice as long. */
const callbackToleranceMs = 5 * 60_000;

const opsActor = { actor_id: null, actor_name: 'ops' } as const;

function ticketNotFound(): never {
  // The old backend's exact words; its clients may match on them.
  throw new AppError('NOT_FOUND', 'Ticket not found');
}

/**
 * Hands tickets to OPS through the outbox, asks OPS for their state (on request, by polling, by
 * callback), and records every exchange in `log_entries` in the transaction that applies it.
 */
export class OpsService {
  readonly client: OpsClient;
  readonly breaker: CircuitBreaker;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #config: OpsConfig;
  readonly #outbox: Outbox;
  readonly #repository = new OpsRepository();
  readonly #metrics: OpsMetrics;
  #pollCursor: string | null = null;

  constructor(
    context: ServiceContext,
    outbox: Outbox,
    private readonly workflow: Pick<WorkflowService, 'enterFinalStage'>,
    private readonly audit: AuditLog,
    private readonly tickets: Pick<TicketsService, 'findRow' | 'lockRow' | 'updateRow' | 'appendEvents'>,
  ) {
    this.#db = context.database.db;
    this.#clock = context.clock;
    this.#config = context.config.ops;
    this.#outbox = outbox;
    this.breaker = new CircuitBreaker(context.clock, this.#config.breakerThreshold, this.#config.breakerCooldownMs);
    this.client = new OpsClient(this.#config.url, this.#config.token, this.#config.timeoutMs, this.breaker);
    this.#metrics = opsMetrics(context.metrics, {
      queueDepth: () => outbox.repository.depth(this.#db),
      breakerState: () => this.breaker.state,
    });
    outbox.register<SendPayload, SendResult, SendContext>(opsSendKind, {
      deliver: (job) => this.#deliver(job),
      record: (tx, job, delivery, recorded) => this.#recordDelivery(tx, job, delivery, recorded),
      interrupted: (db, job, attempt) => this.#recordInterrupted(db, job, attempt),
      heldUntil: () => this.breaker.heldUntil(),
      backoff: {
        baseMs: this.#config.retryBaseMs,
        maxMs: this.#config.retryMaxMs,
      },
    });
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
      const ticket = (await this.tickets.findRow(tx, ref, true)) ?? ticketNotFound();
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
      await this.#changeTicket(tx, ticket, { status: 'pending', ops_error: null }, actor, null);
      await this.audit.record(tx, {
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
    const ticket = (await this.tickets.findRow(this.#db, ref)) ?? ticketNotFound();
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

  async #deliver(job: OutboxJob<SendPayload>): Promise<Delivery<SendResult, SendContext>> {
    const ticket = await this.tickets.findRow(this.#db, job.payload.ticketId);
    if (!ticket)
      return {
        ok: false,
        error: 'the ticket was deleted before OPS accepted it',
        retryable: false,
        context: { exchange: null },
      };
    const { exchange, data } = await this.client.send(opsTicket(ticket), job.idempotency_key);
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
  async #recordInterrupted(db: Executor, job: OutboxJob<SendPayload>, attempt: { number: number; startedAt: Date }) {
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

  async #recordDelivery(tx: Tx, job: OutboxJob<SendPayload>, delivery: Delivery<SendResult, SendContext>, recorded: Recorded) {
    const { ticketId, action } = job.payload;
    const exchange = delivery.context?.exchange ?? null;
    await this.#log(tx, ticketId, action, exchange, {
      attempt: job.attempts,
      opsId: delivery.ok ? delivery.result.opsId : null,
      error: delivery.ok ? null : delivery.error,
    });
    const ticket = await this.tickets.lockRow(tx, ticketId);
    if (!ticket) return;
    if (delivery.ok) {
      await this.#changeTicket(
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
      await this.#changeTicket(
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

  // ── Status ─────────────────────────────────────────────────────────────────────────────────

  /** Asks OPS for the ticket's state now and applies it; 503 with the last known state when OPS does not answer. */
  async status(actor: Actor, ref: string): Promise<StatusAnswer> {
    assertCan(actor, 'ops:read');
    const ticket = (await this.tickets.findRow(this.#db, ref)) ?? ticketNotFound();
    if (!queryableStatuses.includes(ticket.status)) fail('VALIDATION_FAILED', `Cannot query status for ticket in '${ticket.status}' state`);
    if (ticket.ops_id === null) fail('VALIDATION_FAILED', `Cannot query status for ticket ${ticket.id}: OPS never accepted it (no OPS id)`);
    const { exchange, data } = await this.#sync(ticket, 'query');
    if (!data) {
      throw new AppError('UPSTREAM_UNAVAILABLE', `OPS system unavailable: ${exchange.error}`, [], {
        data: {
          ticketId: ticket.id,
          status: ticket.status,
          updated: ticket.updated_at.toISOString(),
          details: `last known status; ${exchange.error}`,
        },
      });
    }
    return {
      ticketId: ticket.id,
      status: data.status,
      updated: data.updated,
      details: data.details,
    };
  }

  /** One round of the poller: the next batch of tickets OPS holds, asked a few at a time. */
  async pollOnce(batchSize = 100, concurrency = 4): Promise<{ checked: number; changed: number }> {
    const rows = await this.#repository.openHandOffs(this.#db, this.#pollCursor, batchSize);
    this.#pollCursor = rows.length < batchSize ? null : rows[rows.length - 1].id;
    let checked = 0;
    let changed = 0;
    for (let i = 0; i < rows.length && this.breaker.heldUntil() === null; i += concurrency) {
      const results = await Promise.all(rows.slice(i, i + concurrency).map((row) => this.#sync(row, 'poll')));
      checked += results.length;
      changed += results.filter((result) => result.changed).length;
    }
    await this.#repository.forgetSignatures(this.#db, new Date(this.#clock.now().getTime() - 2 * callbackToleranceMs));
    return { checked, changed };
  }

  async #sync(ticket: Pick<TicketRow, 'id' | 'ops_id'>, action: 'query' | 'poll') {
    const { exchange, data } = await this.client.status(ticket.ops_id!);
    const changed = await this.#db.transaction().execute(async (tx) => {
      await this.#log(tx, ticket.id, action, exchange, {
        opsId: ticket.ops_id,
        error: exchange.error,
      });
      return data ? this.#applyOpsStatus(tx, ticket.id, ticket.ops_id!, data.status, data.details, action) : false;
    });
    return { exchange, data, changed };
  }

  /** Mirrors OPS's state on the ticket while OPS holds it; a ticket resent or settled here is left alone. */
  async #applyOpsStatus(
    tx: Tx,
    ticketId: string,
    opsId: string,
    status: OpsStatus,
    details: string,
    source: OpsLogAction,
  ): Promise<boolean> {
    const ticket = await this.tickets.lockRow(tx, ticketId);
    if (!ticket || ticket.ops_id !== opsId || ticket.status === status) return false;
    if (!(opsOpenStatuses as readonly string[]).includes(ticket.status)) return false;
    await this.#changeTicket(tx, ticket, { status }, null, {
      type: 'ops_status_changed',
      data: { ops_id: opsId, details, source },
    });
    // OPS and the workflow agree (issue 20): closed by OPS is the project's final stage, in this same transaction.
    if (status === 'closed') await this.workflow.enterFinalStage(tx, ticket.id, opsActor, `OPS reported the ticket closed (${source})`);
    return true;
  }

  // ── Callbacks ──────────────────────────────────────────────────────────────────────────────

  /** Checks a callback's HMAC signature and age before its body is even parsed (401 otherwise). */
  verifyCallback(rawBody: string, signatureHeader: string | undefined, timestampHeader: string | undefined): string {
    const secret = this.#config.callbackSecret;
    const refuse = (message: string): never => {
      throw new AppError('UNAUTHENTICATED', message);
    };
    if (secret === null) refuse('OPS callbacks are not enabled on this server (OPS_CALLBACK_SECRET is not set)');
    if (!timestampHeader || !/^\d{1,12}$/.test(timestampHeader)) refuse('X-OPS-Timestamp is missing or not whole seconds since the epoch');
    if (Math.abs(this.#clock.now().getTime() - Number(timestampHeader) * 1000) > callbackToleranceMs) {
      refuse('X-OPS-Timestamp is more than 5 minutes away from our clock: an old or replayed callback');
    }
    const match = /^sha256=([0-9a-f]{64})$/i.exec(signatureHeader ?? '');
    if (!match) refuse('X-OPS-Signature is missing or not sha256=<64 hex digits>');
    const expected = createHmac('sha256', secret!).update(`${timestampHeader}.${rawBody}`).digest();
    if (!timingSafeEqual(expected, Buffer.from(match![1], 'hex'))) refuse('X-OPS-Signature does not match the body');
    return match![1].toLowerCase();
  }

  /** Applies a verified callback; a signature seen before is a replay (401). */
  async callback(body: OpsCallbackBody, signature: string): Promise<{ ticketId: string; opsId: string; status: TicketStatus }> {
    const now = this.#clock.now();
    return this.#db.transaction().execute(async (tx) => {
      if (!(await this.#repository.rememberSignature(tx, signature, now))) {
        throw new AppError('UNAUTHENTICATED', 'this callback was received before: a replay is refused');
      }
      const ticket = await this.#repository.findTicketByOpsId(tx, body.opsId);
      if (!ticket) throw new AppError('NOT_FOUND', `no ticket has OPS id ${body.opsId}`);
      const details = body.details ?? statusDetails[body.status];
      await this.#repository.insertLog(tx, {
        ticketId: ticket.id,
        action: 'callback',
        success: true,
        at: now,
        opsId: body.opsId,
        request: { body },
      });
      this.#metrics.observe('callback', null);
      await this.#applyOpsStatus(tx, ticket.id, body.opsId, body.status, details, 'callback');
      const after = await this.tickets.findRow(tx, ticket.id);
      return {
        ticketId: ticket.id,
        opsId: body.opsId,
        status: after?.status ?? ticket.status,
      };
    });
  }

  // ── The log ────────────────────────────────────────────────────────────────────────────────

  logs(actor: Actor, filters: LogFilters, limit: number, cursor: string | undefined) {
    assertCan(actor, 'ops:read');
    return this.#repository.listLogs(this.#db, filters, limit, cursor);
  }

  /** A ticket's exchanges; they outlive the ticket, so a deleted ticket's id still finds them. */
  async ticketLogs(actor: Actor, ref: string, filters: Omit<LogFilters, 'ticketId'>, limit: number, cursor: string | undefined) {
    assertCan(actor, 'ops:read');
    let ticketId = ref;
    if (/^\d{1,15}$/.test(ref)) ticketId = (await this.tickets.findRow(this.#db, ref))?.id ?? ticketNotFound();
    else if (!isWellFormedId(ref)) ticketNotFound();
    return this.#repository.listLogs(this.#db, { ...filters, ticketId }, limit, cursor);
  }

  /** The OPS client's connections; the background jobs (src/jobs/) are stopped before this. */
  async close(): Promise<void> {
    await this.client.close();
  }

  // ── Shared steps ───────────────────────────────────────────────────────────────────────────

  async #log(
    tx: Tx,
    ticketId: string,
    action: OpsLogAction,
    exchange: Exchange | null,
    extra: { attempt?: number; opsId?: string | null; error?: string | null },
  ) {
    this.#metrics.observe(action, exchange);
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
  async #changeTicket(
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
    await this.tickets.updateRow(tx, ticket.id, update);
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
    if (event) await this.tickets.appendEvents(tx, [event]);
  }
}

/** A ticket status in words for messages ("in progress", not "in_progress"). */
function statusWords(status: string): string {
  return `status ${status.replace(/_/g, ' ')}`;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
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
