import type { Clock } from '../../clock.js';

const MAX_ENTRIES = 500;

/**
 * Answers kept for a short time by question. Requests asking the same question while it is being computed share
 * that one computation; a failed computation is not kept. A time to live of 0 turns it off.
 */
export class ResultCache {
  readonly #entries = new Map<string, { until: number; value: Promise<unknown> }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    if (this.ttlMs === 0) return compute();
    const now = this.clock.now().getTime();
    const kept = this.#entries.get(key);
    if (kept && kept.until > now) return kept.value as Promise<T>;
    const value = compute();
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { until: now + this.ttlMs, value });
    value.catch(() => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
    return value;
  }

  clear(): void {
    this.#entries.clear();
  }
}
