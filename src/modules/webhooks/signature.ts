import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header every call carries: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (Stripe's scheme). */
export const signatureHeader = 'stageline-signature';

export function signPayload(secret: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

/**
 * What a receiver does (and what the tests do): recompute the HMAC over the raw body and compare in constant
 * time; refuse a timestamp further than `toleranceSeconds` from `nowSeconds` (replays).
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = signPayload(secret, timestamp, body).split('v1=')[1];
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
