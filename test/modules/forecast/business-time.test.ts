import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BusinessTimeline } from '../../../src/modules/forecast/business-time.js';
import { addBusinessMs, businessMs, workingSpans, type Calendar } from '../../../src/modules/projects/calendar.js';
import { seeded } from './synthetic.js';

const DAY = 86_400_000;
const calendars: Calendar[] = [
  { time_zone: 'Europe/Berlin', working_days: [1, 2, 3, 4, 5], working_hours: { start: '09:00', end: '17:00' }, holidays: ['2026-12-25'] },
  { time_zone: 'America/New_York', working_days: [1, 2, 3, 4, 5, 6], working_hours: { start: '00:00', end: '24:00' }, holidays: [] },
  { time_zone: 'Asia/Kolkata', working_days: [2, 4], working_hours: { start: '08:30', end: '12:15' }, holidays: ['2026-11-03'] },
];

test('the timeline answers as the calendar walk does, far from where it was first asked (DST, holidays, gaps)', () => {
  const random = seeded(5);
  const base = Date.parse('2026-11-29T12:00:00Z');
  for (const calendar of calendars) {
    const timeline = new BusinessTimeline(calendar);
    for (let i = 0; i < 400; i += 1) {
      const from = new Date(base + (random() - 0.5) * 400 * DAY);
      const to = new Date(from.getTime() + random() * 60 * DAY);
      const ms = random() < 0.1 ? 0 : random() * 20 * DAY;
      assert.equal(timeline.between(from, to), businessMs(calendar, from, to), `${calendar.time_zone} ${from.toISOString()}`);
      assert.equal(timeline.add(from, ms).getTime(), addBusinessMs(calendar, from, ms).getTime(), `${calendar.time_zone} +${ms}`);
    }
  }
});

test('at the edges of working spans: a zero duration lands on the next working moment', () => {
  const calendar = calendars[0]!;
  const timeline = new BusinessTimeline(calendar);
  let days = 0;
  for (const [start, end] of workingSpans(calendar, Date.parse('2026-10-20T00:00:00Z'))) {
    for (const at of [start - 1, start, end - 1, end, end + 1])
      for (const ms of [0, 1, end - start, 3 * 3_600_000]) {
        assert.equal(timeline.add(new Date(at), ms).getTime(), addBusinessMs(calendar, new Date(at), ms).getTime());
        assert.equal(timeline.between(new Date(at), new Date(at + ms)), businessMs(calendar, new Date(at), new Date(at + ms)));
      }
    if (++days > 20) break;
  }
});
