import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoTime } from '../src/clock.js';

test('isoTime writes what toISOString writes', () => {
  const cases = [
    '1970-01-01T00:00:00.000Z',
    '1969-12-31T23:59:59.999Z',
    '2026-02-28T23:59:59.999Z',
    '2028-02-29T12:34:56.789Z',
    '2026-11-29T00:00:00.001Z',
    '0001-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
  ];
  for (const text of cases) assert.equal(isoTime(new Date(text)), text);
  for (let ms = -5e12; ms < 5e12; ms += 7_919_777_777) assert.equal(isoTime(new Date(ms)), new Date(ms).toISOString());
});
