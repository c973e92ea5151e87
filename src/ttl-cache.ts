import type { Clock } from './clock.js';

/**
 * Values kept for a time to live, by the injected clock (tests move it), at most `maxEntries` of them (oldest out
 * first). A time to live of 0 keeps nothing. Used for API tokens checked recently and for dashboard answers.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly clock: Clock,
    readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.clock.now().getTime()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs === 0) return;
    const now = this.clock.now().getTime();
    // A Map iterates in insertion order and a key set again goes last, so the first keys are the oldest and expire
    // first: those already expired go now, not when the cache is full (expired dashboard answers, up to 500 pages of
    // up to 500 tickets, were kept until then).
    this.#entries.delete(key);
    for (const [oldest, entry] of this.#entries) {
      if (entry.until > now && this.#entries.size < this.maxEntries) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, until: now + this.ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
