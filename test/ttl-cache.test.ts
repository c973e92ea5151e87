import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { TtlCache } from '../src/ttl-cache.js';

test('a full cache drops the value set longest ago; a value set again counts as new', () => {
  const clock = new ManualClock();
  const cache = new TtlCache<number>(clock, 1000, 3);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('c', 3);
  cache.set('a', 4);
  cache.set('d', 5);
  assert.deepEqual(
    ['a', 'b', 'c', 'd'].map((key) => cache.get(key)),
    [4, undefined, 3, 5],
  );
});

test('values expire by the clock, and expired ones make room before live ones', () => {
  const clock = new ManualClock();
  const cache = new TtlCache<number>(clock, 1000, 3);
  cache.set('a', 1);
  clock.advance(600);
  cache.set('b', 2);
  clock.advance(500); // a expired, b not
  cache.set('c', 3);
  cache.set('d', 4); // a made room: b, c and d are live
  assert.deepEqual(
    ['a', 'b', 'c', 'd'].map((key) => cache.get(key)),
    [undefined, 2, 3, 4],
  );
  clock.advance(1000);
  assert.deepEqual(
    ['b', 'c', 'd'].map((key) => cache.get(key)),
    [undefined, undefined, undefined],
  );
});

test('a time to live of 0 keeps nothing', () => {
  const cache = new TtlCache<number>(new ManualClock(), 0, 3);
  cache.set('a', 1);
  assert.equal(cache.get('a'), undefined);
});
