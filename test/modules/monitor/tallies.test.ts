import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, test } from 'node:test';
import { DURATION_BUCKETS_PER_DOUBLING } from '../../../src/db/migrations/0011_tallies.js';
import { testApp, type TestApp } from '../../helpers/app.js';
import { supportWorkflow } from '../../helpers/fixtures.js';

let t: TestApp;
before(async () => {
  t = await testApp();
  for (const key of ['TA', 'TB']) assert.equal((await t.api.post('/api/projects', supportWorkflow(key))).statusCode, 201);
});
after(() => t.close());

const ok = async (response: Promise<{ statusCode: number; body: string; json(): any }>, status = 200) => {
  const res = await response;
  assert.equal(res.statusCode, status, res.body);
  return res.json();
};

type Row = {
  project_id: string | null;
  status: string;
  priority: string;
  definition_id: string | null;
  stage_label: string | null;
  n: number;
};
const key = (row: Row) => [row.project_id, row.status, row.priority, row.definition_id, row.stage_label].join('|');
const sorted = (rows: Row[]) => rows.map((row) => `${key(row)} = ${Number(row.n)}`).sort();

/** The tally as readers see it (deltas summed) and as it would be counted from the tickets themselves. */
async function tallyAndRecount(): Promise<[string[], string[]]> {
  const db = t.database.db;
  const { rows: tally } = await sql<Row>`
    select project_id, status, priority, definition_id, stage_label, n from open_ticket_now`.execute(db);
  const { rows: counted } = await sql<Row>`
    select t.project_id, t.status, t.priority, s.definition_id, case when s.definition_id is null then s.stage_description end as stage_label,
      count(*) as n
    from tickets t left join stages s on s.id = t.current_stage_id where t.status <> 'closed' group by 1, 2, 3, 4, 5`.execute(db);
  return [sorted(tally), sorted(counted)];
}

test('the open-ticket tally equals a recount after every kind of write, before and after folding', async () => {
  let seed = 7;
  const random = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
  const steps = ['intake', 'triage', 'diagnosis', 'fix', 'verification', 'waiting', 'closed'];
  const tickets: { id: string; project: string | null }[] = [];
  for (let i = 0; i < 12; i++) {
    const project = [null, 'TA', 'TB'][i % 3]!;
    tickets.push({ id: (await t.create.ticket(project ? { project, priority: 'low' } : { priority: 'high' })).id, project });
  }
  // A legacy ticket on a free-form stage, and one on a stage of its own list.
  const legacyStage = (await ok(t.api.post('/api/stages', { stage_description: 'Waiting on vendor', stage_type: 'major' }), 201)).data;
  const legacy = (await ok(t.api.post('/api/tickets', { subject: 'legacy', current_stage_id: legacyStage.id }), 201)).data;
  const other = (await ok(t.api.post('/api/stages', { stage_description: 'Parts ordered', stage_type: 'major' }), 201)).data;
  const legacyTwo = (await ok(t.api.post('/api/tickets', { subject: 'legacy two', current_stage_id: other.id }), 201)).data;

  for (let round = 0; round < 40; round++) {
    const ticket = tickets[random(tickets.length)]!;
    switch (random(5)) {
      case 0:
      case 1:
        if (ticket.project) {
          const res = await t.api.post(`/api/tickets/${ticket.id}/transitions`, { to: steps[random(steps.length)] });
          assert.ok([200, 409].includes(res.statusCode), res.body);
        }
        break;
      case 2:
        await ok(t.api.patch(`/api/tickets/${ticket.id}`, { status: ['open', 'pending', 'closed', 'in_progress'][random(4)] }));
        break;
      case 3:
        await ok(t.api.patch(`/api/tickets/${ticket.id}`, { priority: ['low', 'medium', 'high'][random(3)] }));
        break;
      case 4:
        await ok(t.api.patch(`/api/tickets/${ticket.id}`, { project: ticket.project === 'TA' ? 'TB' : 'TA' }));
        ticket.project = ticket.project === 'TA' ? 'TB' : 'TA';
        break;
    }
  }
  // The free-form stage renamed, the other deleted; one ticket deleted; two imported.
  await ok(t.api.patch(`/api/stages/${legacyStage.id}`, { stage_description: 'Waiting on the vendor' }));
  await ok(t.api.delete(`/api/stages/${other.id}`));
  await ok(t.api.delete(`/api/tickets/${tickets[1]!.id}`));
  const imported = await t.api.request({
    method: 'POST',
    url: '/api/import',
    headers: { 'content-type': 'application/x-ndjson' },
    payload: ['x1', 'x2']
      .map((id) =>
        JSON.stringify({
          external_id: `tally-${id}`,
          subject: id,
          project: 'TA',
          status: 'open',
          visits: [{ key: 'fix', stage_start_time: '2026-01-05T10:00:00Z' }],
        }),
      )
      .join('\n'),
  });
  assert.equal(imported.json().data.imported, 2, imported.body);
  assert.ok(legacy.id && legacyTwo.id);

  const [tally, recount] = await tallyAndRecount();
  assert.deepEqual(tally, recount);
  assert.ok(
    tally.some((line) => line.includes('Waiting on the vendor')),
    'the renamed free-form stage is counted under its new name',
  );

  const count = async (table: string) =>
    Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(t.database.db)).rows[0]!.n);
  assert.ok((await count('open_ticket_delta')) > 0);
  await t.app.services.monitor.foldTallies();
  const [folded] = await tallyAndRecount();
  assert.deepEqual(folded, recount);
  assert.equal(await count('open_ticket_delta'), 0, 'folding empties the deltas');
  assert.equal(await count('open_ticket_tally'), recount.length, 'and leaves one row per key');

  // The overview answers from the tally what a scan of the tickets answers.
  const overview = (await ok(t.api.get('/api/monitor/overview?project=TA'))).data;
  const scanned = (await ok(t.api.get('/api/monitor/overview?project=TA&assigned_to=nobody'))).data;
  assert.equal(scanned.open, 0);
  const { rows } = await sql<{ n: number }>`
    select count(*) as n from tickets t join projects p on p.id = t.project_id where p.key = 'TA' and t.status <> 'closed'`.execute(
    t.database.db,
  );
  assert.equal(overview.open, Number(rows[0]!.n));
  assert.equal(
    overview.by_stage.reduce((sum: number, stage: { count: number }) => sum + stage.count, 0),
    overview.open,
  );
});

