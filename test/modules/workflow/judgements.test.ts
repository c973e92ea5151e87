import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { actions } from '../../../src/modules/access/policy.js';
import { delayOf, delayPredicates, judgementSql } from '../../../src/modules/workflow/delay.js';
import { testApp, type TestApp } from '../../helpers/app.js';
import { supportWorkflow } from '../../helpers/fixtures.js';

// Issue 20: every ticket answer carries two named judgements — the current stage's and the whole ticket's.
const MINUTE = 60_000;
const T0 = Date.parse('2026-04-06T08:00:00Z');
let t: TestApp;
let stageLate: Record<string, any>; // its stage's target passed; the ticket's has not
let ticketLate: Record<string, any>; // the ticket's target passed; its stage's has not
let onTrack: Record<string, any>;
before(async () => {
  t = await testApp();
  assert.equal((await t.api.post('/api/projects', supportWorkflow('JDG', { ticket_target_minutes: 600 }))).statusCode, 201);
  t.clock.set(new Date(T0));
  ticketLate = await t.create.ticket({ project: 'JDG', subject: 'ticket late' });
  await move(ticketLate.id, 'intake');
  t.clock.set(new Date(T0 + 30 * MINUTE));
  await move(ticketLate.id, 'fix'); // 1440 min target: at risk from 1152 min
  t.clock.set(new Date(T0 + 9 * 60 * MINUTE));
  stageLate = await t.create.ticket({ project: 'JDG', subject: 'stage late' });
  await move(stageLate.id, 'intake'); // 60 min target; the ticket's 600 min are far away
  onTrack = await t.create.ticket({ project: 'JDG', subject: 'on track' });
  await move(onTrack.id, 'triage');
  t.clock.set(new Date(T0 + 11 * 60 * MINUTE)); // ticketLate: 660 of 600 ticket minutes; stageLate: 120 of 60 stage minutes
});
after(() => t.close());

async function move(id: string, to: string) {
  const res = await t.api.post(`/api/tickets/${id}/transitions`, { to });
  assert.equal(res.statusCode, 200, res.body);
}

const judgementOf = (x: Record<string, any> | undefined = {}) => ({
  stage_state: x.stage_state,
  stage_overdue_by: x.stage_overdue_by,
  ticket_state: x.ticket_state,
  ticket_overdue_by: x.ticket_overdue_by,
  delay_state: x.delay_state,
  delay_reason: x.delay_reason,
  overdue_by: x.overdue_by,
});
const expectStageLate = {
  stage_state: 'overdue',
  stage_overdue_by: 3600,
  ticket_state: 'on_track',
  ticket_overdue_by: null,
  delay_state: 'overdue',
  delay_reason: 'stage',
  overdue_by: 3600,
};
const expectTicketLate = {
  stage_state: 'on_track',
  stage_overdue_by: null,
  ticket_state: 'overdue',
  ticket_overdue_by: 3600,
  delay_state: 'overdue',
  delay_reason: 'ticket',
  overdue_by: 3600,
};

test('a single ticket names both judgements, and the due moments they are measured against', async () => {
  const one = (await t.api.get(`/api/tickets/${stageLate.id}`)).json().data;
  assert.deepEqual(judgementOf(one), expectStageLate);
  assert.equal(one.stage_due_at, new Date(T0 + 10 * 60 * MINUTE).toISOString());
  assert.equal(one.ticket_due_at, new Date(T0 + 19 * 60 * MINUTE).toISOString());
  assert.deepEqual([one.stage?.key, one.stage?.name], ['intake', 'Intake']);
  assert.equal(one.stage_entered_at, new Date(T0 + 9 * 60 * MINUTE).toISOString());
  const other = (await t.api.get(`/api/tickets/${ticketLate.id}`)).json().data;
  assert.deepEqual(judgementOf(other), expectTicketLate);
  assert.equal(other.ticket_due_at, new Date(T0 + 10 * 60 * MINUTE).toISOString());
  assert.equal(other.due_at, other.ticket_due_at, 'the older due_at is the earlier of the two');
  const timeline = (await t.api.get(`/api/tickets/${ticketLate.id}/timeline`)).json().data;
  assert.deepEqual(judgementOf(timeline), expectTicketLate);
});

