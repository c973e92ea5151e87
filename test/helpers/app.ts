import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { freshDatabase } from './database.js';

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

export type TestApp = {
  app: App;
  database: Database;
  clock: ManualClock;
  config: Config;
  /** Requests as the bootstrap admin. */
  api: Client;
  /** Requests with the given extra headers on each (e.g. another token). */
  as(headers: Headers): Client;
  create: {
    ticket(fields?: Record<string, unknown>): Promise<Record<string, any>>;
    stage(fields?: Record<string, unknown>): Promise<Record<string, any>>;
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

/** An app on a fresh database, a manual clock and an admin client. */
export async function testApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const database = await freshDatabase();
  const config = loadConfig({ LOG_LEVEL: 'silent', ...overrides });
  const clock = new ManualClock();
  const app = await buildApp({ config, database, clock, logger: false });
  await app.ready();
  const adminHeaders: Headers = {};
  const api = client(app, adminHeaders);
  const created = async (url: string, fields: Record<string, unknown>) => {
    const res = await api.post(url, fields);
    if (res.statusCode !== 201) throw new Error(`creating via ${url} answered ${res.statusCode}: ${res.body}`);
    return res.json().data as Record<string, any>;
  };
  return {
    app,
    database,
    clock,
    config,
    api,
    as: (headers) => client(app, headers),
    create: {
      ticket: (fields = {}) => created('/api/tickets', { subject: `Ticket ${++counter}`, ...fields }),
      stage: (fields = {}) => created('/api/stages', { stage_type: 'major', ...fields }),
    },
    async close() {
      await app.close();
      await database.close();
    },
  };
}
