export type Role = 'admin' | 'agent' | 'viewer' | 'customer';
export type Priority = 'low' | 'medium' | 'high';
export type DelayState = 'on_track' | 'at_risk' | 'overdue';
export const statuses = ['new', 'open', 'pending', 'sent', 'in_progress', 'delayed', 'closed', 'failed'] as const;
export type Status = (typeof statuses)[number];

export type Me = { id: string | null; name: string; email?: string | null; role: Role };

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
  delay_state?: DelayState;
  overdue_by?: string | number | null;
  current_stage?: CurrentStage | null;
};

/** What a ticket says about the stage it is in now (workflow module). */
export type CurrentStage = {
  id?: string;
  key?: string | null;
  name?: string | null;
  definition_id?: string | null;
  started_at?: string | null;
  stage_start_time?: string | null;
  due_at?: string | null;
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

export type TimelineVisit = {
  stage_id?: string;
  key?: string;
  name?: string;
  definition_id?: string | null;
  visit?: number;
  planned_start?: string | null;
  planned_end?: string | null;
  due_at?: string | null;
  started_at?: string | null;
  ended_at?: string | null;
  actual_start?: string | null;
  actual_end?: string | null;
  stage_start_time?: string | null;
  stage_end_time?: string | null;
  duration_ms?: number | null;
  business_ms?: number | null;
  paused_ms?: number | null;
  overdue_by_ms?: number | null;
  overdue?: boolean;
};

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

export type User = { id: string; email: string; name: string; role: Role; disabled?: boolean; created_at?: string };
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
