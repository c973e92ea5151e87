import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { every, Jobs, type Job } from '../../src/jobs/job.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { eventually } from '../helpers/eventually.js';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(() => t.close());

test('one registry holds every background job; a test app starts none of them', () => {
  assert.deepEqual(
    t.app.jobs.all.map((job) => job.name),
    [
      'history.partitions',
      'events.prune',
      'monitor.fold',
      'workflow.sweep',
      'forecast.refresh',
      'forecast.scan',
      'ops.simulator',
      'outbox',
      'dispatch',
      'ops.poll',
    ],
  );
  assert.deepEqual(t.app.jobs.running, []);
});

test('a test starts the jobs it names and stops them; unknown names are refused', async () => {
  await t.app.jobs.start(['monitor.fold', 'dispatch']);
  assert.deepEqual(t.app.jobs.running, ['monitor.fold', 'dispatch']);
  await assert.rejects(t.app.jobs.start(['nope']), /no background job named nope/);
  await t.app.jobs.stop();
  assert.deepEqual(t.app.jobs.running, []);
});

test('jobs start in order and stop in reverse, waiting for a run in progress', async () => {
  const seen: string[] = [];
  const errors: unknown[] = [];
  let release = () => {};
  const slow = every('slow', 10, () => {
    seen.push('run');
    return new Promise<void>((resolve) => (release = resolve));
  });
  const named = (name: string): Job => ({
    name,
    start: () => void seen.push(`start ${name}`),
    stop: async () => void seen.push(`stop ${name}`),
  });
  const jobs = new Jobs([named('a'), slow, named('b')], { error: (object) => errors.push(object) });
  await jobs.start();
  await eventually(() => seen.includes('run'), 'the periodic job runs');
  let stopped = false;
  const stopping = jobs.stop().then(() => (stopped = true));
  await eventually(() => seen.includes('stop b'), 'the last job stops first');
  assert.equal(stopped, false, 'stop waits for the run in progress');
  release();
  await stopping;
  assert.deepEqual(
    seen.filter((entry) => entry !== 'run'),
    ['start a', 'start b', 'stop b', 'stop a'],
  );
  assert.deepEqual(errors, []);
});

test("a failing run is reported with the job's name and the job keeps running", async () => {
  const errors: Array<Record<string, unknown>> = [];
  let runs = 0;
  const jobs = new Jobs(
    [
      every('flaky', 5, async () => {
        runs++;
        throw new Error('boom');
      }),
    ],
    { error: (object) => errors.push(object as Record<string, unknown>) },
  );
  await jobs.start();
  await eventually(() => runs >= 2, 'it runs again after a failure');
  await jobs.stop();
  assert.equal(errors[0].job, 'flaky');
});
