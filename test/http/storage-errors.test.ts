import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { DiskFullError } from '../../src/db/storage.js';
import { registerErrorHandler } from '../../src/http/error-handler.js';

// Out of storage, as the PostgreSQL server (SQLSTATE class 53) or the embedded database's guard says it: 507.
test('disk full and other class-53 errors answer 507 INSUFFICIENT_STORAGE naming the cause', async () => {
  const app = Fastify({ logger: false });
  registerErrorHandler(app);
  const failures: Record<string, Error> = {
    '/disk-full': Object.assign(new Error('could not extend file "base/5/16385": No space left on device'), { code: '53100' }),
    '/resources': Object.assign(new Error('out of shared memory'), { code: '53200' }),
    '/guard': new DiskFullError('the disk of the data directory is full: 3 MiB free'),
  };
  for (const [url, error] of Object.entries(failures)) {
    app.post(url, async () => {
      throw error;
    });
  }
  for (const url of Object.keys(failures)) {
    const res = await app.inject({ method: 'POST', url });
    assert.equal(res.statusCode, 507, url);
    assert.equal(res.json().error.code, 'INSUFFICIENT_STORAGE');
    assert.match(res.json().message, /disk full/);
    assert.doesNotMatch(res.body, /base\/5/, 'no file names of the database leak');
  }
  await app.close();
});
