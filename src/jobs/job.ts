import { unlessUnavailable } from '../db/availability.js';
import { Periodic } from './periodic.js';

/**
 * One piece of background work: a periodic job or a consumer. `start` begins it (its failures go to `onError`, it
 * never throws for a failed run); `stop` ends it and waits for a run in progress.
 */
export type Job = {
  name: string;
  start(onError: (error: unknown) => void): void | Promise<void>;
  stop(): Promise<void>;
};

/**
 * A job that runs `run` every `intervalMs`, never two runs at once. `atStart`: also once at start, in the background
 * (`'run'`) or before the server starts answering (`'wait'`).
 */
export function every(name: string, intervalMs: number, run: () => Promise<unknown>, options: { atStart?: 'run' | 'wait' } = {}): Job {
  let periodic: Periodic | null = null;
  return {
    name,
    async start(onError) {
      periodic ??= new Periodic(run, onError);
      if (options.atStart === 'wait') await run().catch(unlessUnavailable(onError));
      periodic.start(intervalMs, options.atStart === 'run');
    },
    async stop() {
      await periodic?.stop();
    },
  };
}

/**
 * Every background job of one app, with one lifecycle: started in order once the server is ready, stopped in
 * reverse order when it closes. Tests build apps without starting it and run a job's work by hand, or start the jobs
 * they name.
 */
export class Jobs {
  #started: Job[] = [];

  constructor(
    readonly all: readonly Job[],
    private readonly log: { error(object: object, message: string): void },
  ) {}

  /** Starts every job, or those named; a job already running is left as it is. */
  async start(names?: readonly string[]): Promise<void> {
    const unknown = names?.filter((name) => !this.all.some((job) => job.name === name)) ?? [];
    if (unknown.length) throw new Error(`no background job named ${unknown.join(', ')}`);
    for (const job of this.all) {
      if (this.#started.includes(job) || (names && !names.includes(job.name))) continue;
      await job.start((error) => this.log.error({ err: error, job: job.name }, `background job ${job.name} failed`));
      this.#started.push(job);
    }
  }

  /** Stops what was started, last first, and waits for runs in progress. */
  async stop(): Promise<void> {
    const started = this.#started.reverse();
    this.#started = [];
    for (const job of started) await job.stop();
  }

  get running(): string[] {
    return this.#started.map((job) => job.name);
  }
}
