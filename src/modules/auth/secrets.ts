import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** A random secret (session cookie, API token, CSRF token, generated password): 256 bits, URL-safe. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Tokens and session ids are stored only as this; they are random, so a fast hash is enough. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function scryptAsync(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))));
}

const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;

/**
 * scrypt (memory-hard, in Node itself), stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`: the parameters travel
 * with each hash, so raising the cost later leaves old hashes valid.
 */
export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEY_LENGTH, scryptOptions(cost, BLOCK_SIZE, 1));
  return ['scrypt', cost, BLOCK_SIZE, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, cost, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(
    password,
    Buffer.from(salt, 'base64url'),
    expected.length,
    scryptOptions(Number(cost), Number(r), Number(p)),
  );
  return timingSafeEqual(key, expected);
}

function scryptOptions(cost: number, r: number, p: number): ScryptOptions {
  const N = 2 ** cost;
  // Node refuses more than 32 MiB by default; N=2^15, r=8 needs exactly that, so leave headroom.
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}
