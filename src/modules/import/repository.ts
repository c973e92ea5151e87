import { sql } from 'kysely';
import type { StagingColumn, StageRows } from '../../db/copy.js';
import type { Executor, Tx } from '../../db/database.js';
import { CHANGE_CHANNEL } from '../../db/migrations/0002_workflows.js';
import type { Calendar } from '../projects/calendar.js';
import type { ProjectRow, StageDefinitionRow } from '../../db/types.js';
import type { ImportWorkflow } from './replay.js';
import { ticketFields, type TicketField, type TicketFieldName, type TicketFieldType } from '../tickets/shape.js';

/**
 * The row triggers on the imported tables whose work `insertBatch` does set-based in bulk mode. Any other trigger
 * (a later migration's) turns bulk mode off, so nothing it keeps is ever skipped.
 */
const triggersDoneInBulk = new Set([
  'tickets_resolve_project',
  'stages_ticket_moments',
  'stages_flow_rollup',
  'tickets_change_log',
  'stages_change_log',
  'ticket_events_change_log',
  'tickets_open_tally',
  // Fire on update and delete only, which an import never does.
  'tickets_open_tally_delete',
  'stages_open_tally',
  'stages_open_tally_delete',
  'stages_duration_tally',
  // Migration 0019: the same work, per statement.
  ...['insert', 'update', 'delete'].flatMap((event) =>
    ['tickets_change_log', 'stages_change_log', 'ticket_events_change_log', 'stages_tallies', 'stages_ticket_moments'].map(
      (name) => `${name}_${event}`,
    ),
  ),
]);

/**
 * The ticket's own fields an import writes, from the ticket field table (`tickets/shape.ts`): those a client sets
 * (`writable`, on create or always) and its times, but not `stages` (rows of `ticket_stages`, from the visits).
 */
type ImportedFieldName = {
  [K in TicketFieldName]: (typeof ticketFields)[K] extends { type: 'stages' }
    ? never
    : (typeof ticketFields)[K] extends { writable: true | 'create' } | { type: 'time' }
      ? K
      : never;
}[TicketFieldName];
type ImportedValue<F extends TicketField> = F['type'] extends 'json'
  ? Record<string, unknown>
  : F['type'] extends 'id'
    ? string
    : string | null;

/** A ticket row as the import writes it: its fields (from the table) and what only an import sets. */
export type ImportTicketRow = { [K in ImportedFieldName]: ImportedValue<(typeof ticketFields)[K]> } & {
  external_id: string;
  /** Custom field values, checked against the project's definitions (issue 25). */
  fields: Record<string, unknown>;
  /** The open visits' earliest at-risk and due times, set up front so the stages trigger finds nothing to change. */
  stage_at_risk_at: string | null;
  stage_due_at: string | null;
  /** The overall SLA clock as the visits' transitions would have left it (see replay.ts). */
  sla_used_ms: number;
  sla_segment_start: string | null;
  sla_at_risk_at: string | null;
  sla_due_at: string | null;
};

export type ImportStageRow = {
  id: string;
  ticket_id: string;
  definition_id: string | null;
  visit: number;
  stage_description: string | null;
  stage_start_time: string;
  stage_end_time: string | null;
  due_at: string | null;
  at_risk_at: string | null;
  business_ms: number | null;
  paused: boolean;
  contact_emails: string[];
  created_at: string;
  updated_at: string;
};

export type ImportEventRow = {
  ticket_id: string;
  type: string;
  actor_id: string | null;
  actor_name: string;
  visibility: 'public';
  data: Record<string, unknown>;
  created_at: string;
};

/**
 * Set-based writes for a batch of imported tickets: each table's rows are loaded into a staging table of the
 * transaction (COPY on a PostgreSQL server, one multi-row insert on PGlite: `Database.stageRows`), then moved with
 * one `INSERT … SELECT` per table.
 */
export class ImportRepository {
  constructor(private readonly stageRows: StageRows) {}

  async existingExternalIds(tx: Tx, externalIds: readonly string[]): Promise<Set<string>> {
    const { rows } = await sql<{ external_id: string }>`
      select external_id from tickets where external_id = any(${externalIds as string[]}::text[])`.execute(tx);
    return new Set(rows.map((row) => row.external_id));
  }

