import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';

let t: TestApp;
before(async () => {
  t = await testApp();
  const project = await t.api.post('/api/projects', {
    key: 'imp',
    name: 'Import project',
    stages: [
      { key: 'intake', name: 'Intake', target_minutes: 60 },
      { key: 'fix', name: 'Fix', target_minutes: 600 },
    ],
  });
  assert.equal(project.statusCode, 201, project.body);
});
after(() => t.close());

const ndjson = (rows: unknown[]) => rows.map((row) => (typeof row === 'string' ? row : JSON.stringify(row))).join('\n');
const post = (body: string, query = '', type = 'application/x-ndjson') =>
  t.api.request({ method: 'POST', url: `/api/import${query}`, payload: body, headers: { 'content-type': type } });

let counter = 0;
const uid = (prefix: string) => `${prefix}-${++counter}`;

test('NDJSON: good rows imported with their visits, bad rows reported by line and skipped', async () => {
  const good = uid('good');
  const body = ndjson([
    {
      external_id: good,
      subject: 'Imported printer fire',
      customer_email: 'a@example.com',
      status: 'open',
      project: 'imp',
      created_at: '2026-01-05T09:00:00Z',
      visits: [
        { key: 'fix', stage_start_time: '2026-01-05T10:00:00Z', due_at: '2026-01-06T10:00:00Z' },
        { key: 'intake', stage_start_time: '2026-01-05T09:00:00Z', stage_end_time: '2026-01-05T10:00:00Z' },
      ],
    },
    '',
    { external_id: uid('bad'), subject: 'x', customer_email: 'not-an-email' },
    '{not json',
    { external_id: uid('bad'), subject: 'x', surprise: 1 },
    { subject: 'no external id' },
    { external_id: uid('bad'), subject: 'x', visits: [{ stage_start_time: 'yesterday' }] },
    { external_id: uid('bad'), subject: 'x', project: 'imp', visits: [{ key: 'nope', stage_start_time: '2026-01-05T09:00:00Z' }] },
  ]);
  const res = await post(body);
  assert.equal(res.statusCode, 200, res.body);
  const report = res.json().data;
  assert.equal(report.rows, 7);
  assert.equal(report.imported, 1);
  assert.equal(report.rejected, 6);
  assert.deepEqual(
    report.errors.map((e: { line: number }) => e.line),
    [3, 4, 5, 6, 7, 8],
  );
  assert.match(report.errors[0].reason, /customer_email/);
  assert.match(report.errors[1].reason, /JSON/);
  assert.match(report.errors[2].reason, /surprise: unknown field/);
  assert.match(report.errors[3].reason, /external_id/);
  assert.match(report.errors[4].reason, /visits\.0\.stage_start_time/);
  assert.match(report.errors[5].reason, /visits\.0\.key: project imp has no stage nope/);

  const list = await t.api.get('/api/tickets?q=imported%20printer');
  const ticket = list.json().data[0];
  assert.equal(ticket.status, 'open');
  assert.equal(ticket.created_at, '2026-01-05T09:00:00.000Z');
  assert.equal(ticket.stages.length, 2);
  assert.equal(ticket.current_stage_id, ticket.stages[1]);
  const current = (await t.api.get(`/api/stages/${ticket.current_stage_id}`)).json().data;
  assert.equal(current.stage_start_time, '2026-01-05T10:00:00.000Z');
  assert.equal(current.stage_end_time, null);

  // What the row triggers keep (bulk mode does it per batch): project, flow tally, change log.
  const { sql } = await import('kysely');
  const row = (
    await sql<{ project_id: string | null; flow: number; changes: number }>`
    select t.project_id,
      (select sum(f.entered)::int from stage_flow_now f join stage_definitions d on d.id = f.definition_id where d.key in ('intake', 'fix')) as flow,
      (select count(*)::int from change_log c where c.ticket_id = t.id) as changes
    from tickets t where t.id = ${ticket.id}`.execute(t.database.db)
  ).rows[0]!;
  assert.ok(row.project_id);
  assert.equal(row.flow, 2);
  // One change per imported ticket: its visits and history come with it (bulk mode logs no stage or history rows).
  assert.equal(row.changes, 1);
});

test('re-running an import does not duplicate', async () => {
  const rows = [1, 2, 3].map((n) => ({
    external_id: uid('again'),
    subject: `Again ${n}`,
    visits: [{ stage_start_time: '2026-02-01T00:00:00Z' }],
  }));
  const first = (await post(ndjson(rows))).json().data;
  assert.equal(first.imported, 3);
  const second = (await post(ndjson([...rows, { external_id: uid('again'), subject: 'Again 4' }]))).json().data;
  assert.equal(second.imported, 1);
  assert.equal(second.existing, 3);
  assert.equal(second.rejected, 0);
  const total = (await t.api.get('/api/tickets?q=again&count=true')).json().page.total;
  assert.equal(total, 4);
});

