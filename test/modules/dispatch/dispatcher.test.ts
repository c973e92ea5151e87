import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Tx } from '../../../src/db/database.js';
import type { DomainEvent, EventConsumer } from '../../../src/modules/dispatch/dispatcher.js';
import { testApp, type TestApp } from '../../helpers/app.js';
import { dispatchAll } from '../../helpers/dispatch.js';

let t: TestApp;
const seen: string[] = [];
let failNext = false;

const recorder: EventConsumer = {
  name: 'test-recorder',
  async handle(_tx: Tx, events: readonly DomainEvent[]) {
    if (failNext) {
      failNext = false;
      throw new Error('consumer failed');
    }
    for (const event of events)
      seen.push(event.kind === 'history' ? `${event.ticket.number}:${event.event.type}` : `deleted:${event.ticketId}`);
  },
};

before(async () => {
  t = await testApp();
  t.app.services.dispatcher.register(recorder);
});
after(() => t.close());

test('a new consumer starts from now, then receives each history event once, in order', async () => {
  await t.create.ticket({ subject: 'before the consumer existed' });
  assert.equal(await dispatchAll(t), 0);
  const ticket = await t.create.ticket({ subject: 'watched' });
  await t.api.post(`/api/tickets/${ticket.id}/comments`, { body: 'hello' });
  // Two dispatchers at once (as two processes would): the cursor lock hands each event over once.
  await Promise.all([dispatchAll(t), t.app.services.dispatcher.dispatch()]);
  assert.deepEqual(seen, [`${ticket.number}:created`, `${ticket.number}:comment`]);
});

test('a failing consumer keeps its cursor: the batch is handed over again', async () => {
  seen.length = 0;
  const ticket = await t.create.ticket({ subject: 'retry' });
  failNext = true;
  await assert.rejects(dispatchAll(t), /consumer failed/);
  assert.deepEqual(seen, []);
  await dispatchAll(t);
  assert.deepEqual(seen, [`${ticket.number}:created`]);
});

test('ticket deletions are handed over too', async () => {
  seen.length = 0;
  const ticket = await t.create.ticket({ subject: 'doomed' });
  await dispatchAll(t);
  seen.length = 0;
  assert.equal((await t.api.delete(`/api/tickets/${ticket.id}`)).statusCode, 200);
  await dispatchAll(t);
  assert.deepEqual(seen, [`deleted:${ticket.id}`]);
});
