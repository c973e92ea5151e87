import { sql, type Kysely } from 'kysely';

/**
 * Cheaper trigger work per write (issue 19), measured with `bench/write-cost.ts` and `pg_stat_statements` (track =
 * all) at 100,000 tickets: the same triggers on the same events (their names unchanged, so the import's bulk mode still
 * knows them), with leaner bodies.
 *
 * - The open-ticket tally's row trigger called the SQL function `open_ticket_move` once for the row leaving its key and
 *   once for the row entering one. A SQL function is planned afresh on every call: those calls were the dearest
 *   statements a write ran in its triggers (1.0 ms per create, 0.7 ms per PATCH or transition). Now one insert with a
 *   cached plan writes both deltas.
 * - The stage-moments statement triggers ran an UPDATE of tickets after every statement on stages, even when nothing
 *   was to change (the service writes a move's moments itself): a statement that found no row still fired the tickets'
 *   statement triggers (a change-log insert over no rows). Now they look first and update only the tickets that differ.
 *
 * `expect_row(written)` fails the statement it is in (SQLSTATE 40001) unless `written`: an optimistic write (a PATCH reads
 * the ticket, then updates it where its version is still the one read) sends its history and audit entry in the same
 * statement, so all of it is undone when the row moved on meanwhile, and the service tries again (src/db/sql-helpers.ts,
 * `withPartsIfWritten`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function expect_row(written boolean) returns boolean language plpgsql as $$
    begin
      if not written then
        raise exception 'the row changed meanwhile' using errcode = '40001';
      end if;
      return true;
    end $$`.execute(db);
  await sql`
    create or replace function tickets_open_tally() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and old.status = new.status and old.priority = new.priority
         and old.project_id is not distinct from new.project_id and old.current_stage_id is not distinct from new.current_stage_id then
        return null;
      end if;
      -- A ticket's key, read from its current stage; a missing stage reads as no stage. OLD is null on insert, NEW on delete.
      insert into open_ticket_delta (project_id, status, priority, definition_id, stage_label, n)
      select k.project_id, k.status, k.priority, s.definition_id, case when s.definition_id is null then s.stage_description end, k.n
      from (values
        (old.project_id, old.status, old.priority, old.current_stage_id, -1, tg_op in ('UPDATE', 'DELETE') and old.status <> 'closed'),
        (new.project_id, new.status, new.priority, new.current_stage_id, 1, tg_op in ('INSERT', 'UPDATE') and new.status <> 'closed')
      ) as k(project_id, status, priority, stage_id, n, counted)
      left join stages s on s.id = k.stage_id
      where k.counted;
      return case when tg_op = 'DELETE' then old end;
    end $$`.execute(db);

  const moved = `(p.due_at, p.at_risk_at, p.stage_end_time, p.ticket_id) is distinct from (c.due_at, c.at_risk_at, c.stage_end_time, c.ticket_id)`;
  const tickets: Record<string, string> = {
    insert: 'select distinct c.ticket_id from changed c',
    delete: 'select distinct c.ticket_id from changed c',
    update: `select p.ticket_id from previous p join changed c on c.id = p.id where ${moved}
             union select c.ticket_id from previous p join changed c on c.id = p.id where ${moved}`,
  };
  for (const event of ['insert', 'update', 'delete']) {
    // The tickets whose earliest open-stage moments differ from what they hold.
    const stale = `
      select k.ticket_id, m.at_risk_at, m.due_at
      from (${tickets[event]}) k
      join tickets t on t.id = k.ticket_id
      cross join lateral (select min(coalesce(s.at_risk_at, s.due_at)) as at_risk_at, min(s.due_at) as due_at
                          from stages s where s.ticket_id = k.ticket_id and s.stage_end_time is null) m
      where (t.stage_at_risk_at, t.stage_due_at) is distinct from (m.at_risk_at, m.due_at)`;
    await sql
      .raw(
        `create or replace function stages_ticket_moments_${event}() returns trigger language plpgsql as $$
        begin
          if exists (${stale}) then
            update tickets t set stage_at_risk_at = m.at_risk_at, stage_due_at = m.due_at
            from (${stale}) m
            where t.id = m.ticket_id;
          end if;
          return null;
        end $$`,
      )
      .execute(db);
  }
}
