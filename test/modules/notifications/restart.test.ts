import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildApp } from '../../../src/app.js';
import { testApp, type TestApp } from '../../helpers/app.js';
import { settled } from '../../helpers/dispatch.js';
import { eventually } from '../../helpers/eventually.js';
import { smtpServer } from './smtp.js';

let smtp: Awaited<ReturnType<typeof smtpServer>>;
let t: TestApp;

before(async () => {
  smtp = await smtpServer();
  t = await testApp({ SMTP_URL: smtp.url });
});
after(async () => {
  await t.close();
  await smtp.close();
});

test('a worker lost mid-batch: a second process delivers the rest, and each address gets the event exactly once', async () => {
  const ticket = await t.create.ticket({ subject: 'Six watchers' });
  const watchers = await Promise.all(Array.from({ length: 6 }, () => t.userClient('agent')));
  await settled(t);
  await t.app.services.dispatcher.dispatch();
  for (const watcher of watchers) assert.equal((await watcher.post(`/api/tickets/${ticket.id}/watchers`)).statusCode, 201);
  assert.equal((await t.api.post(`/api/tickets/${ticket.id}/comments`, { body: 'Everyone look' })).statusCode, 201);
  await settled(t);
  await t.app.services.dispatcher.dispatch();
  // A second dispatch (another process, a restart) queues nothing again: the cursor moved with the jobs.
  await t.app.services.dispatcher.dispatch();

  // The first process delivers three mails and hangs on the other three, holding their claims.
  smtp.holdAfter(3);
  const lost = t.app.services.outbox.runDue();
  await eventually(
    () => smtp.received.length === 3 && smtp.heldCount() === 3,
    `three accepted, three held (${smtp.received.length}, ${smtp.heldCount()})`,
  );
  const sent = () =>
    t.database.db
      .selectFrom('mail_deliveries')
      .select('status')
      .where('status', '=', 'sent')
      .execute()
      .then((rows) => rows.length);
  await eventually(async () => (await sent()) === 3, 'the three accepted mails recorded');

  // A second process on the same database takes over once the dead worker's leases run out.
  smtp.stopHolding();
  const second = await buildApp({ config: t.config, database: t.database, clock: t.clock, logger: false });
  try {
    assert.equal(await second.services.outbox.runDue(), 0, 'claims still leased to the first process');
    t.clock.advance(31_000);
    assert.equal(await second.services.outbox.runDue(), 3);
    // The first process's sessions die without the server accepting their mail; its late records are dropped.
    smtp.dropHeld();
    await lost;

    for (const watcher of watchers) assert.equal(smtp.to(watcher.user.email).length, 1, `${watcher.user.email} got the comment once`);
    const rows = await t.database.db.selectFrom('mail_deliveries').select(['status', 'attempts', 'message_id']).execute();
    assert.equal(rows.length, 6);
    assert.ok(rows.every((row) => row.status === 'sent'));
    assert.deepEqual(rows.map((row) => row.attempts).sort(), [1, 1, 1, 2, 2, 2]);

    // The window left: SMTP accepted a mail but the process died before committing that. The job runs
    // again and the mail goes out twice — with the same Message-ID, so the repeat is recognisable.
    const job = await t.database.db.selectFrom('outbox').selectAll().where('kind', '=', 'mail').orderBy('id').executeTakeFirstOrThrow();
    await t.database.db
      .updateTable('outbox')
      .set({ state: 'pending', finished_at: null, next_attempt_at: t.clock.now() })
      .where('id', '=', job.id)
      .execute();
    assert.equal(await second.services.outbox.runDue(), 1);
    const deliveryId = (job.payload as { deliveryId: string }).deliveryId;
    const delivery = await t.database.db.selectFrom('mail_deliveries').selectAll().where('id', '=', deliveryId).executeTakeFirstOrThrow();
    const copies = smtp.to(delivery.to_address);
    assert.equal(copies.length, 2);
    assert.equal(copies[0].parsed.messageId, copies[1].parsed.messageId);
    assert.equal(copies[0].parsed.messageId, delivery.message_id);
  } finally {
    await second.close();
  }
});
