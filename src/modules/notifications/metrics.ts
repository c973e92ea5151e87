import { Counter, type Registry } from 'prom-client';
import type { MailStatus } from '../../db/types.js';

/** Mail by what became of it: stored (no SMTP), sent, retrying (an attempt failed), failed (gave up). */
export function mailMetrics(registry: Registry) {
  const mails = new Counter({
    name: 'stageline_mail_total',
    help: 'E-mail notifications by status: stored (no SMTP_URL), sent, retrying (an attempt failed), failed (given up)',
    labelNames: ['status'],
    registers: [registry],
  });
  return {
    count(status: Exclude<MailStatus, 'queued'>) {
      mails.inc({ status });
    },
  };
}

export type MailMetrics = ReturnType<typeof mailMetrics>;
