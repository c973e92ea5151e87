-- Grows a generated bench data set by copying its first :n tickets, with their stage visits, stage links, history
-- and OPS log, under new ids. Much faster than importing more (no validation, row triggers off as in the import's
-- bulk mode), for reaching a million tickets when time is short; the copies keep the originals' distributions.
-- It may run again: each run's copies take new ids, salted by the ticket count it starts from.
--   psql "$DATABASE_URL" -v n=300000 -f bench/grow.sql
begin;
set local session_replication_role = replica;
select count(*) as salt from tickets \gset

create temp table ticket_map on commit drop as
  select id as old_id, md5(id || ':copy:' || :salt)::uuid::text as new_id from tickets where external_id like 'bench-%' order by number limit :n;
create temp table stage_map on commit drop as
  select s.id as old_id, md5(s.id || ':copy:' || :salt)::uuid::text as new_id from stages s join ticket_map m on m.old_id = s.ticket_id;

insert into tickets (id, subject, description, status, priority, category, project, customer_name, customer_email, customer_phone,
  contact_person, helpdeskurl, assigned_to, metadata, current_stage_id, ops_id, ops_error, created_at, updated_at, closed_at, version,
  project_id, sla_used_ms, sla_segment_start, sla_at_risk_at, sla_due_at, stage_at_risk_at, stage_due_at, external_id)
select m.new_id, t.subject, t.description, t.status, t.priority, t.category, t.project, t.customer_name, t.customer_email,
  t.customer_phone, t.contact_person, t.helpdeskurl, t.assigned_to, t.metadata, cs.new_id, null, t.ops_error, t.created_at, t.updated_at,
  t.closed_at, t.version, t.project_id, t.sla_used_ms, t.sla_segment_start, t.sla_at_risk_at, t.sla_due_at, t.stage_at_risk_at,
  t.stage_due_at, t.external_id || '-copy-' || :salt
from tickets t join ticket_map m on m.old_id = t.id left join stage_map cs on cs.old_id = t.current_stage_id;

insert into stages (id, stage_type, major_stage_id, stage_description, stage_start_time, stage_end_time, due_at, contact_emails,
  created_at, updated_at, version, ticket_id, definition_id, visit, paused, at_risk_at, business_ms)
select sm.new_id, s.stage_type, mm.new_id, s.stage_description, s.stage_start_time, s.stage_end_time, s.due_at, s.contact_emails,
  s.created_at, s.updated_at, s.version, tm.new_id, s.definition_id, s.visit, s.paused, s.at_risk_at, s.business_ms
from stages s join stage_map sm on sm.old_id = s.id join ticket_map tm on tm.old_id = s.ticket_id
left join stage_map mm on mm.old_id = s.major_stage_id;

insert into ticket_stages (ticket_id, stage_id, position)
select tm.new_id, sm.new_id, ts.position
from ticket_stages ts join ticket_map tm on tm.old_id = ts.ticket_id join stage_map sm on sm.old_id = ts.stage_id;

insert into ticket_events (ticket_id, type, actor_id, actor_name, visibility, data, created_at)
select tm.new_id, e.type, e.actor_id, e.actor_name, e.visibility, e.data, e.created_at
from ticket_events e join ticket_map tm on tm.old_id = e.ticket_id;

insert into change_log (entity, op, entity_id, ticket_id, project_id)
select 'ticket', 'insert', t.id, t.id, t.project_id from tickets t join ticket_map m on m.new_id = t.id;

-- The tallies, recounted from every ticket and visit (their triggers were off).
select recount_tallies();
commit;

-- OPS exchanges for the copies, as bench/data.ts makes them for the originals.
insert into log_entries (id, ticket_id, action, status, timestamp, attempt, http_status, latency_ms, ops_id)
select t.id || ':' || a.action, t.id, a.action, case when a.action = 'retry' then 'failed' else 'success' end,
  t.created_at + a.delay, 1, case when a.action = 'retry' then 503 else 200 end, 20 + (t.number % 180), 'OPS-' || t.number
from tickets t
cross join (values ('send', interval '1 minute'), ('query', interval '2 hours'), ('retry', interval '30 seconds')) as a(action, delay)
where t.external_id like 'bench-%' and t.number % 5 = 0 and (a.action <> 'retry' or t.number % 15 = 0)
on conflict (id) do nothing;
update tickets set ops_id = 'OPS-' || number where external_id like 'bench-%' and number % 5 = 0 and ops_id is null;
vacuum analyze;
