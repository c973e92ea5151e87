/** Synthetic history with known duration distributions, for the forecast's tests. */
import assert from 'node:assert/strict';
import type { TestApp } from '../../helpers/app.js';

export const MINUTE = 60_000;

export { seededRandom as seeded } from '../../../src/random.js';

/** Standard normal CDF (Abramowitz–Stegun 7.1.26, error < 2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152073) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** A log-normal duration: median `medianMinutes`, log-sd `sigma`. */
export class LogNormal {
  constructor(
    readonly medianMinutes: number,
    readonly sigma: number,
  ) {}

  sample(random: () => number): number {
    const u1 = Math.max(random(), 1e-12);
    const u2 = random();
    const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return this.medianMinutes * MINUTE * Math.exp(this.sigma * normal);
  }

  survival(ms: number): number {
    if (ms <= 0) return 1;
    return 1 - normalCdf(Math.log(ms / (this.medianMinutes * MINUTE)) / this.sigma);
  }

  /** A draw conditional on lasting more than `elapsed` ms (by rejection; fine for the tails the tests use). */
  sampleBeyond(elapsed: number, random: () => number): number {
    for (;;) {
      const value = this.sample(random);
      if (value > elapsed) return value;
    }
  }
}

/** The tests' workflow: intake → triage → (waiting, which pauses the overall clock) → fix → closed; 900 min overall. */
export const syntheticProject = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  name: key,
  ticket_target_minutes: 900,
  stages: [
    { key: 'intake', name: 'Intake', target_minutes: 60 },
    { key: 'triage', name: 'Triage', target_minutes: 240 },
    { key: 'waiting', name: 'Waiting', target_minutes: 2880, pauses: true },
    { key: 'fix', name: 'Fix', target_minutes: 600 },
    { key: 'closed', name: 'Closed', final: true },
  ],
  ...extra,
});

/** Imports rows as NDJSON; every one must be accepted. */
export async function importRows(t: TestApp, rows: unknown[]): Promise<void> {
  const res = await t.api.request({
    method: 'POST',
    url: '/api/import',
    payload: rows.map((row) => JSON.stringify(row)).join('\n'),
    headers: { 'content-type': 'application/x-ndjson' },
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().data.rejected, 0, res.body);
}
