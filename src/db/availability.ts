/**
 * Whether the database can be reached: which driver errors mean "it went away, try again later" (as
 * opposed to "this statement is wrong"), and one place that notices an outage begin and end.
 */

// SQLSTATE classes and codes of a connection the server closed or cannot give: 08 connection exception,
// 57P01 admin shutdown (pg_terminate_backend), 57P02 crash shutdown, 57P03 cannot connect now (starting up),
// 53300 too many connections.
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300']);
const unavailableErrnos = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// What node-postgres and pg-pool say when the socket closes or a connection or query times out.
const unavailableMessages = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Query read timeout/,
  /^Client has encountered a connection error and is not queryable/,
];

/** Thrown by Stageline itself when the database cannot be used right now (unreachable, reopening, closed). */
export class DatabaseUnavailableError extends Error {}

/** True when the error says the database is unreachable right now (a retry later may succeed). */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof DatabaseUnavailableError) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (unavailableStates.has(code) || code.startsWith('08') || unavailableErrnos.has(code))) return true;
    if (unavailableMessages.some((pattern) => pattern.test(current.message))) return true;
    if (current instanceof AggregateError && current.errors.some(isDatabaseUnavailable)) return true;
  }
  return false;
}

export type AvailabilityChange = { state: 'lost'; error: Error } | { state: 'back'; downMs: number };

/**
 * Turns a stream of connection failures and successes into two events per outage: `lost` at the first
 * failure and `back` at the first success after it, so an outage is logged once, not per request.
 */
export class Availability {
  readonly #listeners = new Set<(change: AvailabilityChange) => void>();
  #downSince: number | null = null;

  get available(): boolean {
    return this.#downSince === null;
  }

  onChange(listener: (change: AvailabilityChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  lost(error: unknown): void {
    if (this.#downSince !== null || !isDatabaseUnavailable(error)) return;
    this.#downSince = Date.now();
    this.#emit({ state: 'lost', error: error as Error });
  }

  reached(): void {
    if (this.#downSince === null) return;
    const downMs = Date.now() - this.#downSince;
    this.#downSince = null;
    this.#emit({ state: 'back', downMs });
  }

  #emit(change: AvailabilityChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}

/**
 * Wraps a background job's error callback so an unreachable database is not reported once per run: the
 * database reports the outage once (see `Availability`), and the job simply tries again on its next run.
 */
export function unlessUnavailable<A extends unknown[]>(
  onError: (error: unknown, ...rest: A) => void,
): (error: unknown, ...rest: A) => void {
  return (error, ...rest) => {
    if (!isDatabaseUnavailable(error)) onError(error, ...rest);
  };
}
