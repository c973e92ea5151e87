import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Static } from 'typebox';
import { buildApp, type App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import type { StageOut } from '../../src/modules/stages/schemas.js';
import type { TicketOut } from '../../src/modules/tickets/schemas.js';
import type { User } from '../../src/modules/users/schemas.js';
import { freshDatabase, type FreshDatabaseOptions } from './database.js';

type Body = InjectOptions['payload'];
type Headers = Record<string, string>;

export type Client = {
  get(url: string, headers?: Headers): Promise<LightMyRequestResponse>;
  post(url: string, body?: Body, headers?: Headers): Promise<LightMyRequestResponse>;
  put(url: string, body?: Body, headers?: Headers): Promise<LightMyRequestResponse>;
  patch(url: string, body?: Body, headers?: Headers): Promise<LightMyRequestResponse>;
  delete(url: string, headers?: Headers): Promise<LightMyRequestResponse>;
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
};

export type Role = 'admin' | 'agent' | 'viewer' | 'customer';

/** A client signed in as a fresh user of its own (see `userClient`). */
type UserOut = Static<typeof User>;

export type UserClient = Client & { user: UserOut; token: string; password: string };

export type TestApp = {
  app: App;
  database: Database;
  clock: ManualClock;
  config: Config;
  /** Requests as the bootstrap admin (`Authorization: Bearer <ADMIN_API_TOKEN>`). */
  api: Client;
  /** Requests without any credentials. */
  anonymous: Client;
  /** Requests with the given headers on each (e.g. another token); no admin token. */
  as(headers: Headers): Client;
  /** A fresh user of that role with an API token of its own (customers see `customerEmails`, default their email). */
  userClient(role: Role, options?: { customerEmails?: string[]; scope?: 'read' | 'read-write' }): Promise<UserClient>;
  create: {
    ticket(fields?: Record<string, unknown>): Promise<TicketOut>;
    stage(fields?: Record<string, unknown>): Promise<StageOut>;
  };
  close(): Promise<void>;
};

function client(app: App, defaults: Headers): Client {
  const send = (method: InjectOptions['method'], url: string, body?: Body, headers: Headers = {}) =>
    app.inject({ method, url, ...(body === undefined ? {} : { payload: body }), headers: { ...defaults, ...headers } });
  return {
    get: (url, headers) => send('GET', url, undefined, headers),
    post: (url, body, headers) => send('POST', url, body ?? {}, headers),
    put: (url, body, headers) => send('PUT', url, body ?? {}, headers),
    patch: (url, body, headers) => send('PATCH', url, body ?? {}, headers),
    delete: (url, headers) => send('DELETE', url, undefined, headers),
    request: (options) => app.inject({ ...options, headers: { ...defaults, ...(options.headers as Headers) } }),
  };
}

let counter = 0;

/** The admin token every test app has; tests may send it themselves. */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/**
 * Test settings: a fixed admin token, scrypt at a tiny cost (2^4 instead of 2^15, so a login takes microseconds,
 * not 50 ms) and no general rate limit (fuzz tests send thousands of requests); tests override any of them.
 */
// Monitor answers are computed afresh in tests (their cache has a test of its own): the manual clock never moves on its own.
const testEnv = {
  LOG_LEVEL: 'silent',
  ADMIN_API_TOKEN: TEST_ADMIN_TOKEN,
  PASSWORD_HASH_COST: '4',
  RATE_LIMIT_MAX: '0',
  MONITOR_CACHE_SECONDS: '0',
};

/** An app on a fresh database, a manual clock and an admin client. */
export async function testApp(overrides: Record<string, string> = {}, databaseOptions: FreshDatabaseOptions = {}): Promise<TestApp> {
  const database = await freshDatabase(databaseOptions);
  const config = loadConfig({ ...testEnv, ...overrides });
  const clock = new ManualClock();
  let app: App;
  try {
    app = await buildApp({ config, database, clock, logger: process.env.TEST_LOG_LEVEL ? { level: process.env.TEST_LOG_LEVEL } : false });
    await app.ready();
  } catch (error) {
    // An open database keeps the test process alive: close it, or a failing build hangs the run.
    await database.close();
    throw error;
  }
  const adminHeaders: Headers = { authorization: `Bearer ${config.auth.adminApiToken ?? TEST_ADMIN_TOKEN}` };
  const api = client(app, adminHeaders);
  const created = async <T>(url: string, fields: Record<string, unknown>): Promise<T> => {
    const res = await api.post(url, fields);
    if (res.statusCode !== 201) throw new Error(`creating via ${url} answered ${res.statusCode}: ${res.body}`);
    return (res.json() as { data: T }).data;
  };
  return {
    app,
    database,
    clock,
    config,
    api,
    anonymous: client(app, {}),
    as: (headers) => client(app, headers),
    async userClient(role, options = {}) {
      const n = ++counter;
      const email = `${role}${n}@users.example.com`;
      const password = `password-${n}-${role}`;
      const user = await created<UserOut>('/api/users', {
        email,
        name: `${role} ${n}`,
        role,
        password,
        ...(options.customerEmails ? { customer_emails: options.customerEmails } : {}),
      });
      const { token } = await created<{ token: string }>('/api/tokens', {
        name: 'test',
        user_id: user.id,
        scope: options.scope ?? 'read-write',
      });
      return { ...client(app, { authorization: `Bearer ${token}` }), user, token, password };
    },
    create: {
      ticket: (fields = {}) => created<TicketOut>('/api/tickets', { subject: `Ticket ${++counter}`, ...fields }),
      stage: (fields = {}) => created<StageOut>('/api/stages', { stage_type: 'major', ...fields }),
    },
    async close() {
      await app.close();
      await database.close();
    },
  };
}
