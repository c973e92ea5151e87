import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config.js';

test('OPS settings: defaults, and one clear message for each bad value', () => {
  const defaults = loadConfig({}).ops;
  assert.deepEqual(
    [defaults.url, defaults.timeoutMs, defaults.maxAttempts, defaults.syncIntervalSeconds, defaults.waitMs, defaults.callbackSecret],
    [null, 5000, 8, 60, 2000, null],
  );
  assert.equal(loadConfig({ OPS_URL: 'https://ops.example.com/api/' }).ops.url, 'https://ops.example.com/api', 'trailing slash dropped');

  const bad: Record<string, RegExp> = {
    OPS_URL: /OPS_URL must be an http:\/\/ or https:\/\/ URL/,
    OPS_TIMEOUT_MS: /OPS_TIMEOUT_MS must be a whole number/,
    OPS_MAX_ATTEMPTS: /OPS_MAX_ATTEMPTS must be a whole number from 1/,
    OPS_SYNC_INTERVAL: /OPS_SYNC_INTERVAL must be a whole number/,
    OPS_WAIT_MS: /OPS_WAIT_MS must be a whole number/,
    OPS_CALLBACK_SECRET: /OPS_CALLBACK_SECRET must be at least 16 characters/,
  };
  const values: Record<string, string> = {
    OPS_URL: 'ftp://ops',
    OPS_TIMEOUT_MS: 'soon',
    OPS_MAX_ATTEMPTS: '0',
    OPS_SYNC_INTERVAL: '-5',
    OPS_WAIT_MS: '99999999',
    OPS_CALLBACK_SECRET: 'short',
  };
  for (const [name, message] of Object.entries(bad)) {
    assert.throws(
      () => loadConfig({ [name]: values[name] }),
      (error: Error) => error instanceof ConfigError && message.test(error.message),
      name,
    );
  }
  assert.throws(
    () => loadConfig({ OPS_TOKEN: 'never-shown-0123', OPS_URL: 'nope' }),
    (error: Error) => !error.message.includes('never-shown-0123'),
  );
});
