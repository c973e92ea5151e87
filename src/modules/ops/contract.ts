import { Type, type Static } from 'typebox';

/**
 * The contract between Stageline and an OPS system: what our connector calls and what the simulator
 * (src/ops-sim) serves. A real OPS implements these three routes; the simulator publishes them as
 * OpenAPI at its own /openapi.json.
 */

export const opsStatuses = ['sent', 'in_progress', 'delayed', 'closed', 'failed'] as const;
export type OpsStatus = (typeof opsStatuses)[number];

export const OpsTicketInput = Type.Object(
  {
    ticketId: Type.String({
      minLength: 1,
      maxLength: 64,
      description: "Stageline's ticket id",
    }),
    number: Type.Optional(Type.Integer({ description: "Stageline's sequential ticket number" })),
    subject: Type.Union([Type.String(), Type.Null()]),
    description: Type.Union([Type.String(), Type.Null()]),
    priority: Type.String(),
    category: Type.Union([Type.String(), Type.Null()]),
    customer: Type.Object({
      name: Type.Union([Type.String(), Type.Null()]),
      email: Type.Union([Type.String(), Type.Null()]),
      phone: Type.Union([Type.String(), Type.Null()]),
    }),
  },
  { additionalProperties: true },
);
export type OpsTicketInput = Static<typeof OpsTicketInput>;

export const OpsAccepted = Type.Object({
  opsId: Type.String({ description: 'OPS- followed by 8 characters' }),
  ticketId: Type.String(),
  status: Type.Literal('sent'),
  acceptedAt: Type.String({ format: 'date-time' }),
});
export type OpsAccepted = Static<typeof OpsAccepted>;

export const OpsTicketState = Type.Object({
  opsId: Type.String(),
  ticketId: Type.String(),
  status: Type.Enum([...opsStatuses]),
  updated: Type.String({ format: 'date-time' }),
  details: Type.String({ description: 'A sentence describing the state' }),
});
export type OpsTicketState = Static<typeof OpsTicketState>;

export const OpsError = Type.Object({
  error: Type.String({ description: 'A short machine-readable reason' }),
  message: Type.String(),
});

/** The headers of the contract. */
export const opsHeaders = {
  /** One per hand-off: the same key sent twice never creates a second OPS ticket. */
  idempotencyKey: 'idempotency-key',
  /** Callback signature: `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`. */
  signature: 'x-ops-signature',
  /** Callback time, whole seconds since the epoch; older than 5 minutes is refused. */
  timestamp: 'x-ops-timestamp',
} as const;

/** The body OPS pushes to `POST /api/ops/callback` when a ticket's state changes. */
export const OpsCallbackBody = Type.Object(
  {
    opsId: Type.String({ minLength: 1, maxLength: 100 }),
    status: Type.Enum([...opsStatuses]),
    details: Type.Optional(Type.String({ maxLength: 2000 })),
    updated: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type OpsCallbackBody = Static<typeof OpsCallbackBody>;

export const statusDetails: Record<OpsStatus, string> = {
  sent: 'Ticket received by OPS and waiting to be picked up',
  in_progress: 'OPS team is working on the ticket',
  delayed: 'Ticket processing is delayed',
  closed: 'Ticket has been resolved and closed by OPS',
  failed: 'OPS could not process the ticket',
};
