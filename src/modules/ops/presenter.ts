import type { LogEntryRow, OutboxRow } from '../../db/types.js';

/** A hand-off as the API shows it: `queued` until an attempt failed, then `retrying`; `delivered` or `failed` at the end. */
export function presentHandOff(row: OutboxRow) {
  const payload = row.payload as { ticketId?: string; action?: string };
  const status = row.state === 'done' ? 'delivered' : row.state === 'dead' ? 'failed' : row.last_error === null ? 'queued' : 'retrying';
  return {
    id: row.id,
    ticket_id: payload.ticketId ?? '',
    action: payload.action ?? 'send',
    status,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    next_attempt_at: row.state === 'pending' ? row.next_attempt_at.toISOString() : null,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  } as const;
}

export function presentLogEntry(row: LogEntryRow) {
  return {
    id: row.id,
    ticket_id: row.ticket_id,
    action: row.action,
    status: row.status,
    timestamp: row.timestamp.toISOString(),
    attempt: row.attempt,
    http_status: row.http_status,
    latency_ms: row.latency_ms,
    ops_id: row.ops_id,
    request: row.request,
    response: row.response ?? null,
    error: row.error,
  };
}