test('the tickets list carries stage, time in stage and both judgements from one query, sortable by either', async () => {
  const list = (await t.api.get('/api/tickets?project=JDG')).json().data;
  const byId = new Map<string, Record<string, any>>(list.map((x: Record<string, any>) => [x.id, x]));
  assert.deepEqual(judgementOf(byId.get(stageLate.id)), expectStageLate);
  assert.deepEqual(judgementOf(byId.get(ticketLate.id)), expectTicketLate);
  assert.deepEqual(byId.get(ticketLate.id)!.stage.key, 'fix');
  assert.equal(byId.get(ticketLate.id)!.stage_entered_at, new Date(T0 + 30 * MINUTE).toISOString());
  const order = async (sort: string) =>
    (await t.api.get(`/api/tickets?project=JDG&sort=${sort}`)).json().data.map((x: { subject: string }) => x.subject);
  assert.deepEqual(await order('-stage_overdue_by'), ['stage late', 'on track', 'ticket late']);
  assert.deepEqual(await order('-ticket_overdue_by'), ['ticket late', 'stage late', 'on track']);
  assert.deepEqual((await order('-delay')).slice(0, 2).sort(), ['stage late', 'ticket late']);
  // Cursor paging keeps the order, one row a page.
  const seen: string[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const page: Record<string, any> = (
      await t.api.get(`/api/tickets?project=JDG&sort=-stage_overdue_by&limit=1${cursor ? `&cursor=${cursor}` : ''}`)
    ).json();
    seen.push(...page.data.map((x: { subject: string }) => x.subject));
    cursor = page.page.next_cursor;
  }
  assert.deepEqual(seen, ['stage late', 'on track', 'ticket late']);
});

test('the board, the Delayed list and the forecast list carry the same judgements; Delayed sorts by either', async () => {
  const board = (await t.api.get('/api/board?project=JDG')).json().data;
  const card = board.cards.find((x: { id: string }) => x.id === ticketLate.id);
  assert.deepEqual(judgementOf(card), expectTicketLate);
  const delayed = async (query: string) => (await t.api.get(`/api/monitor/delayed?project=JDG${query}`)).json();
  const all = await delayed('');
  assert.equal(all.page.total, 2);
  const row = all.data.find((x: { id: string }) => x.id === stageLate.id);
  assert.deepEqual(judgementOf(row), expectStageLate);
  assert.equal(row.stage.key, 'intake');
  const subjects = (body: Record<string, any>) => body.data.map((x: { subject: string }) => x.subject);
  assert.deepEqual(subjects(await delayed('&sort=stage_overdue_by')), ['stage late', 'ticket late']);
  assert.deepEqual(subjects(await delayed('&sort=ticket_overdue_by')), ['ticket late', 'stage late']);
  for (const sort of ['delay', 'stage_overdue_by', 'ticket_overdue_by']) {
    const first = await delayed(`&sort=${sort}&limit=1`);
    assert.ok(first.page.next_cursor, sort);
    const second = await delayed(`&sort=${sort}&limit=1&cursor=${first.page.next_cursor}`);
    assert.deepEqual([...subjects(first), ...subjects(second)], subjects(await delayed(`&sort=${sort}`)), sort);
    assert.equal(second.page.next_cursor, null, sort);
  }
  assert.equal((await t.api.get('/api/monitor/delayed?cursor=nonsense')).statusCode, 400);
});

test('GET /api/me lists the abilities the policy grants, per role and token scope', async () => {
  const admin = (await t.api.get('/api/me')).json().data;
  assert.deepEqual(admin.abilities, [...actions]);
  const viewer = (await (await t.userClient('viewer')).get('/api/me')).json().data;
  assert.ok(viewer.abilities.includes('monitor:read'));
  assert.ok(!viewer.abilities.includes('ticket:comment'));
  const customer = (await (await t.userClient('customer')).get('/api/me')).json().data;
  assert.ok(!customer.abilities.includes('monitor:read'));
  assert.ok(!customer.abilities.includes('project:read'));
  assert.ok(customer.abilities.includes('ticket:create'));
  const readOnly = (await (await t.userClient('agent', { scope: 'read' })).get('/api/me')).json().data;
  assert.ok(readOnly.abilities.every((action: string) => action.endsWith(':read')));
});

