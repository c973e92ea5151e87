import type { Registry } from 'prom-client';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';

/** What every service is built from. Its own file, importing no service, so services.ts ↔ services is no cycle. */
export type ServiceContext = {
  config: Config;
  database: Database;
  clock: Clock;
  metrics: Registry;
};
