import { unlessUnavailable } from './db/availability.js';

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

  start(intervalMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.job()
        .catch(this.#onError)
        .finally(() => (this.#running = null));
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
