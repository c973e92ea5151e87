import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { buildApp } from '../../../src/app.js';
import { openDatabase } from '../../../src/db/database.js';
import { TEST_ADMIN_TOKEN, testApp, type TestApp } from '../../helpers/app.js';
import { supportWorkflow } from '../../helpers/fixtures.js';

type Event = { id: string; event: string; data: Record<string, any> };

/** A Server-Sent Events client over plain HTTP that collects what it receives. */
function openStream(base: string, path: string, headers: Record<string, string> = {}) {
  const events: Event[] = [];
  const waiters: (() => void)[] = [];
  let status = 0;
  let request!: http.ClientRequest;
  const ended = new Promise<void>((resolve, reject) => {
    request = http.get(`${base}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers } }, (response) => {
      status = response.statusCode ?? 0;
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((line) => line && !line.startsWith(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
          );
          if (fields.data) events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) });
          for (const wake of waiters.splice(0)) wake();
        }
      });
      response.on('end', resolve);
      response.on('close', resolve);
    });
    request.on('error', reject);
  });
  return {
    events,
    ended,
    get status() {
      return status;
    },
    async waitFor(predicate: (events: Event[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(events.map((e) => [e.event, e.data.op]))}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    close: () => request.destroy(),
  };
}

let t: TestApp;
let base: string;
before(async () => {
  t = await testApp();
  await t.api.post('/api/projects', supportWorkflow('LIVE'));
  await t.api.post('/api/projects', supportWorkflow('OTHER'));
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
after(() => t.close());

test('changes of tickets, stages and history stream live, filtered by project', async () => {
  const stream = openStream(base, '/api/events?project=LIVE');
  await stream.waitFor(() => stream.status === 200, 'the stream to open');
  const other = await t.create.ticket({ project: 'OTHER' });
  const ticket = await t.create.ticket({ project: 'LIVE' });
  await t.api.post(`/api/tickets/${ticket.id}/transitions`, { to: 'intake' });
  await stream.waitFor(
    (events) => events.some((e) => e.event === 'stage' && e.data.op === 'insert') && events.some((e) => e.event === 'history'),
    'stage and history events',
  );
  assert.ok(stream.events.every((e) => e.data.project_id !== null && e.data.ticket_id !== other.id));
  assert.ok(stream.events.some((e) => e.event === 'ticket' && e.data.id === ticket.id && e.data.op === 'insert'));
  const ids = stream.events.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'each change once');
  stream.close();
});

test('a stream resumes after Last-Event-ID with what happened while away', async () => {
  const first = openStream(base, '/api/events?project=LIVE');
  await first.waitFor(() => first.status === 200, 'the stream to open');
  const ticket = await t.create.ticket({ project: 'LIVE' });
  await first.waitFor((events) => events.some((e) => e.data.id === ticket.id), 'the new ticket');
  const last = first.events.at(-1)!.id;
  first.close();

  await t.api.post(`/api/tickets/${ticket.id}/comments`, { body: 'while you were away' });
  await t.api.post(`/api/tickets/${ticket.id}/transitions`, { to: 'triage' });

  const resumed = openStream(base, '/api/events?project=LIVE', { 'last-event-id': last });
  await resumed.waitFor((events) => events.filter((e) => e.event === 'history').length >= 2, 'the missed history');
  assert.ok(resumed.events.every((e) => e.id !== last));
  assert.equal(resumed.events.filter((e) => e.event === 'history' && e.data.ticket_id === ticket.id).length >= 2, true);
  resumed.close();

  const bad = await t.api.get('/api/events', { 'last-event-id': 'yesterday' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.details[0].field, 'last-event-id');
  assert.equal((await t.api.get('/api/events?project=NOPE')).statusCode, 400);
});

test('closing the app ends open streams', async () => {
  const other = await buildApp({ config: t.config, database: t.database, clock: t.clock, logger: false });
  const url = await other.listen({ port: 0, host: '127.0.0.1' });
  const stream = openStream(url, '/api/events');
  await stream.waitFor(() => stream.status === 200, 'the stream to open');
  await other.close();
  await stream.ended;
});

test(
  'with PostgreSQL, changes made by another process reach this process (LISTEN/NOTIFY)',
  { skip: !process.env.TEST_DATABASE_URL },
  async () => {
    const { rows } = await (await import('kysely')).sql<{ name: string }>`select current_database() as name`.execute(t.database.db);
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${rows[0].name}`;
    const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 2, migrate: false });
    const second = await buildApp({ config: t.config, database, clock: t.clock, logger: false });
    await second.ready();
    try {
      const stream = openStream(base, '/api/events?project=LIVE');
      await stream.waitFor(() => stream.status === 200, 'the stream to open');
      const res = await second.inject({
        method: 'POST',
        url: '/api/tickets',
        payload: { subject: 'made elsewhere', project: 'LIVE' },
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      assert.equal(res.statusCode, 201, res.body);
      const id = res.json().data.id;
      await stream.waitFor((events) => events.some((e) => e.event === 'ticket' && e.data.id === id), "the other process's ticket", 10_000);
      stream.close();
    } finally {
      await second.close();
      await database.close();
    }
  },
);