test('a repeated external id in one file and a taken ticket id are reported', async () => {
  const taken = await t.create.ticket({ id: uid('taken-id') });
  const twice = uid('twice');
  const res = await post(
    ndjson([
      { external_id: twice, subject: 'First' },
      { external_id: twice, subject: 'Second' },
      { external_id: uid('clash'), id: taken.id, subject: 'Clash', visits: [{ stage_start_time: '2026-02-01T00:00:00Z' }] },
    ]),
  );
  const report = res.json().data;
  assert.equal(report.imported, 1);
  assert.deepEqual(
    report.errors.map((e: { line: number; reason: string }) => [e.line, e.reason]),
    [
      [2, 'external_id: repeats line 1'],
      [3, `id: ticket ${taken.id} already exists`],
    ],
  );
  const stages = (await t.api.get(`/api/tickets/${taken.id}`)).json().data.stages;
  assert.deepEqual(stages, []);
});

test('strict: one bad row refuses the whole import and writes nothing', async () => {
  const ids = [uid('strict'), uid('strict'), uid('strict')];
  const body = ndjson([
    { external_id: ids[0], subject: 'Strict one' },
    { external_id: ids[1], subject: 'Strict two', priority: 'urgent' },
    { external_id: ids[2], subject: 'Strict three' },
  ]);
  const res = await post(body, '?strict=true');
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().error.code, 'VALIDATION_FAILED');
  assert.deepEqual(res.json().error.details, [{ field: 'line 2', problem: 'priority: must be one of low, medium, high' }]);
  assert.equal((await t.api.get('/api/tickets?q=strict&count=true')).json().page.total, 0);

  const clean = await post(ndjson([{ external_id: ids[0], subject: 'Strict one' }]), '?strict=true');
  assert.equal(clean.json().data.imported, 1);
});

test('strict: a conflict found while writing rolls back earlier batches too', async () => {
  const taken = await t.create.ticket({ id: uid('strict-taken') });
  const rows = Array.from({ length: 5 }, (_, n) => ({ external_id: uid('sbatch'), subject: `Sbatch ${n}` }));
  rows.push({ external_id: uid('sbatch'), subject: 'Sbatch clash', id: taken.id } as never);
  const report = await t.app.services.imports.run(
    (await import('../../../src/modules/access/policy.js')).systemActor,
    (await import('node:stream')).Readable.from([ndjson(rows)]),
    { format: 'ndjson', strict: true, batchSize: 2 },
  );
  assert.equal(report.refused, true);
  assert.equal(report.imported, 0);
  assert.equal((await t.api.get('/api/tickets?q=sbatch&count=true')).json().page.total, 0);
});

test('CSV: documented columns, JSON cells for metadata and visits, quoted fields', async () => {
  const a = uid('csv');
  const csv = [
    'external_id,subject,customer_name,customer_email,priority,status,metadata,visits',
    `${a},"Csv, with comma",Ann,ann@example.com,high,closed,"{""tier"":""gold""}","[{""stage_start_time"":""2026-03-01T00:00:00Z"",""stage_end_time"":""2026-03-02T00:00:00Z""}]"`,
    `${uid('csv')},,,,low,,,`,
    `${uid('csv')},Csv bad,,,low,nope,,`,
    `${uid('csv')},Csv bad json,,,,,{oops,`,
  ].join('\n');
  const res = await post(csv, '', 'text/csv');
  assert.equal(res.statusCode, 200, res.body);
  const report = res.json().data;
  assert.equal(report.format, 'csv');
  assert.equal(report.imported, 1);
  assert.deepEqual(
    report.errors.map((e: { line: number }) => e.line),
    [3, 4, 5],
  );
  assert.match(report.errors[0].reason, /subject: a ticket needs a subject or a customer_name/);
  assert.match(report.errors[1].reason, /status/);
  assert.match(report.errors[2].reason, /metadata: must be JSON/);
  const ticket = (await t.api.get('/api/tickets?q=with%20comma')).json().data[0];
  assert.equal(ticket.priority, 'high');
  assert.deepEqual(ticket.metadata, { tier: 'gold' });
  assert.equal(ticket.closed_at, '2026-03-02T00:00:00.000Z');
  assert.equal(ticket.current_stage_id, null);
});

