import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, formatRelative } from '../../../web/src/lib/time.js';

test('durations show their two largest units', () => {
  const cases: [number, string][] = [
    [0, '0 s'],
    [45_000, '45 s'],
    [59_499, '59 s'],
    [60_000, '1 m'],
    [59 * 60_000, '59 m'],
    [3 * 3_600_000, '3 h'],
    [3 * 3_600_000 + 20 * 60_000, '3 h 20 m'],
    [24 * 3_600_000, '1 d'],
    [2 * 86_400_000 + 4 * 3_600_000 + 59 * 60_000, '2 d 4 h'],
    [-90 * 60_000, '1 h 30 m'],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, `${ms} ms`);
});

test('relative times pick the unit by distance from now', () => {
  const now = Date.parse('2026-03-02T12:00:00Z');
  const at = (ms: number) => new Date(now + ms).toISOString();
  assert.match(formatRelative(at(-30_000), now), /30 sec/);
  assert.match(formatRelative(at(-5 * 60_000), now), /5 min/);
  assert.match(formatRelative(at(2 * 3_600_000), now), /in 2 hr/);
  assert.match(formatRelative(at(-3 * 86_400_000), now), /3 days/);
});