  /**
   * The workflows of the named projects (by key or name), each under both names, with its stage definitions
   * (archived ones too: a live definition's parent may be one); `definitions` maps `project \0 stage key` → definition id.
   */
  async workflows(
    tx: Tx,
    projects: readonly string[],
  ): Promise<{ workflowOf: Map<string, ImportWorkflow>; definitions: Map<string, string> }> {
    const workflowOf = new Map<string, ImportWorkflow>();
    const definitions = new Map<string, string>();
    if (projects.length === 0) return { workflowOf, definitions };
    const { rows } = await sql<
      StageDefinitionRow & { project_key: string; project_name: string } & Pick<
          ProjectRow,
          'calendar' | 'at_risk_threshold' | 'ticket_target_minutes'
        >
    >`
      select p.key as project_key, p.name as project_name, p.calendar, p.at_risk_threshold, p.ticket_target_minutes, d.*
      from stage_definitions d join projects p on p.id = d.project_id
      where p.key = any(${projects as string[]}::text[]) or p.name = any(${projects as string[]}::text[])`.execute(tx);
    for (const { project_key, project_name, calendar, at_risk_threshold, ticket_target_minutes, ...definition } of rows) {
      const workflow = workflowOf.get(project_key) ?? {
        calendar: calendar as Calendar | null,
        atRiskThreshold: at_risk_threshold,
        ticketTargetMinutes: ticket_target_minutes,
        definitionOf: new Map(),
      };
      workflow.definitionOf.set(definition.id, definition);
      workflowOf.set(project_key, workflow).set(project_name, workflow);
      if (definition.archived) continue;
      definitions.set(`${project_name}\u0000${definition.key}`, definition.id);
      definitions.set(`${project_key}\u0000${definition.key}`, definition.id);
    }
    return { workflowOf, definitions };
  }

  /**
   * Fresh planner statistics for the tables an import fills. After a bulk load the planner would otherwise plan on the
   * old counts until autovacuum gets round to it (never, where autovacuum is off), and pick sequential scans.
   */
  async refreshStatistics(db: Executor): Promise<void> {
    await sql`analyze tickets, stages, ticket_stages, ticket_events`.execute(db);
  }

  /**
   * Bulk mode: row triggers off for this transaction (`session_replication_role = replica`, superusers only) and their
   * work done once per batch instead (flow rollup, change log; project and due moments are set on insert); row by row, a batch of 1,000 tickets
   * fires ~20,000 trigger calls. Referential integrity holds by construction: the batch links only rows it inserts.
   * Returns false, leaving the triggers on, when the role may not do it or an unknown trigger exists.
   */
  async enterBulkMode(tx: Tx): Promise<boolean> {
    const { rows } = await sql<{ tgname: string; superuser: boolean }>`
      select t.tgname, (select rolsuper from pg_roles where rolname = current_user) as superuser
      from pg_trigger t
      where not t.tgisinternal and t.tgrelid in ('tickets'::regclass, 'stages'::regclass, 'ticket_events'::regclass, 'ticket_stages'::regclass)`.execute(
      tx,
    );
    if (rows.length === 0 || !rows[0]!.superuser || rows.some((row) => !triggersDoneInBulk.has(row.tgname))) return false;
    await sql`set local session_replication_role = replica`.execute(tx);
    return true;
  }

  /**
   * What the row triggers would have done for a batch inserted in bulk mode, set-based: the tallies written directly
   * (no deltas left to fold), and the change log: ONE
   * row per imported ticket (entity `ticket`, op `insert`), none for its visits and history. A stream refreshes the
   * ticket, visits and history with it; the event consumers (notifications, webhooks) act on live history, not on
   * history an import brings along (at a million tickets, ten million mails and deliveries for past events).
   * `hasVisits`: the batch's visits were written by `insertVisits`, whose staging table the tallies read.
   */
  async afterBulkBatch(tx: Tx, ticketIds: readonly string[], hasVisits: boolean): Promise<void> {
    if (ticketIds.length === 0) return;
    const ids = ticketIds as string[];
    // Straight into the tallies (what `fold_tallies` does with deltas), in key order so that batches written at once
    // wait for one another's keys rather than deadlock; last in the batch, so those row locks are held briefly.
    await sql`
      with batch as (select t.id, t.project_id, t.status, t.priority, t.current_stage_id from tickets t where t.id = any(${ids}::text[])),
      logged as (
        insert into change_log (entity, op, entity_id, ticket_id, project_id)
        select 'ticket', 'insert', b.id, b.id, b.project_id from batch b
      )
      insert into open_ticket_tally as o (project_id, status, priority, definition_id, stage_label, n)
      select b.project_id, b.status, b.priority, s.definition_id, case when s.definition_id is null then s.stage_description end, count(*)
      from batch b left join stages s on s.id = b.current_stage_id
      where b.status <> 'closed'
      group by 1, 2, 3, 4, 5
      order by 1, 2, 3, 4, 5
      on conflict (project_id, status, priority, definition_id, stage_label) do update set n = o.n + excluded.n`.execute(tx);
    if (hasVisits) {
      await sql`
        insert into stage_flow_daily as f (definition_id, day, entered, exited)
        select definition_id, day, sum(entered), sum(exited)
        from (
          select definition_id, (stage_start_time at time zone 'UTC')::date as day, 1 as entered, 0 as exited
            from import_stages where definition_id is not null
          union all
          select definition_id, (stage_end_time at time zone 'UTC')::date, 0, 1
            from import_stages where definition_id is not null and stage_end_time is not null
        ) moves
        group by definition_id, day
        order by definition_id, day
        on conflict (definition_id, day) do update set entered = f.entered + excluded.entered, exited = f.exited + excluded.exited`.execute(
        tx,
      );
      await sql`
        insert into stage_duration_tally as d (definition_id, day, bucket, business_bucket, n, total_ms, on_time)
        select definition_id, (stage_end_time at time zone 'UTC')::date, duration_bucket(ms), duration_bucket(business_ms),
          count(*), sum(ms), count(*) filter (where due_at is null or stage_end_time <= due_at)
        from (select s.*, extract(epoch from (stage_end_time - stage_start_time))::float8 * 1000 as ms from import_stages s
              where definition_id is not null and stage_end_time is not null) s
        group by 1, 2, 3, 4
        order by 1, 2, 3, 4
        on conflict (definition_id, day, bucket, business_bucket)
          do update set n = d.n + excluded.n, total_ms = d.total_ms + excluded.total_ms, on_time = d.on_time + excluded.on_time`.execute(
        tx,
      );
    }
    await sql`select pg_notify(${CHANGE_CHANNEL}, (select max(id) from change_log)::text)`.execute(tx);
  }

