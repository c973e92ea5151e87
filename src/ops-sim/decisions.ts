import type { OpsStatus } from '../modules/ops/contract.js';
import type { Random } from '../random.js';

export { seededRandom } from '../random.js';

export type SimRates = {
  /** Share of sends that fail like a timeout (the old backend: 0.2). */
  sendFailureRate: number;
  /** Share of status queries answered "OPS system unavailable" (the old backend: 0.1). */
  queryFailureRate: number;
};

export const defaultRates: SimRates = {
  sendFailureRate: 0.2,
  queryFailureRate: 0.1,
};

/**
 * How a ticket's state moves on each status query: the old backend's probabilities.
 * closed and failed are final.
 */
export const transitions: Record<OpsStatus, readonly (readonly [OpsStatus, number])[]> = {
  sent: [
    ['in_progress', 0.7],
    ['delayed', 0.2],
    ['failed', 0.1],
  ],
  in_progress: [
    ['in_progress', 0.6],
    ['closed', 0.4],
  ],
  delayed: [
    ['delayed', 0.5],
    ['in_progress', 0.4],
    ['failed', 0.1],
  ],
  closed: [['closed', 1]],
  failed: [['failed', 1]],
};

export function sendSucceeds(random: Random, rates: SimRates): boolean {
  return random() >= rates.sendFailureRate;
}

export function queryFails(random: Random, rates: SimRates): boolean {
  return random() < rates.queryFailureRate;
}

export function nextStatus(random: Random, current: OpsStatus): OpsStatus {
  const roll = random();
  let cumulative = 0;
  const choices = transitions[current];
  for (const [status, probability] of choices) {
    cumulative += probability;
    if (roll < cumulative) return status;
  }
  return choices[choices.length - 1][0];
}

const idAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** `OPS-` + 8 characters, as the old backend answered. */
export function newOpsId(random: Random): string {
  let id = 'OPS-';
  for (let i = 0; i < 8; i++) id += idAlphabet[Math.floor(random() * idAlphabet.length)];
  return id;
}