test('the flow rollup sums appended rows per day, and folding keeps the answer', async () => {
  t.clock.set('2026-03-02T10:00:00Z');
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const ticket = await t.create.ticket({ project: 'TB' });
    await ok(t.api.post(`/api/tickets/${ticket.id}/transitions`, { to: 'intake' }));
    await ok(t.api.post(`/api/tickets/${ticket.id}/transitions`, { to: 'triage' }));
    ids.push(ticket.id);
  }
  const url = '/api/monitor/flow?project=TB&from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z';
  const before = (await ok(t.api.get(url))).data;
  const triage = before.stages.find((stage: { key: string }) => stage.key === 'triage');
  assert.deepEqual(
    triage.points.map((point: { count: number }) => point.count),
    [0, 5, 5],
  );
  await t.app.services.monitor.foldTallies();
  t.app.services.monitor.forgetAnswers();
  assert.deepEqual((await ok(t.api.get(url))).data, before);
});

test('stage statistics over many ended visits come from the duration histogram, within a bucket of the exact ones', async () => {
  const db = t.database.db;
  const { rows } = await sql<{ id: string }>`
    select d.id from stage_definitions d join projects p on p.id = d.project_id where p.key = 'TA' and d.key = 'verification'`.execute(db);
  const definitionId = rows[0]!.id;
  // 30,000 visits in SQL (through the API this would take minutes); their tally rows come from the trigger.
  await sql`
    insert into stages (id, stage_description, stage_start_time, stage_end_time, due_at, business_ms, definition_id, created_at, updated_at)
    select 'hist-' || i, 'verification', v.end_at - v.ms * interval '1 millisecond', v.end_at,
      v.end_at - (i % 3) * interval '1 hour', v.ms / 2, ${definitionId}, v.end_at, v.end_at
    from generate_series(1, 30000) as i,
      lateral (select timestamptz '2026-04-01T00:00:00Z' + (i % 12) * interval '1 day' + (i % 1440) * interval '1 minute' as end_at,
                      ((i * 7919) % 100000) * 1000 + 1000 as ms) as v`.execute(db);
  await t.app.services.monitor.foldTallies();
  // The window starts and ends inside a day: its partial days are read from the visits themselves.
  const from = '2026-04-03T12:00:00Z';
  const to = '2026-04-15T06:30:00Z';
  const { rows: exact } = await sql<{ completed: number; p50: number; p90: number; mean: number; b50: number; on_time: number }>`
    select count(*) as completed,
      percentile_cont(0.5) within group (order by ms) as p50, percentile_cont(0.9) within group (order by ms) as p90, avg(ms) as mean,
      percentile_cont(0.5) within group (order by business_ms) as b50,
      (count(*) filter (where stage_end_time <= due_at))::float8 / count(*) as on_time
    from (select *, extract(epoch from (stage_end_time - stage_start_time)) * 1000 as ms from stages
          where definition_id = ${definitionId} and stage_end_time >= ${from} and stage_end_time < ${to}) s`.execute(db);
  const reference = exact[0]!;
  const stats = (await ok(t.api.get(`/api/monitor/stages?project=TA&from=${from}&to=${to}`))).data;
  const verification = stats.find((stage: { key: string }) => stage.key === 'verification');
  assert.equal(verification.percentiles, 'histogram');
  assert.equal(verification.completed, Number(reference.completed));
  const near = (actual: number, expected: number, tolerance: number, what: string) =>
    assert.ok(Math.abs(actual - expected) <= tolerance * expected, `${what}: ${actual} vs exact ${expected}`);
  near(verification.p50_ms, Number(reference.p50), 0.045, 'p50');
  near(verification.p90_ms, Number(reference.p90), 0.045, 'p90');
  near(verification.p50_business_ms, Number(reference.b50), 0.045, 'p50 business');
  near(verification.mean_ms, Number(reference.mean), 1e-9, 'mean');
  near(verification.within_target, Number(reference.on_time), 1e-9, 'share on time');
  // The histogram percentiles (computed in SQL) are exactly the ones its buckets give, recounted here from the visits:
  // each visit in its log-scale bucket, the rank percentile_cont uses, the bucket's values spread evenly over it.
  const { rows: visits } = await sql<{ bucket: number; business_bucket: number }>`
    select duration_bucket(extract(epoch from (stage_end_time - stage_start_time))::float8 * 1000) as bucket,
      duration_bucket(business_ms::float8) as business_bucket
    from stages where definition_id = ${definitionId} and stage_end_time >= ${from} and stage_end_time < ${to}`.execute(db);
  const bucketStart = (bucket: number) => 2 ** (bucket / DURATION_BUCKETS_PER_DOUBLING) - 1;
  const fromBuckets = (buckets: number[], p: number) => {
    const counts = new Map<number, number>();
    for (const bucket of buckets) counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    const rank = p * (buckets.length - 1);
    let before = 0;
    for (const [bucket, n] of [...counts].sort((a, b) => a[0] - b[0])) {
      if (rank < before + n) return bucketStart(bucket) + ((bucketStart(bucket + 1) - bucketStart(bucket)) * (rank - before + 0.5)) / n;
      before += n;
    }
    throw new Error('no bucket');
  };
  const wall = visits.map((visit) => Number(visit.bucket));
  const business = visits.map((visit) => Number(visit.business_bucket));
  near(verification.p50_ms, fromBuckets(wall, 0.5), 1e-9, 'p50 from the buckets');
  near(verification.p90_ms, fromBuckets(wall, 0.9), 1e-9, 'p90 from the buckets');
  near(verification.p50_business_ms, fromBuckets(business, 0.5), 1e-9, 'p50 business from the buckets');
  near(verification.p90_business_ms, fromBuckets(business, 0.9), 1e-9, 'p90 business from the buckets');
  // The same question with a ticket filter is answered exactly, from the visits.
  const filtered = (await ok(t.api.get(`/api/monitor/stages?project=TA&from=${from}&to=${to}&priority=low`))).data;
  assert.equal(filtered.find((stage: { key: string }) => stage.key === 'verification').percentiles, 'exact');
});

