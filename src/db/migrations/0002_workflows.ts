import { sql, type Kysely } from 'kysely';

/** The change-log channel every Stageline process listens on (see src/modules/events). */
export const CHANGE_CHANNEL = 'stageline_changes';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table projects (
      id text primary key,
      key text not null unique check (key ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
      name text not null,
      description text,
      calendar jsonb,
      at_risk_threshold real not null default 0.8 check (at_risk_threshold > 0 and at_risk_threshold <= 1),
      ticket_target_minutes integer check (ticket_target_minutes > 0),
      transitions jsonb,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      version integer not null default 1
    )`.execute(db);
  await sql`create index projects_created on projects (created_at, id)`.execute(db);

  // Definitions are never deleted: a stage removed from a workflow is archived, so history keeps its name.
  await sql`
    create table stage_definitions (
      id text primary key,
      project_id text not null references projects (id) on delete cascade,
      key text not null,
      name text not null,
      parent_id text references stage_definitions (id),
      position integer not null,
      target_minutes integer check (target_minutes > 0),
      pauses boolean not null default false,
      final boolean not null default false,
      archived boolean not null default false,
      unique (project_id, key)
    )`.execute(db);
  await sql`create index stage_definitions_project on stage_definitions (project_id, position)`.execute(db);

  // The ticket's workflow: its project, and its overall SLA clock (business ms used before the running segment).
  await sql`alter table tickets add column project_id text references projects (id) on delete set null`.execute(db);
  await sql`alter table tickets add column sla_used_ms bigint not null default 0`.execute(db);
  await sql`alter table tickets add column sla_segment_start timestamptz`.execute(db);
  await sql`alter table tickets add column sla_at_risk_at timestamptz`.execute(db);
  await sql`alter table tickets add column sla_due_at timestamptz`.execute(db);
  // The open stage records' earliest at-risk and due moments, kept by trigger; with the SLA moments they make
  // the ticket's delay state a comparison with now(), answerable from the ticket row and its indexes alone.
  await sql`alter table tickets add column stage_at_risk_at timestamptz`.execute(db);
  await sql`alter table tickets add column stage_due_at timestamptz`.execute(db);
  await sql`alter table tickets add column at_risk_from timestamptz generated always as (least(stage_at_risk_at, sla_at_risk_at)) stored`.execute(
    db,
  );
  await sql`alter table tickets add column overdue_from timestamptz generated always as (least(stage_due_at, sla_due_at)) stored`.execute(
    db,
  );
  await sql`create index tickets_at_risk_from on tickets (at_risk_from) where at_risk_from is not null and status <> 'closed'`.execute(db);
  await sql`create index tickets_overdue_from on tickets (overdue_from) where overdue_from is not null and status <> 'closed'`.execute(db);
  await sql`create index tickets_project_id on tickets (project_id, created_at, id)`.execute(db);
  await sql`create index tickets_sla_at_risk on tickets (sla_at_risk_at) where sla_at_risk_at is not null and status <> 'closed'`.execute(
    db,
  );
  await sql`create index tickets_closed on tickets (closed_at, id) where closed_at is not null`.execute(db);
  await sql`create index tickets_open_status on tickets (status) where status <> 'closed'`.execute(db);

  // A ticket's project follows its free-text `project` (the older systems' field), whoever writes it.
  await sql`
    create function tickets_resolve_project() returns trigger language plpgsql as $$
    begin
      if new.project is null then
        new.project_id := null;
      else
        new.project_id := (select p.id from projects p where p.key = new.project or p.name = new.project order by p.key = new.project desc limit 1);
      end if;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger tickets_resolve_project before insert or update of project on tickets
    for each row execute function tickets_resolve_project()`.execute(db);

  // Stage records made by a workflow transition: one visit of one definition by one ticket.
  await sql`alter table stages add column ticket_id text references tickets (id) on delete cascade`.execute(db);
  await sql`alter table stages add column definition_id text references stage_definitions (id)`.execute(db);
  await sql`alter table stages add column visit integer`.execute(db);
  await sql`alter table stages add column paused boolean not null default false`.execute(db);
  await sql`alter table stages add column at_risk_at timestamptz`.execute(db);
  await sql`alter table stages add column business_ms bigint`.execute(db);
  await sql`create index stages_ticket on stages (ticket_id, stage_start_time, id) where ticket_id is not null`.execute(db);
  await sql`create index stages_open_at_risk on stages (at_risk_at) where stage_end_time is null and at_risk_at is not null`.execute(db);
  await sql`create index stages_definition_open on stages (definition_id) where definition_id is not null and stage_end_time is null`.execute(
    db,
  );
  await sql`create index stages_definition_done on stages (definition_id, stage_end_time) where definition_id is not null and stage_end_time is not null`.execute(
    db,
  );

  await sql`
    create function stages_ticket_moments() returns trigger language plpgsql as $$
    begin
      if tg_op in ('UPDATE', 'DELETE') and old.ticket_id is not null and (tg_op = 'DELETE' or old.ticket_id is distinct from new.ticket_id) then
        update tickets t set
          stage_at_risk_at = (select min(coalesce(s.at_risk_at, s.due_at)) from stages s where s.ticket_id = old.ticket_id and s.stage_end_time is null),
          stage_due_at = (select min(s.due_at) from stages s where s.ticket_id = old.ticket_id and s.stage_end_time is null)
        where t.id = old.ticket_id;
      end if;
      if tg_op in ('INSERT', 'UPDATE') and new.ticket_id is not null then
        update tickets t set
          stage_at_risk_at = m.at_risk_at,
          stage_due_at = m.due_at
        from (select min(coalesce(s.at_risk_at, s.due_at)) as at_risk_at, min(s.due_at) as due_at
              from stages s where s.ticket_id = new.ticket_id and s.stage_end_time is null) m
        where t.id = new.ticket_id
          and (t.stage_at_risk_at is distinct from m.at_risk_at or t.stage_due_at is distinct from m.due_at);
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger stages_ticket_moments after insert or delete or update of due_at, at_risk_at, stage_end_time, ticket_id on stages
    for each row execute function stages_ticket_moments()`.execute(db);

  // Each stage's first crossing of at-risk / overdue, recorded once: the primary key settles racing sweepers.
  await sql`
    create table stage_alerts (
      stage_id text not null references stages (id) on delete cascade,
      kind text not null check (kind in ('at_risk', 'overdue')),
      ticket_id text not null references tickets (id) on delete cascade,
      created_at timestamptz not null,
      primary key (stage_id, kind)
    )`.execute(db);
  await sql`create index stage_alerts_ticket on stage_alerts (ticket_id)`.execute(db);
  // The ticket's first crossing of its overall target's at-risk / overdue moments, once each.
  await sql`
    create table ticket_sla_alerts (
      ticket_id text not null references tickets (id) on delete cascade,
      kind text not null check (kind in ('at_risk', 'overdue')),
      created_at timestamptz not null,
      primary key (ticket_id, kind)
    )`.execute(db);

  // Cumulative flow rollup: stage entries and exits per definition per UTC day, kept by trigger.
  await sql`
    create table stage_flow_daily (
      definition_id text not null references stage_definitions (id) on delete cascade,
      day date not null,
      entered integer not null default 0,
      exited integer not null default 0,
      primary key (definition_id, day)
    )`.execute(db);
  await sql`
    create function stages_flow_rollup() returns trigger language plpgsql as $$
    begin
      if tg_op in ('UPDATE', 'DELETE') and old.definition_id is not null then
        if old.stage_start_time is not null then
          update stage_flow_daily set entered = entered - 1
            where definition_id = old.definition_id and day = (old.stage_start_time at time zone 'UTC')::date;
        end if;
        if old.stage_end_time is not null then
          update stage_flow_daily set exited = exited - 1
            where definition_id = old.definition_id and day = (old.stage_end_time at time zone 'UTC')::date;
        end if;
      end if;
      if tg_op in ('INSERT', 'UPDATE') and new.definition_id is not null then
        if new.stage_start_time is not null then
          insert into stage_flow_daily (definition_id, day, entered)
            values (new.definition_id, (new.stage_start_time at time zone 'UTC')::date, 1)
            on conflict (definition_id, day) do update set entered = stage_flow_daily.entered + 1;
        end if;
        if new.stage_end_time is not null then
          insert into stage_flow_daily (definition_id, day, exited)
            values (new.definition_id, (new.stage_end_time at time zone 'UTC')::date, 1)
            on conflict (definition_id, day) do update set exited = stage_flow_daily.exited + 1;
        end if;
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger stages_flow_rollup after insert or delete or update of stage_start_time, stage_end_time, definition_id on stages
    for each row execute function stages_flow_rollup()`.execute(db);

  // Every change to tickets, stages and history. Ids are handed out before commit, so they can commit out of
  // order; readers go by (txid, id) and only past the oldest running transaction (see src/modules/events).
  await sql`
    create table change_log (
      id bigint generated always as identity primary key,
      txid xid8 not null default pg_current_xact_id(),
      entity text not null,
      op text not null,
      entity_id text not null,
      ticket_id text,
      project_id text,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index change_log_order on change_log (txid, id)`.execute(db);
  await sql`create index change_log_created on change_log (created_at)`.execute(db);
  await sql
    .raw(
      `
    create function change_log_record() returns trigger language plpgsql as $$
    declare
      row_data record;
      log_id bigint;
      ticket text;
      project text;
    begin
      if tg_op = 'DELETE' then row_data := old; else row_data := new; end if;
      if tg_table_name = 'tickets' then
        ticket := row_data.id;
        project := row_data.project_id;
      elsif tg_table_name = 'stages' then
        ticket := row_data.ticket_id;
        if ticket is null then
          ticket := (select ts.ticket_id from ticket_stages ts where ts.stage_id = row_data.id limit 1);
        end if;
        project := (select t.project_id from tickets t where t.id = ticket);
      else
        ticket := row_data.ticket_id;
        project := (select t.project_id from tickets t where t.id = ticket);
      end if;
      insert into change_log (entity, op, entity_id, ticket_id, project_id)
        values (case tg_table_name when 'tickets' then 'ticket' when 'stages' then 'stage' else 'history' end,
                lower(tg_op), row_data.id::text, ticket, project)
        returning id into log_id;
      perform pg_notify('${CHANGE_CHANNEL}', log_id::text);
      return null;
    end $$`,
    )
    .execute(db);
  for (const table of ['tickets', 'stages', 'ticket_events']) {
    await sql
      .raw(
        `create trigger ${table}_change_log after insert or update or delete on ${table} for each row execute function change_log_record()`,
      )
      .execute(db);
  }
}
