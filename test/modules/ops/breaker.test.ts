import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import { CircuitBreaker } from '../../../src/modules/ops/breaker.js';

test('the breaker opens after the threshold, lets one trial through after the cooldown, closes on success', () => {
  const clock = new ManualClock();
  const breaker = new CircuitBreaker(clock, 3, 10_000);
  assert.equal(breaker.state, 'closed');
  for (let i = 0; i < 2; i++) {
    assert.equal(breaker.tryAcquire(), true);
    breaker.failure();
  }
  assert.equal(breaker.state, 'closed', 'two failures are not an outage yet');
  breaker.tryAcquire();
  breaker.failure();
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.tryAcquire(), false);
  assert.equal(breaker.heldUntil()?.getTime(), clock.now().getTime() + 10_000);

  clock.advance(10_000);
  assert.equal(breaker.state, 'half_open');
  assert.equal(breaker.heldUntil(), null);
  assert.equal(breaker.tryAcquire(), true, 'one trial');
  assert.equal(breaker.tryAcquire(), false, 'only one');
  breaker.failure();
  assert.equal(breaker.state, 'open', 'a failed trial opens it again');

  clock.advance(10_000);
  assert.equal(breaker.tryAcquire(), true);
  breaker.success();
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.tryAcquire(), true);
});

test('a success resets the count; a refusal of our request says nothing about OPS being up', () => {
  const clock = new ManualClock();
  const breaker = new CircuitBreaker(clock, 2, 1000);
  breaker.failure();
  breaker.success();
  breaker.failure();
  assert.equal(breaker.state, 'closed');
  breaker.neutral();
  breaker.failure();
  assert.equal(breaker.state, 'open');
});
