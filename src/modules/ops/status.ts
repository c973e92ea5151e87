import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { OpsConfig } from '../../config.js';
import type { Db, Tx } from '../../db/database.js';
import type { OpsLogAction, TicketRow, TicketStatus } from '../../db/types.js';
import { AppError, fail } from '../../errors.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, type Actor } from '../access/policy.js';
import type { TicketsService } from '../tickets/service.js';
import type { WorkflowService } from '../workflow/service.js';
import { statusDetails, type OpsCallbackBody, type OpsStatus } from './contract.js';
import { opsActor, ticketNotFound, type OpsLink } from './link.js';
import { OpsRepository, opsOpenStatuses } from './repository.js';

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

/**
 * OPS's state mirrored on the tickets it holds, learnt three ways: asked on request, by the poller (a job in
 * src/jobs/), and from OPS's signed callbacks. Each exchange is logged in the transaction that applies it.
 */
export class OpsStatusSync {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #config: OpsConfig;
  readonly #repository = new OpsRepository();
  readonly #link: OpsLink;
  readonly #tickets: Pick<TicketsService, 'findRow' | 'lockRow'>;
  readonly #workflow: Pick<WorkflowService, 'enterFinalStage'>;
  #pollCursor: string | null = null;

  constructor(
    context: ServiceContext,
    deps: { link: OpsLink; tickets: Pick<TicketsService, 'findRow' | 'lockRow'>; workflow: Pick<WorkflowService, 'enterFinalStage'> },
  ) {
    ({ link: this.#link, tickets: this.#tickets, workflow: this.#workflow } = deps);
    this.#db = context.database.db;
    this.#clock = context.clock;
    this.#config = context.config.ops;
  }

  /** Asks OPS for the ticket's state now and applies it; 503 with the last known state when OPS does not answer. */
  async status(actor: Actor, ref: string): Promise<StatusAnswer> {
    assertCan(actor, 'ops:read');
    const ticket = (await this.#tickets.findRow(this.#db, ref)) ?? ticketNotFound();
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
    for (let i = 0; i < rows.length && this.#link.breaker.heldUntil() === null; i += concurrency) {
      const results = await Promise.all(rows.slice(i, i + concurrency).map((row) => this.#sync(row, 'poll')));
      checked += results.length;
      changed += results.filter((result) => result.changed).length;
    }
    await this.#repository.forgetSignatures(this.#db, new Date(this.#clock.now().getTime() - 2 * callbackToleranceMs));
    return { checked, changed };
  }

  async #sync(ticket: Pick<TicketRow, 'id' | 'ops_id'>, action: 'query' | 'poll') {
    const { exchange, data } = await this.#link.client.status(ticket.ops_id!);
    const changed = await this.#db.transaction().execute(async (tx) => {
      await this.#link.log(tx, ticket.id, action, exchange, {
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
    const ticket = await this.#tickets.lockRow(tx, ticketId);
    if (!ticket || ticket.ops_id !== opsId || ticket.status === status) return false;
    if (!(opsOpenStatuses as readonly string[]).includes(ticket.status)) return false;
    await this.#link.changeTicket(tx, ticket, { status }, null, {
      type: 'ops_status_changed',
      data: { ops_id: opsId, details, source },
    });
    // OPS and the workflow agree (issue 20): closed by OPS is the project's final stage, in this same transaction.
    if (status === 'closed') await this.#workflow.enterFinalStage(tx, ticket.id, opsActor, `OPS reported the ticket closed (${source})`);
    return true;
  }

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
      this.#link.observe('callback', null);
      await this.#applyOpsStatus(tx, ticket.id, body.opsId, body.status, details, 'callback');
      const after = await this.#tickets.findRow(tx, ticket.id);
      return {
        ticketId: ticket.id,
        opsId: body.opsId,
        status: after?.status ?? ticket.status,
      };
    });
  }
}
