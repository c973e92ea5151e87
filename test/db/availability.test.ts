import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Availability, isDatabaseUnavailable } from '../../src/db/availability.js';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

test('connection losses are told apart from errors of the statement', () => {
  const cases: [Error, boolean][] = [
    [withCode('terminating connection due to administrator command', '57P01'), true],
    [withCode('terminating connection because of crash of another server process', '57P02'), true],
    [withCode('the database system is starting up', '57P03'), true],
    [withCode('sorry, too many clients already', '53300'), true],
    [withCode('connection failure', '08006'), true],
    [withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), true],
    [withCode('read ECONNRESET', 'ECONNRESET'), true],
    [new Error('Connection terminated unexpectedly'), true],
    [new Error('Connection terminated due to connection timeout'), true],
    [new Error('timeout exceeded when trying to connect'), true],
    [new Error('Query read timeout'), true],
    [new Error('Client has encountered a connection error and is not queryable'), true],
    [new Error('wrapped', { cause: withCode('x', '57P01') }), true],
    [new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''), true],
    [withCode('duplicate key value violates unique constraint', '23505'), false],
    [withCode('canceling statement due to statement timeout', '57014'), false],
    [withCode('could not extend file: No space left on device', '53100'), false],
    [new Error('something else'), false],
  ];
  for (const [error, expected] of cases) assert.equal(isDatabaseUnavailable(error), expected, error.message);
  assert.equal(isDatabaseUnavailable('Connection terminated'), false, 'not an Error');
});

test('an outage is reported once when it begins and once when it ends', () => {
  const availability = new Availability();
  const changes: string[] = [];
  availability.onChange((change) => changes.push(change.state));
  availability.reached();
  availability.lost(new Error('a bad statement'));
  assert.equal(availability.available, true, 'a statement error is no outage');
  availability.lost(withCode('terminating connection', '57P01'));
  availability.lost(new Error('Connection terminated unexpectedly'));
  assert.equal(availability.available, false);
  availability.reached();
  availability.reached();
  assert.deepEqual(changes, ['lost', 'back']);
});
