import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Timestamps are written as Date or ISO string and always read back as Date. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A jsonb object column: written as a JSON string (parameters are text), read back parsed. */
export type Json = ColumnType<Record<string, unknown>, string, string>;
/** The same, for a column with a default: may be left out on insert. */
export type JsonWithDefault = ColumnType<Record<string, unknown>, string | undefined, string>;

import type { FieldType, MailStatus, OpsLogAction, Priority, StageType, TicketStatus, UserRole, WebhookDeliveryStatus } from './enums.js';

// The enumerated columns' values live in enums.ts (one `as const` list each, checked against the migrations).
export type { FieldType, MailStatus, OpsLogAction, Priority, StageType, TicketStatus, UserRole, WebhookDeliveryStatus };

export interface TicketsTable {
  id: string;
  number: Generated<number>;
  subject: string | null;
  description: string | null;
  status: Generated<TicketStatus>;
  priority: Generated<Priority>;
  priority_rank: ColumnType<number, never, never>;
  category: string | null;
  project: string | null;
  customer_name: string | null;
  customer_email: string | null;
  customer_phone: string | null;
  contact_person: string | null;
  helpdeskurl: string | null;
  assigned_to: string | null;
  metadata: JsonWithDefault;
  /** Custom field values by key (issue 25), typed by the project's `ticket_fields`. */
  fields: JsonWithDefault;
  current_stage_id: string | null;
  /** The OPS system's id once a hand-off was accepted. */
  ops_id: string | null;
  /** Why the last hand-off failed, while the ticket is `failed`. */
  ops_error: string | null;
  /** Its id in the system it was imported from (unique): re-running an import does not duplicate it. */
  external_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  closed_at: Timestamp | null;
  version: Generated<number>;
  /** Set by a trigger from `project` (a project's key or name); see the workflows migration. */
  project_id: string | null;
  /** Overall SLA clock: business ms used before the running segment, the segment's start (null while paused), its at-risk and due moments. */
  sla_used_ms: Generated<number>;
  sla_segment_start: Timestamp | null;
  sla_at_risk_at: Timestamp | null;
  sla_due_at: Timestamp | null;
  /** The open workflow stage records' earliest at-risk and due moments (kept by trigger). */
  stage_at_risk_at: ColumnType<Date | null, never, Date | string | null>;
  stage_due_at: ColumnType<Date | null, never, Date | string | null>;
  /** Generated: the earlier of the stage and SLA moments; the ticket is at risk / overdue from then. */
  at_risk_from: ColumnType<Date | null, never, never>;
  overdue_from: ColumnType<Date | null, never, never>;
}

export interface StagesTable {
  id: string;
  number: Generated<number>;
  stage_type: Generated<StageType>;
  major_stage_id: string | null;
  stage_description: string | null;
  stage_start_time: Timestamp | null;
  stage_end_time: Timestamp | null;
  due_at: Timestamp | null;
  contact_emails: Generated<string[]>;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Generated<number>;
  /** Workflow stage records only: the ticket and stage definition of this visit, and its visit number. */
  ticket_id: string | null;
  definition_id: string | null;
  visit: number | null;
  /** The stage stops the ticket's overall SLA clock. */
  paused: Generated<boolean>;
  at_risk_at: Timestamp | null;
  /** Business time spent, set when the visit ends. */
  business_ms: number | null;
  /** When the stored forecast says the visit is likely to breach (migration 0014; written by the forecast scan). */
  breach_likely_at: Timestamp | null;
  /** Alerts the sweep has recorded for the visit: 0 none, 1 at risk, 2 overdue too (migration 0023). */
  alert_level: Generated<number>;
}

export interface TicketStagesTable {
  ticket_id: string;
  stage_id: string;
  position: number;
}

export interface TicketEventsTable {
  id: Generated<number>;
  ticket_id: string;
  type: string;
  actor_id: string | null;
  actor_name: Generated<string>;
  visibility: Generated<'public' | 'internal'>;
  data: JsonWithDefault;
  created_at: Timestamp;
}