test('the default window reads its whole days from a span that every write to the duration tally keeps', async () => {
  const db = t.database.db;
  const monitor = t.app.services.monitor;
  const { rows } = await sql<{ id: string }>`
    select d.id from stage_definitions d join projects p on p.id = d.project_id where p.key = 'TA' and d.key = 'verification'`.execute(db);
  const definitionId = rows[0]!.id;
  // The default window of this moment: 30 days back, its whole days 2026-03-18 … 2026-04-15 (the visits above).
  t.clock.set('2026-04-16T06:30:00Z');
  await monitor.foldTallies();
  const spans = async () =>
    (await sql<{ span: string }>`select from_day::text || ' ' || to_day::text as span from stage_duration_spans`.execute(db)).rows.map(
      (row) => row.span,
    );
  assert.deepEqual(await spans(), ['2026-03-18 2026-04-16']);
  const stats = async () => {
    monitor.forgetAnswers();
    return (await ok(t.api.get('/api/monitor/stages?project=TA'))).data as { key: string; completed: number; percentiles: string }[];
  };
  const before = await stats();
  assert.equal(before.find((stage) => stage.key === 'verification')!.percentiles, 'histogram');

  // More visits ended on days of the span: first as deltas not folded yet, then folded into the tally (and the span).
  await sql`
    insert into stages (id, stage_description, stage_start_time, stage_end_time, due_at, business_ms, definition_id, created_at, updated_at)
    select 'span-' || i, 'verification', v.end_at - v.ms * interval '1 millisecond', v.end_at, v.end_at, v.ms / 3, ${definitionId}, v.end_at, v.end_at
    from generate_series(1, 500) as i,
      lateral (select timestamptz '2026-03-20T00:00:00Z' + (i % 20) * interval '1 day' + i * interval '1 minute' as end_at,
                      ((i::bigint * 104729) % 5000000) * 1000 + 60000 as ms) as v`.execute(db);
  const unfolded = await stats();
  assert.equal(
    unfolded.find((stage) => stage.key === 'verification')!.completed,
    before.find((stage) => stage.key === 'verification')!.completed + 500,
  );
  await sql`select fold_tallies()`.execute(db);
  const folded = await stats();
  assert.deepEqual(folded, unfolded);
  // One visit moved out of the window and one deleted: updates and deletes reach the span too.
  await sql`update stages set stage_start_time = stage_start_time - interval '60 days', stage_end_time = stage_end_time - interval '60 days' where id = 'span-1'`.execute(
    db,
  );
  await sql`delete from stages where id = 'span-2'`.execute(db);
  await sql`select fold_tallies()`.execute(db);
  const edited = await stats();

  // The same answers from the tally alone (no span), and from the span built again.
  await sql`delete from stage_duration_span`.execute(db);
  await sql`delete from stage_duration_spans`.execute(db);
  const fromTally = await stats();
  assert.deepEqual(edited, fromTally);
  assert.equal(
    fromTally.find((stage) => stage.key === 'verification')!.completed,
    unfolded.find((stage) => stage.key === 'verification')!.completed - 2,
  );
  await monitor.foldTallies();
  assert.deepEqual(await spans(), ['2026-03-18 2026-04-16']);
  assert.deepEqual(await stats(), fromTally);
});