test('the SQL and TypeScript judgements agree on random rows', async () => {
  let seed = 20;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const now = new Date('2026-05-01T12:00:00.000Z');
  const moment = () => (random() < 0.25 ? null : new Date(now.getTime() + Math.round((random() - 0.5) * 4 * 3600) * 1000));
  const pair = () => {
    const due = moment();
    const atRisk = due && random() < 0.8 ? new Date(due.getTime() - Math.round(random() * 3600) * 1000) : random() < 0.1 ? moment() : null;
    return [atRisk, due] as const;
  };
  const rows = Array.from({ length: 400 }, (_, i) => {
    const [stageAtRisk, stageDue] = pair();
    const [slaAtRisk, slaDue] = random() < 0.1 ? ([stageAtRisk, stageDue] as const) : pair();
    return {
      i,
      status: random() < 0.1 ? 'closed' : 'open',
      stage_at_risk_at: stageAtRisk,
      stage_due_at: stageDue,
      sla_at_risk_at: slaAtRisk,
      sla_due_at: slaDue,
    };
  });
  const j = judgementSql(now);
  const p = delayPredicates(now); // the monitor's index-friendly form
  const values = sql.join(
    rows.map(
      (r) =>
        sql`(${r.i}::int, ${r.status}::text, ${r.stage_at_risk_at}::timestamptz, ${r.stage_due_at}::timestamptz, ${r.sla_at_risk_at}::timestamptz, ${r.sla_due_at}::timestamptz)`,
    ),
  );
  const { rows: judged } = await sql<Record<string, unknown>>`
    select t.i, ${j.stage_state} as stage_state, ${j.ticket_state} as ticket_state, ${j.delay_state} as delay_state,
      ${j.delay_reason} as delay_reason, ${j.stage_overdue_by} as stage_overdue_by, ${j.ticket_overdue_by} as ticket_overdue_by,
      ${p.late} as late, ${p.atRisk} as at_risk, ${p.overdue} as overdue
    from (select v.*, least(v.stage_at_risk_at, v.sla_at_risk_at) as at_risk_from, least(v.stage_due_at, v.sla_due_at) as overdue_from
      from (values ${values}) as v(i, status, stage_at_risk_at, stage_due_at, sla_at_risk_at, sla_due_at)) t
    order by t.i`.execute(t.database.db);
  for (const row of rows) {
    const ts = delayOf(row, now);
    const db = judged[row.i];
    assert.deepEqual(
      {
        stage_state: db.stage_state,
        ticket_state: db.ticket_state,
        delay_state: db.delay_state,
        delay_reason: db.delay_reason,
        stage_overdue_by: db.stage_overdue_by === null ? null : Number(db.stage_overdue_by),
        ticket_overdue_by: db.ticket_overdue_by === null ? null : Number(db.ticket_overdue_by),
      },
      {
        stage_state: ts.stage_state,
        ticket_state: ts.ticket_state,
        delay_state: ts.delay_state,
        delay_reason: ts.delay_reason,
        stage_overdue_by: ts.stage_overdue_by,
        ticket_overdue_by: ts.ticket_overdue_by,
      },
      JSON.stringify(row),
    );
    // The predicates hold where a due moment comes with an at-risk moment, as the workflow always stores them.
    const stored = (row.stage_due_at === null || row.stage_at_risk_at !== null) && (row.sla_due_at === null || row.sla_at_risk_at !== null);
    if (!stored) continue;
    const predicates = { late: Boolean(db.late), at_risk: Boolean(db.at_risk), overdue: Boolean(db.overdue) };
    const state = ts.delay_state;
    assert.deepEqual(
      predicates,
      { late: state === 'at_risk' || state === 'overdue', at_risk: state === 'at_risk', overdue: state === 'overdue' },
      JSON.stringify(row),
    );
  }
});
