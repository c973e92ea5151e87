import type { MailDeliveryRow } from '../../db/types.js';
import type { DeliveryDetailOut, DeliveryItemOut } from './schemas.js';

export function presentDelivery(row: MailDeliveryRow): DeliveryItemOut {
  return {
    id: row.id,
    to: row.to_address,
    subject: row.subject,
    event: row.event,
    reason: row.reason,
    ticketId: row.ticket_id,
    ticketNumber: row.ticket_number,
    status: row.status,
    attempts: row.attempts,
    smtpResponse: row.smtp_response,
    error: row.error,
    digest: row.digest,
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
  };
}

export function presentDeliveryDetail(row: MailDeliveryRow): DeliveryDetailOut {
  return {
    ...presentDelivery(row),
    text: row.text_body,
    html: row.html_body,
    headers: { 'Message-ID': row.message_id, ...row.headers },
  };
}
