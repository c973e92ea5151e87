import { sql, type Kysely } from 'kysely';

/**
 * The delay sweeper as a bounded index range read (issue 19). Every 15 s it looked for open visits past their at-risk
 * moment without their alerts: at 100,000 tickets that read every open visit already past it (11,486 rows on 8,386
 * heap pages, ~320–580 ms) to find nothing, ten times that at a million.
 *
 * `stages.alert_level` says which of a visit's alerts are recorded (0 none, 1 at risk, 2 overdue too); the sweep
 * raises it with the alerts it records, so alerts and level agree. `stages_alert_next` holds each open visit whose
 * next alert is still to come, keyed by that alert's moment (its at-risk moment, then the later of at-risk and due);
 * an idle sweep reads an empty range of it. The expression must stay the sweep's (workflow/repository.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table stages add column if not exists alert_level smallint not null default 0`.execute(db);
  await sql`
    update stages s set alert_level = a.level
    from (select stage_id, max(case kind when 'overdue' then 2 else 1 end) as level from stage_alerts group by stage_id) a
    where s.id = a.stage_id and s.stage_end_time is null and s.alert_level <> a.level`.execute(db);
  await sql`
    create index if not exists stages_alert_next on stages ((case alert_level when 0 then at_risk_at
      when 1 then case when due_at is not null then greatest(at_risk_at, due_at) end end))
    where stage_end_time is null and ticket_id is not null and alert_level < 2`.execute(db);
}