test('aging and the stages in use now, answered from the tallies, equal a recount of the tickets and visits', async () => {
  const db = t.database.db;
  const monitor = t.app.services.monitor;
  // A few open tickets of every age, some of them moved along (open, ended and overdue visits).
  for (const [i, days] of [0.2, 2, 5, 10, 20, 45, 90].entries()) {
    t.clock.set(new Date(Date.parse('2026-05-01T12:00:00Z') - days * 86_400_000));
    const ticket = await t.create.ticket({ project: i % 2 ? 'TA' : 'TB', priority: i % 3 ? 'low' : 'high' });
    await ok(t.api.post(`/api/tickets/${ticket.id}/transitions`, { to: 'intake' }));
    if (i % 2) await ok(t.api.post(`/api/tickets/${ticket.id}/transitions`, { to: 'triage' }));
  }
  t.clock.set('2026-05-01T12:00:00Z');
  const now = t.clock.now().getTime();
  const { rows: open } = await sql<{ project: string | null; priority: string; created_at: Date }>`
    select p.key as project, t.priority, t.created_at from tickets t left join projects p on p.id = t.project_id where t.status <> 'closed'`.execute(
    db,
  );
  const edges = [0, 1, 3, 7, 14, 30];
  for (const query of ['project=TA', 'project=TB', '', 'priority=low,high', 'project=TA&priority=low']) {
    const params = new URLSearchParams(query);
    const priorities = params.get('priority')?.split(',');
    const counted = edges.map((days, index) => {
      const upper = edges[index + 1];
      return open.filter(
        (row) =>
          (!params.get('project') || row.project === params.get('project')) &&
          (!priorities || priorities.includes(row.priority)) &&
          row.created_at.getTime() <= now - days * 86_400_000 &&
          (upper === undefined || row.created_at.getTime() > now - upper * 86_400_000),
      ).length;
    });
    for (const fold of [false, true]) {
      if (fold) await monitor.foldTallies();
      monitor.forgetAnswers();
      const aging = (await ok(t.api.get(`/api/monitor/aging?${query}`))).data as { count: number }[];
      assert.deepEqual(
        aging.map((bucket) => bucket.count),
        counted,
        `aging?${query}`,
      );
    }
  }
  for (const project of ['TA', 'TB']) {
    const { rows: visits } = await sql<{ definition_id: string; open: number; overdue: number }>`
      select d.id as definition_id, count(s.id) filter (where s.stage_end_time is null)::int as open,
        count(s.id) filter (where s.stage_end_time is null and s.due_at <= ${t.clock.now()})::int as overdue
      from stage_definitions d join projects p on p.id = d.project_id left join stages s on s.definition_id = d.id
      where p.key = ${project} group by d.id`.execute(db);
    monitor.forgetAnswers();
    const stages = (await ok(t.api.get(`/api/monitor/stages?project=${project}`))).data as {
      definition_id: string;
      in_stage_now: number;
      overdue_now: number;
    }[];
    assert.deepEqual(
      stages.map((stage) => [stage.definition_id, stage.in_stage_now, stage.overdue_now]).sort(),
      visits.map((row) => [row.definition_id, row.open, row.overdue]).sort(),
      `stages?project=${project}`,
    );
    assert.ok(visits.some((row) => row.open > 0));
  }
});
