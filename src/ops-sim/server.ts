import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from 'typebox';
import {
  OpsAccepted,
  OpsError,
  OpsTicketInput,
  OpsTicketState,
  opsHeaders,
  statusDetails,
  type OpsStatus,
} from '../modules/ops/contract.js';
import { defaultRates, newOpsId, nextStatus, queryFails, seededRandom, sendSucceeds, type SimRates } from './decisions.js';

export type OpsSimOptions = Partial<SimRates> & {
  /** PRNG seed; the same seed and the same sequence of requests give the same answers. */
  seed?: number;
  /** Each answer waits a random time in [min, max] milliseconds. */
  latencyMs?: readonly [number, number];
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  logger?: FastifyServerOptions['logger'];
};

export type SimTicket = {
  opsId: string;
  ticketId: string;
  status: OpsStatus;
  createdAt: Date;
  updatedAt: Date;
  idempotencyKey: string;
};

/** What the simulator holds, open to tests (tickets by OPS id, OPS ids by idempotency key). */
export type OpsSimState = {
  tickets: Map<string, SimTicket>;
  byIdempotencyKey: Map<string, string>;
  requests: { send: number; query: number };
};

const Headers = Type.Object({
  [opsHeaders.idempotencyKey]: Type.String({ minLength: 1, maxLength: 200 }),
});

/** The OPS side of the contract, with the old backend's probabilities (see decisions.ts). */
export async function buildOpsSim(options: OpsSimOptions = {}) {
  const rates: SimRates = { ...defaultRates, ...definedOnly(options) };
  const random = seededRandom(options.seed ?? Date.now());
  const [minLatency, maxLatency] = options.latencyMs ?? [0, 0];
  const state: OpsSimState = {
    tickets: new Map(),
    byIdempotencyKey: new Map(),
    requests: { send: 0, query: 0 },
  };

  const app = Fastify({
    logger: options.logger ?? false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'OPS contract (Stageline OPS simulator)',
        version: '1.0.0',
        description:
          'What Stageline expects of an OPS system. Send a ticket with an Idempotency-Key (one per hand-off: ' +
          'a repeated key answers the first result and never creates a second OPS ticket), then query its state. ' +
          'Optionally push state changes to Stageline at POST /api/ops/callback, signed with ' +
          '`X-OPS-Signature: sha256=<hex HMAC-SHA256(secret, "<X-OPS-Timestamp>.<raw body>")>`.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: options.token ? [{ bearer: [] }] : [],
    },
  });

  const latency = async () => {
    if (maxLatency <= 0) return;
    await sleep(minLatency + Math.floor(random() * (maxLatency - minLatency + 1)));
  };

  if (options.token) {
    const expected = `Bearer ${options.token}`;
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/openapi.json') || request.url === '/healthz') return;
      if (request.headers.authorization !== expected) {
        return reply.status(401).send({
          error: 'unauthorized',
          message: 'missing or wrong bearer token',
        });
      }
    });
  }

  app.post(
    '/tickets',
    {
      schema: {
        summary: 'Hand a ticket to OPS',
        description:
          'Creates an OPS ticket (201), or answers the ticket already created with this Idempotency-Key (200). ' +
          'A 5xx or no answer means: try again later with the same key.',
        headers: Headers,
        body: OpsTicketInput,
        response: { 200: OpsAccepted, 201: OpsAccepted, 504: OpsError },
      },
    },
    async (request, reply) => {
      state.requests.send++;
      const key = request.headers[opsHeaders.idempotencyKey] as string;
      // A repeat of a send still being decided waits for that decision instead of making a second ticket.
      await inFlight.get(key);
      const known = state.byIdempotencyKey.get(key);
      if (known) {
        await latency();
        return reply.status(200).send(accepted(state.tickets.get(known)!));
      }
      const decision = decideSend(key, request.body.ticketId);
      inFlight.set(key, decision);
      const ticket = await decision.finally(() => inFlight.delete(key));
      if (!ticket) {
        return reply.status(504).send({
          error: 'timeout',
          message: `Failed to send ticket ${request.body.ticketId} to OPS: connection timeout`,
        });
      }
      return reply.status(201).send(accepted(ticket));
    },
  );

  app.get(
    '/tickets/:opsId',
    {
      schema: {
        summary: "An OPS ticket's state",
        description: 'The state may move on each query (sent → in_progress / delayed / failed, …). 503 when OPS is unavailable.',
        params: Type.Object({ opsId: Type.String() }),
        response: { 200: OpsTicketState, 404: OpsError, 503: OpsError },
      },
    },
    async (request, reply) => {
      state.requests.query++;
      await latency();
      const ticket = state.tickets.get(request.params.opsId);
      if (!ticket)
        return reply.status(404).send({
          error: 'not_found',
          message: `no OPS ticket ${request.params.opsId}`,
        });
      if (queryFails(random, rates)) return reply.status(503).send({ error: 'unavailable', message: 'OPS system unavailable' });
      const next = nextStatus(random, ticket.status);
      if (next !== ticket.status) {
        ticket.status = next;
        ticket.updatedAt = new Date();
      }
      return {
        opsId: ticket.opsId,
        ticketId: ticket.ticketId,
        status: ticket.status,
        updated: ticket.updatedAt.toISOString(),
        details: statusDetails[ticket.status],
      };
    },
  );

  app.get('/healthz', { schema: { hide: true } }, async () => ({
    status: 'ok',
  }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const inFlight = new Map<string, Promise<SimTicket | null>>();

  async function decideSend(key: string, ticketId: string): Promise<SimTicket | null> {
    await latency();
    if (!sendSucceeds(random, rates)) return null;
    const now = new Date();
    const ticket: SimTicket = {
      opsId: uniqueOpsId(),
      ticketId,
      status: 'sent',
      createdAt: now,
      updatedAt: now,
      idempotencyKey: key,
    };
    state.tickets.set(ticket.opsId, ticket);
    state.byIdempotencyKey.set(key, ticket.opsId);
    return ticket;
  }

  function uniqueOpsId(): string {
    for (;;) {
      const id = newOpsId(random);
      if (!state.tickets.has(id)) return id;
    }
  }

  return { app, state, rates };
}

function accepted(ticket: SimTicket) {
  return {
    opsId: ticket.opsId,
    ticketId: ticket.ticketId,
    status: 'sent' as const,
    acceptedAt: ticket.createdAt.toISOString(),
  };
}

function definedOnly(options: Partial<SimRates>): Partial<SimRates> {
  const rates: Partial<SimRates> = {};
  if (options.sendFailureRate !== undefined) rates.sendFailureRate = options.sendFailureRate;
  if (options.queryFailureRate !== undefined) rates.queryFailureRate = options.queryFailureRate;
  return rates;
}

/** Starts a simulator on a loopback port of its own; `url` is its base URL. */
export async function startOpsSim(options: OpsSimOptions = {}, port = 0, host = '127.0.0.1') {
  const sim = await buildOpsSim(options);
  await sim.app.listen({ port, host });
  const address = sim.app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    ...sim,
    url: `http://${host}:${actualPort}`,
    close: () => sim.app.close(),
  };
}
