import assert from 'node:assert/strict';
import { test } from 'node:test';
import { standing } from '../../../src/modules/notifications/compose.js';

const now = new Date('2026-11-29T12:00:00.000Z');
const at = (iso: string) => new Date(iso);
const none = { stage_at_risk_at: null, stage_due_at: null, sla_at_risk_at: null, sla_due_at: null };

test('a mail names both judgements: the stage overdue, the ticket target still ahead (issue 20)', () => {
  const lines = standing(
    {
      status: 'in_progress',
      stage_at_risk_at: at('2026-11-29T08:00:00.000Z'),
      stage_due_at: at('2026-11-29T09:30:00.000Z'),
      sla_at_risk_at: at('2026-12-01T00:00:00.000Z'),
      sla_due_at: at('2026-12-01T14:00:00.000Z'),
    },
    now,
  );
  assert.deepEqual(lines, [
    'Stage target: overdue by 2 h 30 m (was due 2026-11-29T09:30:00.000Z)',
    'Ticket target: on track, due in 2 d 2 h (2026-12-01T14:00:00.000Z)',
  ]);
});

test('and the reverse: the ticket target passed while its stage is on track', () => {
  const lines = standing(
    { ...none, status: 'open', stage_due_at: at('2026-11-30T12:00:00.000Z'), sla_due_at: at('2026-11-24T10:00:00.000Z') },
    now,
  );
  assert.deepEqual(lines, [
    'Stage target: on track, due in 1 d (2026-11-30T12:00:00.000Z)',
    'Ticket target: overdue by 5 d 2 h (was due 2026-11-24T10:00:00.000Z)',
  ]);
});

test('no lines for a ticket without targets, or a closed one', () => {
  assert.deepEqual(standing({ ...none, status: 'open' }, now), []);
  assert.deepEqual(standing({ ...none, status: 'closed', stage_due_at: at('2026-11-20T00:00:00.000Z') }, now), []);
});
