import type { Clock } from '../../clock.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * Stops calling OPS while it is down: after `threshold` failures in a row the circuit opens for
 * `cooldownMs`; then one trial call is let through (half open) — success closes it, failure opens it
 * again. The state lives in this process's memory: each server process learns about an outage on
 * its own, which costs at most `threshold` failed calls per process.
 */
export class CircuitBreaker {
  #failures = 0;
  #openedAt: number | null = null;
  #trialInFlight = false;

  constructor(
    private readonly clock: Clock,
    private readonly threshold: number,
    private readonly cooldownMs: number,
  ) {}

  get state(): BreakerState {
    if (this.#openedAt === null) return 'closed';
    return this.clock.now().getTime() >= this.#openedAt + this.cooldownMs ? 'half_open' : 'open';
  }

  /** When calls may be made again; null while they may be made now. */
  heldUntil(): Date | null {
    const state = this.state;
    if (state === 'closed') return null;
    if (state === 'half_open' && !this.#trialInFlight) return null;
    return new Date(Math.max(this.#openedAt! + this.cooldownMs, this.clock.now().getTime() + 1));
  }

  /** Takes permission for one call; false while open (or while the half-open trial is out). */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  success(): void {
    this.#failures = 0;
    this.#openedAt = null;
    this.#trialInFlight = false;
  }

  failure(): void {
    this.#failures++;
    if (this.#trialInFlight || this.#failures >= this.threshold) this.#openedAt = this.clock.now().getTime();
    this.#trialInFlight = false;
  }

  /** The call did not tell us whether OPS is up (e.g. it answered 4xx about our request). */
  neutral(): void {
    if (this.#trialInFlight) this.success();
  }
}
