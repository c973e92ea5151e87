import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Timestamps are written as Date or ISO string and always read back as Date. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
export type Json = ColumnType<Record<string, unknown>, string | Record<string, unknown>, string | Record<string, unknown>>;

export type TicketStatus = 'new' | 'open' | 'pending' | 'sent' | 'in_progress' | 'delayed' | 'closed' | 'failed';
export type Priority = 'low' | 'medium' | 'high';
export type StageType = 'major' | 'minor';

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
  metadata: Generated<Json>;
  current_stage_id: string | null;
  /** The OPS system's id once a hand-off was accepted. */
  ops_id: string | null;
  /** Why the last hand-off failed, while the ticket is `failed`. */
  ops_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  closed_at: Timestamp | null;
  version: Generated<number>;
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
  data: Generated<Json>;
  created_at: Timestamp;
}

export interface DB {
  tickets: TicketsTable;
  stages: StagesTable;
  ticket_stages: TicketStagesTable;
  ticket_events: TicketEventsTable;
}

export type TicketRow = Selectable<TicketsTable>;
export type NewTicketRow = Insertable<TicketsTable>;
export type TicketRowUpdate = Updateable<TicketsTable>;
export type StageRow = Selectable<StagesTable>;
export type NewStageRow = Insertable<StagesTable>;
export type StageRowUpdate = Updateable<StagesTable>;
export type TicketEventRow = Selectable<TicketEventsTable>;
