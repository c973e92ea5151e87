import { unlessUnavailable } from '../db/availability.js';

/** Runs a background job every `intervalMs`, never two runs at once, until `stop()` (which waits for a running one). */
export class Periodic {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;

  readonly #onError: (error: unknown) => void;

  constructor(
    private readonly job: () => Promise<unknown>,
    onError: (error: unknown) => void,
  ) {
    this.#onError = unlessUnavailable(onError);
  }

  /** `now`: one run at once as well (the job's first result should not wait a whole interval). */
  start(intervalMs: number, now = false): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#run(), intervalMs);
    this.#timer.unref();
    if (now) this.#run();
  }

  #run(): void {
    if (this.#running) return;
    this.#running = this.job()
      .catch(this.#onError)
      .finally(() => (this.#running = null));
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
