/**
 * The settings a benchmarked server runs with, for `bench/run.ts` and `bench/write-cost.ts`: a known admin token,
 * quiet logs, no rate limit, no wait on OPS, and monitor answers computed afresh unless the caller's
 * `MONITOR_CACHE_SECONDS` says otherwise.
 */
export function benchServerEnv(port: number, token: string): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_API_TOKEN: token,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '0',
    OPS_WAIT_MS: '0',
    MONITOR_CACHE_SECONDS: process.env.MONITOR_CACHE_SECONDS ?? '0',
  };
}
