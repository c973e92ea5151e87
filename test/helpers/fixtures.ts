import assert from 'node:assert/strict';
import type { ProjectCreateInput } from '../../src/modules/projects/schemas.js';

/**
 * The demo's support workflow: Intake → Triage → Diagnosis (Reproduce, Root cause) → Fix → Verification → Waiting → Closed.
 * New tickets wait outside the workflow here: these tests move them into their first stage themselves, at a chosen moment.
 */
export function supportWorkflow(key: string, extra: Partial<ProjectCreateInput> = {}): ProjectCreateInput {
  return {
    key,
    name: `Support ${key}`,
    new_tickets_enter_first_stage: false,
    stages: [
      { key: 'intake', name: 'Intake', target_minutes: 60 },
      { key: 'triage', name: 'Triage', target_minutes: 240 },
      { key: 'diagnosis', name: 'Diagnosis', target_minutes: 960 },
      {
        key: 'reproduce',
        name: 'Reproduce',
        parent: 'diagnosis',
        target_minutes: 480,
      },
      {
        key: 'root-cause',
        name: 'Root cause',
        parent: 'diagnosis',
        target_minutes: 480,
      },
      { key: 'fix', name: 'Fix', target_minutes: 1440 },
      { key: 'verification', name: 'Verification', target_minutes: 480 },
      {
        key: 'waiting',
        name: 'Waiting for customer',
        pauses: true,
        target_minutes: 4320,
      },
      { key: 'closed', name: 'Closed', final: true },
    ],
    ...extra,
  };
}

/** Something random a JSON body could hold. */
export function randomValue(random: () => number, depth = 0): unknown {
  const pick = Math.floor(random() * (depth > 2 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return Math.floor(random() * 2e9) - 1e9;
    case 2:
      return random() < 0.5;
    case 3:
      return 'x'.repeat(Math.floor(random() * 300));
    case 4:
      return ['', '\u0000', '2026-13-45T99:00:00Z', '../..', "' or 1=1 --", '☃'][Math.floor(random() * 6)];
    case 5:
      return random() * 1e12;
    case 6:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 4) }, (_, i) => [
          ['to', 'note', 'at', 'key', 'name', 'stages', 'body', 'visibility', `f${i}`][Math.floor(random() * 9)],
          randomValue(random, depth + 1),
        ]),
      );
  }
}

/** The error envelope: `{ success: false, message, error: { code, details[] } }`. */
export function assertErrorShape(body: unknown): void {
  const envelope = body as { success?: unknown; message?: unknown; error?: { code?: unknown; details?: unknown } };
  assert.equal(envelope.success, false);
  assert.equal(typeof envelope.message, 'string');
  assert.equal(typeof envelope.error?.code, 'string');
  assert.ok(Array.isArray(envelope.error?.details));
}
