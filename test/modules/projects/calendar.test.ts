import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addBusinessMs, businessMs, calendarProblems, type Calendar } from '../../../src/modules/projects/calendar.js';
import { advanceSla, slaMoments, stageMoments } from '../../../src/modules/workflow/sla.js';

const HOUR = 3_600_000;
const berlin: Calendar = {
  time_zone: 'Europe/Berlin',
  working_days: [1, 2, 3, 4, 5],
  working_hours: { start: '09:00', end: '17:00' },
  holidays: ['2026-04-03'],
};
const allDay = (timeZone: string): Calendar => ({
  time_zone: timeZone,
  working_days: [1, 2, 3, 4, 5, 6, 7],
  working_hours: { start: '00:00', end: '24:00' },
  holidays: [],
});

// 2026-03-02 is a Monday; Berlin is UTC+1 until 2026-03-29, UTC+2 after.
const spans: [string, Calendar | null, string, string, number][] = [
  ['inside working hours', berlin, '2026-03-02T09:00:00Z', '2026-03-02T11:00:00Z', 2],
  ['before opening to after closing', berlin, '2026-03-02T05:00:00Z', '2026-03-02T20:00:00Z', 8],
  ['over a weekend', berlin, '2026-03-06T15:00:00Z', '2026-03-09T09:00:00Z', 2],
  ['a whole week', berlin, '2026-03-02T00:00:00Z', '2026-03-09T00:00:00Z', 40],
  ['over a holiday and a weekend', berlin, '2026-04-02T14:00:00Z', '2026-04-07T08:00:00Z', 10],
  ['across the spring DST change (local hours kept)', berlin, '2026-03-27T15:00:00Z', '2026-03-30T08:00:00Z', 2],
  ['the spring DST day is 23 hours long', allDay('Europe/Berlin'), '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z', 23],
  ['the autumn DST day is 25 hours long', allDay('America/New_York'), '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z', 25],
  ['end before start', berlin, '2026-03-02T11:00:00Z', '2026-03-02T09:00:00Z', 0],
  ['no calendar counts wall time', null, '2026-03-06T15:00:00Z', '2026-03-09T09:00:00Z', 66],
];

for (const [name, calendar, from, to, hours] of spans) {
  test(`businessMs: ${name}`, () => {
    assert.equal(businessMs(calendar, new Date(from), new Date(to)), hours * HOUR);
  });
}

const additions: [string, Calendar | null, string, number, string][] = [
  ['within the day', berlin, '2026-03-02T09:00:00Z', 2, '2026-03-02T11:00:00Z'],
  ['a full working day rolls to the next', berlin, '2026-03-02T09:00:00Z', 8, '2026-03-03T09:00:00Z'],
  ['over a weekend', berlin, '2026-03-06T15:00:00Z', 2, '2026-03-09T09:00:00Z'],
  ['starting on a Saturday', berlin, '2026-03-07T12:00:00Z', 1, '2026-03-09T09:00:00Z'],
  ['across the DST change', berlin, '2026-03-27T15:00:00Z', 2, '2026-03-30T08:00:00Z'],
  ['over a holiday', berlin, '2026-04-02T14:00:00Z', 2, '2026-04-06T08:00:00Z'],
  ['zero after closing lands on the next opening', berlin, '2026-03-02T17:30:00Z', 0, '2026-03-03T08:00:00Z'],
  ['no calendar', null, '2026-03-06T15:00:00Z', 66, '2026-03-09T09:00:00Z'],
];

for (const [name, calendar, start, hours, expected] of additions) {
  test(`addBusinessMs: ${name}`, () => {
    assert.equal(addBusinessMs(calendar, new Date(start), hours * HOUR).toISOString(), new Date(expected).toISOString());
  });
}

test('addBusinessMs and businessMs agree on random spans', () => {
  let seed = 42;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < 300; i++) {
    const start = new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 300 * 24) * HOUR + Math.floor(random() * 60) * 60_000);
    const ms = Math.floor(random() * 200) * 15 * 60_000;
    const end = addBusinessMs(berlin, start, ms);
    assert.equal(businessMs(berlin, start, end), ms, `from ${start.toISOString()} + ${ms}`);
  }
});

test('calendarProblems names each bad field', () => {
  const problems = calendarProblems({
    time_zone: 'Mars/Olympus',
    working_days: [],
    working_hours: { start: '18:00', end: '09:00' },
    holidays: ['2026-02-30', 'soon'],
  });
  assert.deepEqual(
    problems.map((p) => p.field),
    ['calendar.time_zone', 'calendar.working_days', 'calendar.working_hours', 'calendar.holidays.0', 'calendar.holidays.1'],
  );
  assert.deepEqual(calendarProblems(berlin), []);
});

test('the overall SLA clock stops while paused and resumes after', () => {
  const target = { targetMs: 10 * HOUR, threshold: 0.8 };
  const t0 = new Date('2026-03-02T00:00:00Z');
  const at = (hours: number) => new Date(t0.getTime() + hours * HOUR);
  let clock = advanceSla(null, { usedMs: 0, segmentStart: null }, t0, false);
  let moments = slaMoments(null, target, clock, {
    atRiskAt: null,
    dueAt: null,
  });
  assert.deepEqual(moments, { atRiskAt: at(8), dueAt: at(10) });

  clock = advanceSla(null, clock, at(3), true);
  assert.deepEqual(clock, { usedMs: 3 * HOUR, segmentStart: null });
  moments = slaMoments(null, target, clock, moments);
  assert.deepEqual(moments, { atRiskAt: null, dueAt: null });

  clock = advanceSla(null, clock, at(50), false);
  moments = slaMoments(null, target, clock, moments);
  assert.deepEqual(moments, { atRiskAt: at(55), dueAt: at(57) });

  // Breached, then paused: the breach stays where it happened.
  clock = advanceSla(null, clock, at(60), true);
  moments = slaMoments(null, target, clock, moments);
  assert.deepEqual(clock.usedMs, 13 * HOUR);
  assert.deepEqual(moments, { atRiskAt: at(55), dueAt: at(57) });
});

test('stage moments use the calendar and the threshold', () => {
  const moments = stageMoments(berlin, 10 * 60, 0.8, new Date('2026-03-02T08:00:00Z'));
  assert.equal(moments.atRiskAt?.toISOString(), '2026-03-02T16:00:00.000Z');
  assert.equal(moments.dueAt?.toISOString(), '2026-03-03T10:00:00.000Z');
  assert.deepEqual(stageMoments(berlin, null, 0.8, new Date()), {
    atRiskAt: null,
    dueAt: null,
  });
});
