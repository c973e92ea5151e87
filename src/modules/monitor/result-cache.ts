import type { Clock } from '../../clock.js';
import { TtlCache } from '../../ttl-cache.js';

/**
 * Answers kept for a short time by question. Requests asking the same question while it is being computed share
 * that one computation; a failed computation is not kept. A time to live of 0 turns it off.
 */
export class ResultCache {
  readonly #answers: TtlCache<Promise<unknown>>;

  constructor(clock: Clock, ttlMs: number) {
    this.#answers = new TtlCache(clock, ttlMs, 500);
  }

  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const kept = this.#answers.get(key);
    if (kept) return kept as Promise<T>;
    const value = compute();
    this.#answers.set(key, value);
    value.catch(() => {
      if (this.#answers.get(key) === value) this.#answers.delete(key);
    });
    return value;
  }

  clear(): void {
    this.#answers.clear();
  }
}
