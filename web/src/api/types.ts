export type Role = 'admin' | 'agent' | 'viewer' | 'customer';
export type Priority = 'low' | 'medium' | 'high';
export type DelayState = 'on_track' | 'at_risk' | 'overdue';
export const statuses = ['new', 'open', 'pending', 'sent', 'in_progress', 'delayed', 'closed', 'failed'] as const;
export type Status = (typeof statuses)[number];

export type Me = { id: string; name: string; email: string; role: Role; customer_emails: string[] };

export type Ticket = {
  id: string;
  number: number;
  subject: string | null;
  description: string | null;
  status: Status;
  priority: Priority;
  category: string | null;
  project: string | null;
  customer_name: string | null;
  customer_email: string | null;
  customer_phone: string | null;
  contact_person: string | null;
  helpdeskurl: string | null;
  assigned_to?: string | null;
  metadata?: Record<string, unknown>;
  current_stage_id: string | null;
  stages: string[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  version: number;
  ops_id?: string | null;
  ops_error?: string | null;
};

export type StageDefinition = {
  id: string;
  key: string;
  name: string;
  parent?: string | null;
  stage_type?: 'major' | 'minor';
  position?: number;
  target_minutes?: number | null;
  pauses?: boolean;
  final?: boolean;
  archived?: boolean;
};

export type Project = {
  id: string;
  key: string;
  name: string;
  description?: string | null;
  at_risk_threshold?: number;
  ticket_target_minutes?: number | null;
  stages?: StageDefinition[];
  transitions?: { from: string | null; to: string }[] | null;
  calendar?: unknown;
  version?: number;
};

export type HistoryEvent = {
  id: string | number;
  ticket_id: string;
  type: string;
  actor_name?: string | null;
  actor?: { id?: string | null; name?: string | null } | null;
  visibility?: 'public' | 'internal';
  data: Record<string, unknown>;
  created_at: string;
};

export type Visit = {
  stage_id: string;
  definition_id: string;
  key: string;
  name: string;
  stage_type: 'major' | 'minor';
  major_stage_id: string | null;
  visit: number;
  state: 'active' | 'done';
  paused: boolean;
  target_minutes: number | null;
  started_at: string;
  ended_at: string | null;
  at_risk_at: string | null;
  due_at: string | null;
  duration_ms: number;
  business_ms: number;
  paused_ms: number;
  /** Seconds past due. */
  overdue_by: number | null;
};

export type Timeline = {
  ticket_id: string;
  project: { id: string; key: string; name: string } | null;
  now: string;
  delay_state: DelayState | null;
  overdue_by: number | null;
  sla: { target_minutes: number | null; used_business_ms: number; paused: boolean; at_risk_at: string | null; due_at: string | null };
  visits: Visit[];
  time_in_stage: { definition_id: string; key: string; name: string; visits: number; duration_ms: number; business_ms: number }[];
};

/** A card on the board (`GET /api/board`). */
export type BoardCard = {
  id: string;
  number: number;
  subject: string | null;
  customer_name: string | null;
  customer_email: string | null;
  assigned_to: string | null;
  priority: Priority;
  status: string;
  version: number;
  stage: { key: string; name: string; started_at: string | null; due_at: string | null } | null;
  delay_state: DelayState;
  overdue_by: number | null;
};
export type BoardData = { project: { id: string; key: string; name: string }; now: string; cards: BoardCard[]; truncated: boolean };

export type LogEntry = {
  id: string;
  ticket_id: string;
  action: string;
  status: 'success' | 'failed';
  timestamp: string;
  attempt?: number | null;
  http_status?: number | null;
  latency_ms?: number | null;
  error?: string | null;
  request?: unknown;
  response?: unknown;
};

export type User = Me & { disabled: boolean; last_login_at: string | null; created_at: string; version: number };
export type Token = {
  id: string;
  name: string;
  scope: 'read' | 'read-write';
  expires_at?: string | null;
  last_used_at?: string | null;
  created_at?: string;
  user_id?: string;
  token?: string;
};