export interface DB {
  tickets: TicketsTable;
  stages: StagesTable;
  ticket_stages: TicketStagesTable;
  ticket_events: TicketEventsTable;
  projects: ProjectsTable;
  stage_definitions: StageDefinitionsTable;
  stage_alerts: StageAlertsTable;
  ticket_sla_alerts: TicketSlaAlertsTable;
  stage_flow_daily: StageFlowDailyTable;
  change_log: ChangeLogTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  login_throttle: LoginThrottleTable;
  audit_log: AuditLogTable;
  outbox: OutboxTable;
  log_entries: LogEntriesTable;
  ops_callback_signatures: OpsCallbackSignaturesTable;
  saved_views: SavedViewsTable;
  event_consumers: EventConsumersTable;
  mail_deliveries: MailDeliveriesTable;
  mail_digest_items: MailDigestItemsTable;
  notification_preferences: NotificationPreferencesTable;
  mail_suppressions: MailSuppressionsTable;
  ticket_watchers: TicketWatchersTable;
  view_subscriptions: ViewSubscriptionsTable;
  notification_keys: NotificationKeysTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  ticket_fields: TicketFieldsTable;
}

export interface ProjectsTable {
  id: string;
  key: string;
  name: string;
  description: string | null;
  calendar: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  at_risk_threshold: Generated<number>;
  /** A ticket whose forecast breach probability reaches this is "likely to breach" (issue 23). */
  breach_likely_threshold: Generated<number>;
  /** Tickets created through `/api` enter the workflow's first stage (issue 20). */
  new_tickets_enter_first_stage: Generated<boolean>;
  ticket_target_minutes: number | null;
  transitions: ColumnType<unknown[] | null, string | null, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Generated<number>;
}
export type ProjectRow = Selectable<ProjectsTable>;

export interface StageDefinitionsTable {
  id: string;
  project_id: string;
  key: string;
  name: string;
  parent_id: string | null;
  position: number;
  target_minutes: number | null;
  pauses: Generated<boolean>;
  final: Generated<boolean>;
  archived: Generated<boolean>;
}
export type StageDefinitionRow = Selectable<StageDefinitionsTable>;

export interface StageAlertsTable {
  stage_id: string;
  kind: 'at_risk' | 'overdue';
  ticket_id: string;
  created_at: Timestamp;
}

export interface TicketSlaAlertsTable {
  ticket_id: string;
  kind: 'at_risk' | 'overdue';
  created_at: Timestamp;
}

export interface StageFlowDailyTable {
  definition_id: string;
  day: string;
  entered: Generated<number>;
  exited: Generated<number>;
}

export interface ChangeLogTable {
  id: Generated<number>;
  /** The writing transaction (xid8, read as a decimal string). */
  txid: Generated<string>;
  entity: string;
  op: string;
  entity_id: string;
  ticket_id: string | null;
  project_id: string | null;
  created_at: Generated<Timestamp>;
}

export interface EventConsumersTable {
  name: string;
  txid: string;
  last_id: number;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export type TicketRow = Selectable<TicketsTable>;
export type NewTicketRow = Insertable<TicketsTable>;
export type TicketRowUpdate = Updateable<TicketsTable>;
export type StageRow = Selectable<StagesTable>;
export type NewStageRow = Insertable<StagesTable>;
export type StageRowUpdate = Updateable<StagesTable>;
export type TicketEventRow = Selectable<TicketEventsTable>;

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  password_hash: string | null;
  customer_emails: Generated<string[]>;
  disabled_at: Timestamp | null;
  last_login_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Generated<number>;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value. */
  id: string;
  user_id: string;
  csrf_hash: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  scope: 'read' | 'read-write';
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  created_by: string | null;
  created_at: Timestamp;
}

export interface LoginThrottleTable {
  key: string;
  failures: number;
  last_failure_at: Timestamp;
  blocked_until: Timestamp | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Timestamp;
  actor_id: string | null;
  actor_name: string;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Json;
}

export type UserRow = Selectable<UsersTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type AuditLogRow = Selectable<AuditLogTable>;

/** Work for outside systems, delivered by the outbox workers (src/modules/outbox). */
export interface OutboxTable {
  id: Generated<number>;
  kind: string;
  dedupe_key: string | null;
  idempotency_key: string;
  payload: Json;
  state: Generated<'pending' | 'done' | 'dead'>;
  attempts: Generated<number>;
  max_attempts: number;
  next_attempt_at: Timestamp;
  claim_token: string | null;
  claimed_at: Timestamp | null;
  last_error: string | null;
  result: ColumnType<Record<string, unknown> | null, string | Record<string, unknown> | null, string | Record<string, unknown> | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: Timestamp | null;
}

