export type BackoffPolicy = {
  /** The delay before the second attempt, before jitter. */
  baseMs: number;
  /** No delay grows beyond this. */
  maxMs: number;
};

/**
 * The wait after failed attempt `attempt` (1 = the first): exponential (base · 2^(attempt-1), capped),
 * with "equal jitter" — a random point in the upper half — so a crowd of failed jobs does not
 * come back in lockstep, yet no retry comes sooner than half the nominal delay.
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(nominal / 2 + random() * (nominal / 2));
}
