import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import type { App } from '../../src/app.js';
import type { Client } from './app.js';
// Seeded, so a failing case can be replayed.
import { seededRandom } from '../../src/random.js';

const nasty = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '💥',
  '\ud800',
  "'; drop table tickets; --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'x'.repeat(70_000),
  '2026-02-30T25:61:00Z',
  '0001-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  'null',
  '-1',
  '1e400',
  'NaN',
  '%',
  '_',
  'a@b',
  'http://',
  'https://example.com/x',
  'new',
  'closed',
  'major',
  'minor',
  'high',
];

export function randomValue(random: () => number, depth = 0): unknown {
  const pick = random();
  if (pick < 0.25) return nasty[Math.floor(random() * nasty.length)];
  if (pick < 0.35) return Math.floor(random() * 2 ** 40) * (random() < 0.5 ? -1 : 1);
  if (pick < 0.4) return random() * 1e6;
  if (pick < 0.45) return random() < 0.5;
  if (pick < 0.55) return null;
  if (pick < 0.7 && depth < 3) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  if (pick < 0.85 && depth < 3) {
    return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_, i) => [`k${i}`, randomValue(random, depth + 1)]));
  }
  return Math.random().toString(36).slice(2);
}

/** A body built from the route's real field names with random values, plus random junk bodies. */
export function randomBody(random: () => number, fields: readonly string[]): InjectOptions['payload'] {
  const pick = random();
  if (pick < 0.08) return '{"broken": ';
  if (pick < 0.12) return '[]';
  if (pick < 0.15) return '"just a string"';
  if (pick < 0.17) return 'null';
  const body: Record<string, unknown> = {};
  for (const field of fields) if (random() < 0.4) body[field] = randomValue(random);
  if (random() < 0.1) body[`unknown_${Math.floor(random() * 10)}`] = randomValue(random);
  return JSON.stringify(body);
}

const randomIds = ['1', '0', '-1', '999999999999', 'nope', '%00', 'a'.repeat(300), '💥', '..', 'x y', 'TCK-1'];

export function randomId(random: () => number, real: readonly string[]): string {
  return random() < 0.5 && real.length
    ? real[Math.floor(random() * real.length)]
    : encodeURIComponent(randomIds[Math.floor(random() * randomIds.length)]);
}

const headerSets: Record<string, string>[] = [
  { 'content-type': 'application/json' },
  { 'content-type': 'application/json; charset=utf-8' },
  { 'content-type': 'text/plain' },
  { 'content-type': 'application/json', 'if-match': '"abc"' },
  { 'content-type': 'application/json', 'if-match': '"1"' },
  { 'content-type': 'application/json', 'if-match': 'W/"2"' },
];

/** Fires `rounds` random requests at a write route; every answer must be 2xx or a 4xx error envelope. */
export async function fuzzRoute(
  client: Client,
  options: {
    method: InjectOptions['method'];
    path: (random: () => number) => string;
    fields: readonly string[];
    rounds: number;
    seed: number;
  },
): Promise<Record<number, number>> {
  const random = seededRandom(options.seed);
  const statuses: Record<number, number> = {};
  for (let round = 0; round < options.rounds; round++) {
    const url = options.path(random);
    const payload = randomBody(random, options.fields);
    const headers = headerSets[Math.floor(random() * headerSets.length)];
    const res = await client.request({ method: options.method, url, payload, headers });
    statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    const where = `${options.method} ${url} (seed ${options.seed}, round ${round}) body ${String(payload).slice(0, 300)}`;
    assert.ok(res.statusCode < 500, `${where} answered ${res.statusCode}: ${res.body.slice(0, 500)}`);
    if (res.statusCode >= 400) {
      const body = res.json();
      assert.equal(body.success, false, where);
      assert.equal(typeof body.message, 'string', where);
      assert.equal(typeof body.error?.code, 'string', where);
      assert.ok(Array.isArray(body.error?.details), where);
    }
  }
  return statuses;
}

/** What a route takes, read from the app's route table: new routes are fuzzed without being listed anywhere. */
export type RouteInputs = {
  method: string;
  url: string;
  query: string[];
  params: string[];
  /** Body fields: the body schema's, or for an open body (the older systems' routes) the answer's. */
  body: string[];
  /** The media type to send a body as. */
  bodyType: string;
  /** Server-Sent Events: a request that passes validation never ends. */
  streams: boolean;
};

type Schema = { $ref?: string; properties?: Record<string, unknown>; anyOf?: Schema[]; type?: string };

function propertiesOf(schema: Schema | undefined, shared: Record<string, Schema>): string[] {
  if (!schema) return [];
  if (schema.$ref) return propertiesOf(shared[schema.$ref.replace(/#.*$/, '')], shared);
  if (schema.anyOf) return [...new Set(schema.anyOf.flatMap((branch) => propertiesOf(branch, shared)))];
  return Object.keys(schema.properties ?? {});
}

export function routeInputs(app: App): RouteInputs[] {
  const shared = app.getSchemas() as Record<string, Schema>;
  return app.protectedRoutes
    .filter((route) => route.method !== 'HEAD')
    .map((route) => {
      const schema = (route.schema ?? {}) as Record<string, unknown> & { response?: Record<string, Schema> };
      const body = schema.body as Schema | undefined;
      const answer = schema.response?.[201] ?? schema.response?.[200];
      return {
        method: route.method,
        url: route.url,
        query: propertiesOf(schema.querystring as Schema, shared),
        params: propertiesOf(schema.params as Schema, shared),
        body: body === undefined ? [] : propertiesOf(body, shared).length ? propertiesOf(body, shared) : propertiesOf(answer, shared),
        bodyType: (schema.consumes as string[] | undefined)?.[0] ?? 'application/json',
        streams: JSON.stringify(schema.response ?? {}).includes('text/event-stream'),
      };
    });
}

/** A route's URL with its path parameters filled: `name` gets `value`, the others `fallback`. */
export function fillPath(url: string, fallback: string, name?: string, value?: string): string {
  return url.replace(/:(\w+)/g, (_match, param: string) => (param === name ? value! : fallback)).replace('*', 'x');
}

/** Query and path values (as sent, percent-encoded) PostgreSQL cannot store or compare: each must answer 400. */
export const unstorableUrlValues = ['%00', 'a%00b', '%C0%AE', '%ED%A0%80', '%FF', '%E2%82'];
/** Values it can hold but that are out of range somewhere: any answer but a 5xx. */
export const awkwardUrlValues = [
  'x'.repeat(5_000),
  '%F0%9F%92%A5'.repeat(1_000),
  '99999999999999999999',
  '9223372036854775808',
  '2147483648',
  '-2147483649',
  '1e400',
  '-0',
  'NaN',
  '%25',
];
/** JSON body values (as JSON text) the database cannot store: each must answer 400 naming the field. */
export const unstorableJsonValues = [
  '"\\u0000"',
  '"a\\u0000b"',
  '"\\ud800"',
  '"x\\udc00"',
  '["\\u0000"]',
  '{"k":"\\ud800"}',
  '{"k\\u0000":1}',
];
/** JSON values it can hold or that are out of range somewhere: any answer but a 5xx. */
export const awkwardJsonValues = [
  JSON.stringify('x'.repeat(100_000)),
  JSON.stringify('丂'.repeat(3_000)),
  '1e400',
  '-1e400',
  '99999999999999999999',
  '9223372036854775808',
  '2147483648',
  '-0',
  '0.5',
];