test('only admins import', async () => {
  const agent = await t.userClient('agent');
  const res = await agent.request({
    method: 'POST',
    url: '/api/import',
    payload: ndjson([{ external_id: uid('x'), subject: 'x' }]),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  assert.equal(res.statusCode, 403);
});

test('fuzz: random bodies, content types and queries answer 2xx/4xx with the error shape', async () => {
  const bodies = ['', '\u0000', '[]', '{"external_id":1}', 'a,b\n1', '"\n', '{}\n{}', 'x'.repeat(5000), '{"external_id":"f","visits":{}}'];
  const types = ['application/x-ndjson', 'text/csv', 'application/json', 'text/plain'];
  const queries = ['', '?strict=yes', '?format=xml', '?strict=true', '?format=csv&x=1'];
  for (const body of bodies) {
    for (const type of types) {
      for (const query of queries) {
        const res = await post(body, query, type);
        assert.ok(res.statusCode < 500, `${res.statusCode} for ${JSON.stringify([body.slice(0, 20), type, query])}: ${res.body}`);
        if (res.statusCode >= 400) assert.equal(res.json().success, false);
      }
    }
  }
});

test('text with tabs, line breaks, backslashes and quotes arrives as written (the COPY path escapes it)', async () => {
  const odd = 'Tab\there, line\nbreak, back\\slash \\N, "quotes", {braces}, carriage\rreturn';
  const id = uid('odd');
  const res = await post(
    ndjson([
      {
        external_id: id,
        subject: odd,
        description: odd,
        metadata: { note: odd },
        project: 'imp',
        visits: [
          {
            key: 'intake',
            stage_start_time: '2026-02-01T00:00:00Z',
            stage_description: odd,
            contact_emails: ['first@example.com', 'second@example.com'],
          },
        ],
      },
    ]),
  );
  assert.equal(res.json().data.imported, 1, res.body);
  const ticket = (await t.api.get(`/api/tickets?q=${encodeURIComponent('braces')}`))
    .json()
    .data.find((row: { subject: string }) => row.subject === odd);
  assert.ok(ticket, 'the ticket is found by its text');
  const full = (await t.api.get(`/api/tickets/${ticket.id}`)).json().data;
  assert.equal(full.description, odd);
  assert.deepEqual(full.metadata, { note: odd });
  const stage = (await t.api.get(`/api/stages/${full.current_stage_id}`)).json().data;
  assert.equal(stage.stage_description, odd);
  assert.deepEqual(stage.contact_emails, ['first@example.com', 'second@example.com']);
});

test('an import leaves a settled database: past crossings recorded as the sweeper would, no tally deltas', async () => {
  const { sql } = await import('kysely');
  const { DelaySweeper } = await import('../../../src/modules/workflow/sweeper.js');
  const late = uid('late');
  const pending = async () =>
    (
      await sql<{ n: number }>`
        select ((select count(*) from stage_flow_delta) + (select count(*) from open_ticket_delta)
          + (select count(*) from stage_duration_delta))::int as n`.execute(t.database.db)
    ).rows[0]!.n;
  const before = await pending();
  const report = (
    await post(
      ndjson([
        // Intake's target is 60 minutes: at the clock's 2026-03-02 this open visit is long overdue.
        {
          external_id: late,
          project: 'imp',
          subject: 'Settled late',
          visits: [{ key: 'intake', stage_start_time: '2026-02-02T09:00:00Z' }],
        },
        {
          external_id: uid('done'),
          project: 'imp',
          subject: 'Settled done',
          visits: [{ key: 'intake', stage_start_time: '2026-02-02T09:00:00Z', stage_end_time: '2026-02-02T12:00:00Z' }],
        },
      ]),
    )
  ).json().data;
  assert.equal(report.imported, 2, JSON.stringify(report));
  const ticket = (await t.api.get('/api/tickets?q=settled%20late')).json().data[0];
  const history = (await t.api.get(`/api/tickets/${ticket.id}/history?limit=100`)).json().data as {
    type: string;
    created_at: string;
    data: Record<string, unknown>;
  }[];
  const alerts = history.filter((event) => event.type === 'at_risk' || event.type === 'overdue');
  // Recorded at the moments they were crossed (the visit's at-risk moment and its due time), not at the import.
  assert.deepEqual(
    alerts.map((event) => [event.type, event.data.scope, event.data.key, event.data.visit, event.created_at]),
    [
      ['at_risk', 'stage', 'intake', 1, alerts[0]!.created_at],
      ['overdue', 'stage', 'intake', 1, '2026-02-02T10:00:00.000Z'],
    ],
  );
  assert.ok(alerts[0]!.created_at < alerts[1]!.created_at);
  // Its alerts are recorded, so the visit is off the sweep's index of next alerts (migration 0023).
  const levels = await t.database.db
    .selectFrom('stages')
    .select('alert_level')
    .where('ticket_id', '=', ticket.id)
    .where('stage_end_time', 'is', null)
    .execute();
  assert.deepEqual(
    levels.map((row) => row.alert_level),
    [2],
  );
  // The first sweep finds nothing old to announce.
  const swept = await new DelaySweeper({ database: t.database, clock: t.clock } as never).sweep();
  assert.deepEqual(
    swept.filter((crossing) => crossing.ticket_id === ticket.id),
    [],
  );
  assert.equal(await pending(), before, 'the import wrote the tallies, not deltas to fold');
});
