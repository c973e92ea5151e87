import { Type } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';

const actions = ['send', 'retry', 'query', 'callback', 'poll', 'interrupted'] as const;

export const HandOff = Type.Object({
  id: Type.Integer(),
  ticket_id: Type.String(),
  action: Type.String({
    description: 'send, or retry after a failed hand-off',
  }),
  status: Type.Union([Type.Literal('queued'), Type.Literal('retrying'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer({ description: 'Attempts made so far' }),
  max_attempts: Type.Integer(),
  next_attempt_at: Nullable(DateTime('When the next attempt is due (null once finished)')),
  last_error: Nullable(Type.String()),
  created_at: DateTime(),
  updated_at: DateTime(),
});

export const Delivered = Type.Object({
  ticketId: Type.String(),
  opsId: Type.String({ description: 'OPS- followed by 8 characters' }),
  timestamp: DateTime('When OPS accepted the ticket'),
});

export const StatusData = Type.Object({
  ticketId: Type.String(),
  status: Type.String(),
  updated: DateTime(),
  details: Type.String(),
});

export const LogEntry = Type.Object({
  id: Type.String(),
  ticket_id: Type.String(),
  action: Type.Enum([...actions]),
  status: Type.Union([Type.Literal('success'), Type.Literal('failed')]),
  timestamp: DateTime(),
  attempt: Nullable(Type.Integer()),
  http_status: Nullable(Type.Integer()),
  latency_ms: Nullable(Type.Integer()),
  ops_id: Nullable(Type.String()),
  request: Nullable(
    Type.Record(Type.String(), Type.Unknown(), {
      description: 'What was sent; the bearer token is redacted',
    }),
  ),
  response: Type.Unknown({ description: 'What OPS answered (JSON), or null' }),
  error: Nullable(Type.String()),
});

export const SendQuery = Type.Object(
  {
    wait: Type.Boolean({
      default: true,
      description: 'Wait up to OPS_WAIT_MS for the delivery (false: answer 202 at once)',
    }),
    force: Type.Boolean({
      default: false,
      description: 'Send even though OPS already has the ticket',
    }),
  },
  { additionalProperties: false },
);

/** The old clients sent no body; an empty object is accepted, anything in it is not. */
export const SendBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]);

export const PageQuery = {
  limit: Type.Integer({
    minimum: 1,
    maximum: 500,
    default: 50,
    description: 'Page size (1–500)',
  }),
  cursor: Type.Optional(
    Type.String({
      maxLength: 1000,
      description: 'next_cursor of the previous page',
    }),
  ),
};

export const QueueQuery = Type.Object(PageQuery, {
  additionalProperties: false,
});

const logFilters = {
  action: Type.Optional(
    Type.String({
      pattern: `^(${actions.join('|')})(,(${actions.join('|')}))*$`,
      description: 'Comma list of send, retry, query, callback, poll',
    }),
  ),
  status: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failed')])),
  from: Type.Optional(DateTime('Entries at or after')),
  to: Type.Optional(DateTime('Entries before')),
  ...PageQuery,
};

export const LogsQuery = Type.Object(
  {
    ticket_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    ...logFilters,
  },
  { additionalProperties: false },
);

export const TicketLogsQuery = Type.Object(logFilters, {
  additionalProperties: false,
});

export const CallbackResult = Type.Object({
  ticketId: Type.String(),
  opsId: Type.String(),
  status: Type.String({
    description: "The ticket's status after the callback",
  }),
});

export const HandOffState = Type.Object({
  ticket_id: Type.String(),
  number: Type.Integer(),
  status: Type.String({ description: "The ticket's status" }),
  ops_id: Nullable(Type.String()),
  ops_error: Nullable(Type.String()),
  state: Type.Enum(['not_sent', 'on_its_way', 'with_ops', 'failed', 'closed_by_ops'], {
    description:
      'not_sent; on_its_way (a hand-off is queued or retrying: see `hand_off`); with_ops (OPS accepted it and holds it: sent, in progress or delayed); failed (attempts ran out); closed_by_ops',
  }),
  summary: Type.String({ description: 'The state in one plain sentence, for people' }),
  hand_off: Type.Union([HandOff, Type.Null()], { description: 'The hand-off under way; null once it was delivered or gave up' }),
  last_exchange: Type.Union([LogEntry, Type.Null()], { description: 'The latest exchange with OPS (send, query, poll, callback)' }),
  send: Type.Enum(['send', 'resend', 'none'], {
    description:
      'What a send button should do: send (POST /api/ops/:id), resend (OPS holds it: an explicit POST /api/ops/:id?force=true, which creates a second OPS ticket) or none (a hand-off is under way)',
  }),
});
