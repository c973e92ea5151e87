import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { Registry } from 'prom-client';
import { StagesService } from './modules/stages/service.js';
import { TicketsService } from './modules/tickets/service.js';

export type ServiceContext = {
  config: Config;
  database: Database;
  clock: Clock;
  metrics: Registry;
};

/** Every service, built once per app and shared by both faces. */
export function createServices(context: ServiceContext) {
  const tickets = new TicketsService(context);
  const stages = new StagesService(context);
  return { tickets, stages };
}

export type Services = ReturnType<typeof createServices>;
