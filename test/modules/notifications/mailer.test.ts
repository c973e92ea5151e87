import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { header, smtpServer } from './smtp.js';

let smtp: Awaited<ReturnType<typeof smtpServer>>;
let t: TestApp;

before(async () => {
  smtp = await smtpServer();
  t = await testApp({ SMTP_URL: smtp.url, MAIL_FROM: 'Stageline <noreply@stageline.test>', PUBLIC_URL: 'https://stageline.test' });
});
after(async () => {
  await t.close();
  await smtp.close();
});

const queue = (to: string, dedupeKey: string) =>
  t.database.db.transaction().execute((tx) =>
    t.app.services.mailer.queue(tx, {
      to,
      subject: 'Hello <there>',
      text: 'Body text',
      html: '<p>Body &amp; html</p>',
      reason: 'you asked for it',
      dedupeKey,
    }),
  );

test('a queued mail reaches the SMTP server once, with text and html, reason, unsubscribe headers and a stable Message-ID', async () => {
  const first = await queue('Someone@Example.com', 'test:1');
  const again = await queue('someone@example.com', 'test:1');
  assert.equal(first?.created, true);
  assert.equal(again?.created, false, 'one key never mails one address twice');
  assert.equal(again?.delivery.id, first?.delivery.id);
  assert.equal(await t.app.services.outbox.runDue(), 1);
  const [mail] = smtp.to('someone@example.com');
  assert.equal(smtp.to('someone@example.com').length, 1);
  assert.equal(mail.parsed.subject, 'Hello <there>');
  assert.match(mail.parsed.text ?? '', /Body text/);
  assert.match(mail.parsed.text ?? '', /You got this mail because you asked for it\./);
  assert.match(String(mail.parsed.html), /<p>Body &amp; html<\/p>/);
  assert.equal(mail.parsed.messageId, first?.delivery.message_id);
  assert.equal(header(mail, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
  assert.match(
    header(mail, 'List-Unsubscribe') ?? '',
    /^<https:\/\/stageline\.test\/api\/notifications\/unsubscribe\?token=[\w-]+\.[\w-]+>$/,
  );
  const log = (await t.api.get(`/api/notifications/deliveries/${first!.delivery.id}`)).json().data;
  assert.equal(log.status, 'sent');
  assert.equal(log.attempts, 1);
  assert.match(log.smtpResponse, /^250/);
});

test('a refused attempt is retried with backoff; a 5xx answer gives up at once', async () => {
  smtp.refuseNext(451, 'try later');
  const soft = await queue('soft@example.com', 'test:soft');
  await t.app.services.outbox.runDue();
  let log = (await t.api.get(`/api/notifications/deliveries/${soft!.delivery.id}`)).json().data;
  assert.equal(log.status, 'retrying');
  assert.match(log.error, /try later/);
  assert.equal(await t.app.services.outbox.runDue(), 0, 'not before its backoff');
  t.clock.advance(60_000);
  await t.app.services.outbox.runDue();
  log = (await t.api.get(`/api/notifications/deliveries/${soft!.delivery.id}`)).json().data;
  assert.equal(log.status, 'sent');
  assert.equal(log.attempts, 2);
  assert.equal(smtp.to('soft@example.com').length, 1);

  smtp.refuseNext(550, 'no such mailbox');
  const hard = await queue('nobody@example.com', 'test:hard');
  await t.app.services.outbox.runDue();
  log = (await t.api.get(`/api/notifications/deliveries/${hard!.delivery.id}`)).json().data;
  assert.equal(log.status, 'failed');
  assert.match(log.error, /no such mailbox/);
  const metrics = (await t.api.get('/metrics')).body;
  assert.match(metrics, /stageline_mail_total\{status="sent"\} 2/);
  assert.match(metrics, /stageline_mail_total\{status="failed"\} 1/);
  assert.match(metrics, /stageline_mail_total\{status="retrying"\} 1/);
});

test('without SMTP_URL mail is kept, readable by admins only', async () => {
  const quiet = await testApp();
  try {
    const kept = await quiet.database.db
      .transaction()
      .execute((tx) =>
        quiet.app.services.mailer.queue(tx, { to: 'a@example.com', subject: 'Kept', text: 't', html: 'h', reason: 'r', dedupeKey: 'k' }),
      );
    assert.equal(kept?.delivery.status, 'stored');
    assert.equal(await quiet.app.services.outbox.runDue(), 0, 'nothing to send');
    const list = (await quiet.api.get('/api/notifications/deliveries?status=stored')).json();
    assert.deepEqual(
      list.data.map((item: { subject: string }) => item.subject),
      ['Kept'],
    );
    const detail = (await quiet.api.get(`/api/notifications/deliveries/${kept!.delivery.id}`)).json().data;
    assert.match(detail.text, /You got this mail because r\./);
    assert.equal(detail.headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
    assert.match(detail.headers['Message-ID'], /^<.+@localhost>$/);
    const agent = await quiet.userClient('agent');
    assert.equal((await agent.get('/api/notifications/deliveries')).statusCode, 403);
  } finally {
    await quiet.close();
  }
});
