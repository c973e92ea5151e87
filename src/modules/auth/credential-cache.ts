import type { Clock } from '../../clock.js';

const MAX_ENTRIES = 10_000;

/**
 * API tokens checked recently, so a request does not pay a database round trip for its credentials.
 * Every change to users or tokens made through this process clears it at once; another process (a second
 * server on the same PostgreSQL) notices a revoked token or a disabled user within the time to live.
 * Expiry is still checked on every request against the cached row.
 */
export class CredentialCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
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
    // Oldest first out: a Map iterates in insertion order.
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, until: this.clock.now().getTime() + this.ttlMs });
  }

  clear(): void {
    this.#entries.clear();
  }
}
