import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isPublicAddress, urlProblem } from '../../../src/modules/webhooks/address.js';
import { WebhookClient } from '../../../src/modules/webhooks/client.js';
import { startReceiver } from './receiver.js';

let receiver: Awaited<ReturnType<typeof startReceiver>>;
const open = new WebhookClient(500, true);
const guarded = new WebhookClient(500, false);

before(async () => {
  receiver = await startReceiver();
});
after(async () => {
  await open.close();
  await guarded.close();
  await receiver.close();
});

test('public and non-public addresses', () => {
  const cases: [string, boolean][] = [
    ['93.184.215.14', true],
    ['2606:2800:21f:cb07:6820:80da:af6b:8b2c', true],
    ['127.0.0.1', false],
    ['10.0.0.1', false],
    ['172.16.5.4', false],
    ['192.168.1.1', false],
    ['100.64.0.1', false],
    ['169.254.169.254', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fc00::1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:8.8.8.8', true],
    ['not an address', false],
  ];
  for (const [address, expected] of cases) assert.equal(isPublicAddress(address), expected, address);
  assert.equal(urlProblem('http://127.0.0.1/x', true), null, 'WEBHOOK_ALLOW_PRIVATE=true allows it');
  assert.match(urlProblem('http://127.0.0.1/x', false) ?? '', /WEBHOOK_ALLOW_PRIVATE/);
  assert.equal(urlProblem('https://example.com/x?a=1', false), null);
  assert.match(urlProblem('https://example.com/x#frag', true) ?? '', /fragment/);
});

test('without WEBHOOK_ALLOW_PRIVATE a name resolving to loopback is refused at connect time (DNS rebinding too)', async () => {
  const port = new URL(receiver.url).port;
  const byName = await guarded.post(`http://localhost:${port}/hook`, '{}', {});
  assert.equal(byName.failure, 'blocked', JSON.stringify(byName));
  assert.match(byName.error ?? '', /not a public address/);
  const literal = await guarded.post(`http://127.0.0.1:${port}/hook`, '{}', {});
  assert.equal(literal.failure, 'blocked');
  assert.equal(receiver.received.length, 0, 'nothing reached the receiver');
});

test('redirects are not followed and only the first 2 KB of the answer is kept', async () => {
  receiver.answer({ status: 302, body: 'moved', headers: { location: `${receiver.url}/elsewhere` } });
  const redirected = await open.post(receiver.url, '{}', {});
  assert.equal(redirected.status, 302);
  assert.equal(receiver.received.length, 1);
  receiver.answer({ status: 200, body: 'x'.repeat(100_000) });
  const big = await open.post(receiver.url, '{}', {});
  assert.equal(big.status, 200);
  assert.equal(big.body?.length, 2048);
});

test('no answer within the timeout is a timeout', async () => {
  receiver.answer({ status: 200, delayMs: 2_000 });
  const slow = await open.post(receiver.url, '{}', {});
  assert.equal(slow.failure, 'timeout');
  assert.ok((slow.latencyMs ?? 0) >= 400);
});
