import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clockOffset, noteServerDate, resetClock, serverNow } from '../../web/src/lib/clock.js';
import {
  delayLabel,
  fieldLabel,
  fieldValue,
  formatAgo,
  formatDate,
  formatDuration,
  formatExact,
  formatPercent,
  formatRelative,
  formatTarget,
  judgementLine,
  judgementText,
  statusLabel,
} from '../../web/src/lib/format.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;
const now = Date.parse('2026-11-29T12:00:00Z');
const at = (offset: number) => new Date(now + offset).toISOString();

describe('the dashboard writes time one way', () => {
  test('durations: the two largest units, rounded down', () => {
    for (const [ms, text] of [
      [0, '0 s'],
      [13 * s, '13 s'],
      [59_999, '59 s'],
      [m, '1 m'],
      [52 * m + 59 * s, '52 m'],
      [h, '1 h'],
      [21 * h + 52 * m, '21 h 52 m'],
      [d, '1 d'],
      [5 * d + 2 * h + 59 * m, '5 d 2 h'],
      [-(3 * h), '3 h'],
    ] as const)
      assert.equal(formatDuration(ms), text, String(ms));
  });

  test('targets in minutes read as hours and days', () => {
    for (const [minutes, text] of [
      [30, '30 m'],
      [240, '4 h'],
      [1440, '1 d'],
      [2160, '1 d 12 h'],
      [null, 'no target'],
    ] as const)
      assert.equal(formatTarget(minutes), text);
  });

  test('relative times: ahead, behind, and "just now" within a minute', () => {
    for (const [offset, text] of [
      [22 * h, 'in 22 h'],
      [2 * d + 3 * h, 'in 2 d 3 h'],
      [30 * s, 'just now'],
      [-30 * s, 'just now'],
      [-13 * m, '13 m ago'],
      [-(5 * d + 2 * h), '5 d 2 h ago'],
    ] as const)
      assert.equal(formatRelative(at(offset), now), text, String(offset));
  });

  test('a moment that happened is never written as in the future', () => {
    for (const [offset, text] of [
      [4 * s, 'just now'],
      [10 * m, 'just now'],
      [-4 * s, 'just now'],
      [-2 * h, '2 h ago'],
    ] as const)
      assert.equal(formatAgo(at(offset), now), text, String(offset));
  });

  test('exact moments and days, in the zone asked for', () => {
    assert.equal(formatExact('2026-11-29T13:39:30Z', 'Europe/Berlin'), '29 Nov 2026, 14:39 CET');
    assert.equal(formatExact('2026-07-01T00:05:00Z', 'UTC'), '1 Jul 2026, 00:05 UTC');
    assert.equal(formatDate('2026-11-04'), '4 Nov 2026');
    assert.equal(formatDate('2026-11-04T23:30:00Z', 'Europe/Berlin'), '5 Nov 2026');
  });

  test('statuses, delay states and field names in words', () => {
    for (const [status, text] of [
      ['in_progress', 'In progress'],
      ['new', 'New'],
      ['sent', 'Sent to OPS'],
      ['failed', 'OPS failed'],
      ['closed', 'Closed'],
      ['something_else', 'Something else'],
    ] as const)
      assert.equal(statusLabel(status), text);
    assert.equal(delayLabel('at_risk'), 'At risk');
    assert.equal(delayLabel(null), 'No target');
    assert.equal(fieldLabel('assigned_to'), 'Assignee');
    assert.equal(fieldLabel('customer_email'), 'Customer email');
    assert.equal(fieldLabel('some_new_field'), 'Some new field');
    assert.equal(fieldValue('status', 'in_progress'), 'In progress');
    assert.equal(fieldValue('assigned_to', null), '—');
    assert.equal(formatPercent(0.8), '80 %');
  });

  test('the two judgements, labelled', () => {
    const rows = [
      [{ state: 'on_track', due_at: at(2 * d), overdue_by: null }, 'stage', 'Fix', 'Stage Fix: due in 2 d'],
      [
        { state: 'overdue', due_at: at(-(5 * d + 2 * h)), overdue_by: 5 * 86_400 + 2 * 3600 },
        'ticket',
        null,
        'Ticket target: passed 5 d 2 h ago',
      ],
      [{ state: 'at_risk', due_at: at(20 * m), overdue_by: null }, 'stage', 'Verify', 'Stage Verify: due in 20 m'],
      [{ state: null, due_at: null, overdue_by: null }, 'ticket', null, 'Ticket target: none set'],
      [{ state: 'overdue', due_at: at(-10 * s), overdue_by: 10 }, 'stage', 'Intake', 'Stage Intake: passed just now'],
    ] as const;
    for (const [judgement, kind, stage, text] of rows) assert.equal(judgementLine(kind, judgement, now, stage), text);
    // The server's measure of lateness (business hours) wins over the wall-clock distance to the due date.
    assert.equal(judgementLine('stage', { state: null, due_at: null, overdue_by: null }, now, 'Done'), 'Stage Done: no target');
    assert.equal(judgementText({ state: 'overdue', due_at: at(-3 * d), overdue_by: 8 * 3600 }, now), 'passed 8 h ago');
  });

  test('the server clock: the Date header moves "now" when the browser is off by more than a second', () => {
    resetClock();
    const browser = Date.parse('2026-11-29T12:00:00.200Z');
    noteServerDate('Sun, 29 Nov 2026 12:00:00 GMT', browser);
    assert.equal(clockOffset(), 0);
    resetClock();
    noteServerDate('Sun, 29 Nov 2026 12:05:00 GMT', browser);
    assert.ok(Math.abs(clockOffset() - (5 * m + 300)) < 1, String(clockOffset()));
    assert.ok(Math.abs(serverNow() - (Date.now() + 5 * m + 300)) < 50);
    noteServerDate('not a date');
    assert.ok(clockOffset() > 4 * m);
    resetClock();
  });
});