/** One exchange with OPS; kept after its ticket is deleted. */
export interface LogEntriesTable {
  id: string;
  ticket_id: string;
  action: OpsLogAction;
  status: 'success' | 'failed';
  timestamp: Timestamp;
  attempt: number | null;
  http_status: number | null;
  latency_ms: number | null;
  ops_id: string | null;
  request: ColumnType<Record<string, unknown> | null, string | Record<string, unknown> | null, never>;
  response: ColumnType<unknown, string | null, never>;
  error: string | null;
}

export interface OpsCallbackSignaturesTable {
  signature: string;
  received_at: Timestamp;
}

export type OutboxRow = Selectable<OutboxTable>;
export type LogEntryRow = Selectable<LogEntriesTable>;

/** Saved views (issue 13): a named search with sort, columns and layout; personal or shared. */
export interface SavedViewsTable {
  id: string;
  owner_id: string;
  name: string;
  query: Generated<string>;
  sort: string | null;
  columns: Generated<string[]>;
  layout: Generated<'list' | 'board'>;
  shared: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: Generated<number>;
}
export type SavedViewRow = Selectable<SavedViewsTable>;

/** E-mail notifications (src/modules/notifications): every mail sent or kept, with its outcome. */
export interface MailDeliveriesTable {
  id: string;
  /** Lower-cased. */
  to_address: string;
  dedupe_key: string;
  subject: string;
  text_body: string;
  html_body: string;
  headers: ColumnType<Record<string, string>, string, string>;
  message_id: string;
  reason: string;
  event: string | null;
  ticket_id: string | null;
  ticket_number: number | null;
  user_id: string | null;
  digest: Generated<boolean>;
  status: MailStatus;
  attempts: Generated<number>;
  smtp_response: string | null;
  error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  sent_at: Timestamp | null;
}
export type MailDeliveryRow = Selectable<MailDeliveriesTable>;

export interface MailDigestItemsTable {
  id: Generated<number>;
  to_address: string;
  user_id: string | null;
  dedupe_key: string;
  event: string;
  ticket_id: string;
  ticket_number: number | null;
  title: string;
  summary: string;
  reason: string;
  due_at: Timestamp;
  created_at: Timestamp;
}
export type MailDigestItemRow = Selectable<MailDigestItemsTable>;

export interface NotificationPreferencesTable {
  user_id: string;
  digest_minutes: Generated<number>;
  events: ColumnType<Record<string, string>, string | undefined, string>;
  updated_at: Timestamp;
}

export interface MailSuppressionsTable {
  address: string;
  /** An event type, or '*' for all mail. */
  event: string;
  created_at: Timestamp;
}

export interface TicketWatchersTable {
  ticket_id: string;
  user_id: string;
  created_at: Timestamp;
}

export interface ViewSubscriptionsTable {
  view_id: string;
  user_id: string;
  created_at: Timestamp;
}

export interface NotificationKeysTable {
  name: string;
  secret: string;
}

/** Outgoing webhooks (src/modules/webhooks): where to POST which events, signed with `secret`. */
export interface WebhooksTable {
  id: string;
  url: string;
  events: string[];
  description: Generated<string>;
  enabled: Generated<boolean>;
  disabled_reason: string | null;
  secret: string;
  consecutive_failures: Generated<number>;
  owner_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_delivery_at: Timestamp | null;
  last_status: string | null;
}
export type WebhookRow = Selectable<WebhooksTable>;

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  trigger: 'event' | 'ping' | 'redelivery';
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  request_body: string;
  response_status: number | null;
  response_body: string | null;
  latency_ms: number | null;
  error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  delivered_at: Timestamp | null;
}
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;

/** A custom ticket field of a project (issue 25); values live in `tickets.fields`. */
export interface TicketFieldsTable {
  project_id: string;
  key: string;
  label: string;
  type: FieldType;
  options: ColumnType<string[] | null, string | null, string | null>;
  default_value: ColumnType<unknown, string | null, string | null>;
  help_text: string | null;
  customer_visible: Generated<boolean>;
  position: Generated<number>;
  required: ColumnType<unknown, string | null, string | null>;
  show_on_card: Generated<boolean>;
  archived_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export type FieldDefinitionRow = Selectable<TicketFieldsTable>;