  /**
   * The first crossings of at-risk and overdue that were already behind the batch's open visits and tickets at
   * `now`, recorded as the delay sweeper records them (workflow/repository.ts, `recordCrossings`: the alert row and its
   * history event) but at the moment each was crossed: the first sweep after an import then finds nothing old to
   * announce. `hasVisits` as for `afterBulkBatch`.
   */
  async recordPastCrossings(tx: Tx, ticketIds: readonly string[], hasVisits: boolean, now: Date): Promise<void> {
    if (ticketIds.length === 0) return;
    if (hasVisits) {
      await sql`
        with due as (
          select s.id as stage_id, s.ticket_id, k.kind, k.at, d.key, d.name, s.visit
          from import_stages s
          cross join lateral (values ('at_risk', s.at_risk_at), ('overdue', s.due_at)) as k(kind, at)
          join stage_definitions d on d.id = s.definition_id
          where s.stage_end_time is null and s.at_risk_at <= ${now} and k.at <= ${now}
        ), alerted as (
          insert into stage_alerts (stage_id, kind, ticket_id, created_at)
          select stage_id, kind, ticket_id, at from due
        ), levelled as (
          -- The sweep's index (migration 0023) then no longer holds these visits: their alerts are recorded.
          update stages s set alert_level = l.level
          from (select stage_id, count(*)::smallint as level from due group by stage_id) l
          where s.id = l.stage_id
        )
        insert into ticket_events (ticket_id, type, actor_name, visibility, data, created_at)
        select ticket_id, kind, 'system', 'public',
          jsonb_build_object('scope', 'stage', 'stage_id', stage_id, 'key', key, 'name', name, 'visit', visit, 'at', at), at
        from due order by at`.execute(tx);
    }
    await sql`
      with due as (
        select r.id as ticket_id, k.kind, k.at
        from import_tickets r
        cross join lateral (values ('at_risk', r.sla_at_risk_at), ('overdue', r.sla_due_at)) as k(kind, at)
        where r.id = any(${ticketIds as string[]}::text[]) and r.status <> 'closed' and r.sla_at_risk_at <= ${now} and k.at <= ${now}
      ), alerted as (
        insert into ticket_sla_alerts (ticket_id, kind, created_at)
        select ticket_id, kind, at from due
      )
      insert into ticket_events (ticket_id, type, actor_name, visibility, data, created_at)
      select ticket_id, kind, 'system', 'public', jsonb_build_object('scope', 'ticket', 'at', at), at
      from due order by at`.execute(tx);
  }

