import { createHmac, timingSafeEqual } from 'node:crypto';

/** What an unsubscribe link turns off: one event type for one address, or ('*') all mail to it. */
export type UnsubscribeScope = { address: string; event: string };

const purpose = 'stageline-unsubscribe-v1';

function mac(secret: string, body: string): Buffer {
  return createHmac('sha256', secret).update(`${purpose}.${body}`).digest();
}

/** `<base64url JSON>.<base64url HMAC-SHA256>`: readable without a login, unforgeable without the key. */
export function signUnsubscribe(secret: string, scope: UnsubscribeScope): string {
  const body = Buffer.from(JSON.stringify({ a: scope.address, e: scope.event })).toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

/** 'malformed' is not a token we could have made; 'forged' has the shape but not our signature. */
export function verifyUnsubscribe(secret: string, token: string): UnsubscribeScope | 'malformed' | 'forged' {
  const match = /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return 'malformed';
  const [, body, signature] = match;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(secret, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forged';
  const decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { a: string; e: string };
  return { address: decoded.a, event: decoded.e };
}
