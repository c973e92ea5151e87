import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { partitionMaintenance } from '../db/partitions.js';
import { REFRESH_INTERVAL_MS, SCAN_INTERVAL_MS } from '../modules/forecast/service.js';
import { SWEEP_INTERVAL_MS } from '../modules/workflow/sweeper.js';
import { startOpsSim } from '../ops-sim/server.js';
import type { Services } from '../services.js';
import { every, type Job } from './job.js';

export { Jobs, type Job } from './job.js';

const HOUR_MS = 3_600_000;
/** How often the tallies' deltas are folded: readers sum what is not folded yet, so this only bounds their rows. */
const FOLD_INTERVAL_MS = 2_000;
/** How often the outbox looks for due work when nothing nudges it. */
const OUTBOX_INTERVAL_MS = 1_000;
/** How often the dispatcher runs when no change-log notification wakes it. */
const DISPATCH_INTERVAL_MS = 5_000;

type Deps = {
  config: Config;
  database: Database;
  clock: Clock;
  services: Services;
  log: { info(object: object, message: string): void };
};

/**
 * Every periodic job and consumer the server runs, in start order (stopped in reverse): add a new one here, nowhere
 * else. Each job's work is a service method that tests call directly (`services.sweeper.sweep()`, `outbox.runDue()`…).
 */
export function backgroundJobs({ config, database, clock, services, log }: Deps): Job[] {
  const { dispatcher, events, forecast, monitor, opsLink, opsStatus, outbox, sweeper } = services;
  const partitions = partitionMaintenance(database, config);
  let simulator: Awaited<ReturnType<typeof startOpsSim>> | null = null;
  const jobs: Job[] = [
    // Before the first write of a new month its partition must exist: once at start, then hourly.
    every('history.partitions', HOUR_MS, () => partitions.maintain(clock.now()), { atStart: 'wait' }),
    every('events.prune', HOUR_MS, () => events.prune(clock.now()), { atStart: 'run' }),
    every('monitor.fold', FOLD_INTERVAL_MS, () => monitor.foldTallies()),
    every('workflow.sweep', SWEEP_INTERVAL_MS, () => sweeper.sweep()),
    every('forecast.refresh', REFRESH_INTERVAL_MS, () => forecast.refresh(), { atStart: 'run' }),
    every('forecast.scan', SCAN_INTERVAL_MS, () => forecast.scan()),
    {
      // Without OPS_URL the server talks to a simulator of its own, started before anything sends to it.
      name: 'ops.simulator',
      async start() {
        if (opsLink.client.baseUrl) return;
        simulator = await startOpsSim({ seed: Date.now() % 2 ** 32 });
        opsLink.client.useBaseUrl(simulator.url);
        log.info({ url: simulator.url }, 'OPS_URL is not set: running the OPS simulator in-process');
      },
      async stop() {
        await simulator?.close();
        simulator = null;
      },
    },
    {
      // Delivers OPS hand-offs, webhook deliveries and mail.
      name: 'outbox',
      start: () => outbox.start(OUTBOX_INTERVAL_MS),
      stop: () => outbox.stop(),
    },
    {
      // Hands ticket history to its consumers (notifications, webhooks) once each.
      name: 'dispatch',
      start: (onError) => dispatcher.start(events.feed, onError, DISPATCH_INTERVAL_MS),
      stop: () => dispatcher.stop(),
    },
  ];
  const pollMs = config.ops.syncIntervalSeconds * 1000;
  if (pollMs > 0) jobs.push(every('ops.poll', pollMs, () => opsStatus.pollOnce()));
  return jobs;
}