  /** Inserts the tickets whose id and external id are free; returns the ids inserted. */
  async insertTickets(tx: Tx, rows: readonly ImportTicketRow[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    await this.stageRows(tx, 'import_tickets', ticketColumns, rowsOf(ticketColumns, rows));
    const { rows: inserted } = await sql<{ id: string }>`
      insert into tickets (${sql.raw(ticketNames)}, project_id)
      select ${sql.raw(ticketNames)}, project_named(r.project)
      from import_tickets r
      on conflict do nothing
      returning id`.execute(tx);
    return new Set(inserted.map((row) => row.id));
  }

  /** The visits, their place in each ticket's `stages` list, and each ticket's current stage. */
  async insertVisits(
    tx: Tx,
    stages: readonly ImportStageRow[],
    current: readonly { ticket_id: string; stage_id: string }[],
  ): Promise<void> {
    if (stages.length === 0) return;
    await this.stageRows(tx, 'import_stages', stageColumns, rowsOf(stageColumns, stages));
    await sql`
      insert into stages (${sql.raw(stageNames)}, stage_type)
      select ${sql.raw(stageNames)}, 'major' from import_stages`.execute(tx);
    await this.stageRows(tx, 'ticket_stages', linkColumns, stageLinks(stages), { into: true });
    if (current.length === 0) return;
    await this.stageRows(tx, 'import_current', currentColumns, rowsOf(currentColumns, current));
    await sql`
      update tickets t set current_stage_id = r.stage_id
      from import_current r
      where t.id = r.ticket_id`.execute(tx);
  }

  async insertEvents(tx: Tx, events: readonly ImportEventRow[]): Promise<void> {
    if (events.length === 0) return;
    // Written as they are: straight into the table (COPY on a server), no staging table to move them from.
    await this.stageRows(tx, 'ticket_events', eventColumns, rowsOf(eventColumns, events), { into: true });
  }
}

/** A ticket field's column type in a staging table (`null`: not a column of `tickets`). */
const sqlTypeOf: Record<TicketFieldType, string | null> = {
  id: 'text',
  integer: 'bigint',
  text: 'text',
  email: 'text',
  phone: 'text',
  url: 'text',
  enum: 'text',
  json: 'jsonb',
  stage: 'text',
  stages: null,
  time: 'timestamptz',
};

/** The ticket field table's columns an import writes (`ImportedFieldName`), then what only an import sets. */
const ticketColumns: readonly StagingColumn[] = [
  ...(Object.entries(ticketFields) as [TicketFieldName, TicketField][]).flatMap(([name, spec]): StagingColumn[] => {
    const type = sqlTypeOf[spec.type];
    return (spec.writable || spec.type === 'time') && type ? [[name, type]] : [];
  }),
  ...([
    ['external_id', 'text'],
    ['fields', 'jsonb'],
    ['stage_at_risk_at', 'timestamptz'],
    ['stage_due_at', 'timestamptz'],
    ['sla_used_ms', 'bigint'],
    ['sla_segment_start', 'timestamptz'],
    ['sla_at_risk_at', 'timestamptz'],
    ['sla_due_at', 'timestamptz'],
  ] satisfies readonly (readonly [Exclude<keyof ImportTicketRow, ImportedFieldName>, string])[]),
];

const stageColumns: readonly StagingColumn[] = [
  ['id', 'text'],
  ['ticket_id', 'text'],
  ['definition_id', 'text'],
  ['visit', 'integer'],
  ['stage_description', 'text'],
  ['stage_start_time', 'timestamptz'],
  ['stage_end_time', 'timestamptz'],
  ['due_at', 'timestamptz'],
  ['at_risk_at', 'timestamptz'],
  ['business_ms', 'bigint'],
  ['paused', 'boolean'],
  ['contact_emails', 'text[]'],
  ['created_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
] satisfies readonly (readonly [keyof ImportStageRow, string])[];

const eventColumns: readonly StagingColumn[] = [
  ['ticket_id', 'text'],
  ['type', 'text'],
  ['actor_id', 'text'],
  ['actor_name', 'text'],
  ['visibility', 'text'],
  ['data', 'jsonb'],
  ['created_at', 'timestamptz'],
] satisfies readonly (readonly [keyof ImportEventRow, string])[];

const linkColumns: readonly StagingColumn[] = [
  ['ticket_id', 'text'],
  ['stage_id', 'text'],
  ['position', 'integer'],
];

/** Each visit's place in its ticket's `stages` list: the visits in start order (then by id), from 0. */
function stageLinks(stages: readonly ImportStageRow[]): unknown[][] {
  const byTicket = new Map<string, ImportStageRow[]>();
  for (const stage of stages) {
    const visits = byTicket.get(stage.ticket_id);
    if (visits) visits.push(stage);
    else byTicket.set(stage.ticket_id, [stage]);
  }
  const links: unknown[][] = [];
  const order = (a: ImportStageRow, b: ImportStageRow) =>
    Date.parse(a.stage_start_time) - Date.parse(b.stage_start_time) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  for (const [ticketId, visits] of byTicket) {
    visits.sort(order).forEach((visit, position) => links.push([ticketId, visit.id, position]));
  }
  return links;
}

const currentColumns: readonly StagingColumn[] = [
  ['ticket_id', 'text'],
  ['stage_id', 'text'],
];

const namesOf = (columns: readonly StagingColumn[]) => columns.map(([name]) => name).join(', ');
const ticketNames = namesOf(ticketColumns);
const stageNames = namesOf(stageColumns);

/** Each row's values in the staging table's column order. */
const rowsOf = <T extends object>(columns: readonly StagingColumn[], rows: readonly T[]): unknown[][] =>
  rows.map((row) => columns.map(([name]) => (row as Record<string, unknown>)[name]));
