/**
 * Every enumerated column's values, once (issue 21). The table types (`types.ts`), the TypeBox schemas (and so
 * OpenAPI and the dashboard's generated types) and the validators read these lists; `test/db/schema.test.ts` checks
 * each against its CHECK constraint in a migrated database, so a migration and a list cannot drift apart.
 */
export const ticketStatuses = ['new', 'open', 'pending', 'sent', 'in_progress', 'delayed', 'closed', 'failed'] as const;
export type TicketStatus = (typeof ticketStatuses)[number];

export const priorities = ['low', 'medium', 'high'] as const;
export type Priority = (typeof priorities)[number];

export const stageTypes = ['major', 'minor'] as const;
export type StageType = (typeof stageTypes)[number];

export const userRoles = ['admin', 'agent', 'viewer', 'customer'] as const;
export type UserRole = (typeof userRoles)[number];

export const opsLogActions = ['send', 'retry', 'query', 'callback', 'poll', 'interrupted'] as const;
export type OpsLogAction = (typeof opsLogActions)[number];

export const mailStatuses = ['queued', 'retrying', 'sent', 'stored', 'failed'] as const;
export type MailStatus = (typeof mailStatuses)[number];

export const webhookDeliveryStatuses = ['queued', 'retrying', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

/** The types a custom field may have (issue 25). */
export const fieldTypes = [
  'text',
  'long_text',
  'number',
  'date',
  'datetime',
  'select',
  'multi_select',
  'checkbox',
  'url',
  'email',
  'user',
] as const;
export type FieldType = (typeof fieldTypes)[number];

export const viewLayouts = ['list', 'board'] as const;

/** Which column each list constrains (table, column): what the schema test compares. */
export const checkedEnums: readonly { table: string; column: string; values: readonly string[] }[] = [
  { table: 'tickets', column: 'status', values: ticketStatuses },
  { table: 'tickets', column: 'priority', values: priorities },
  { table: 'stages', column: 'stage_type', values: stageTypes },
  { table: 'users', column: 'role', values: userRoles },
  { table: 'log_entries', column: 'action', values: opsLogActions },
  { table: 'mail_deliveries', column: 'status', values: mailStatuses },
  { table: 'webhook_deliveries', column: 'status', values: webhookDeliveryStatuses },
  { table: 'ticket_fields', column: 'type', values: fieldTypes },
  { table: 'saved_views', column: 'layout', values: viewLayouts },
];
