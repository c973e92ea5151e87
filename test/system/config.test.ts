import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig, settingGroups } from '../../src/config.js';

test('defaults: port 4040 on every interface, embedded database in ./data', () => {
  const config = loadConfig({});
  assert.equal(config.port, 4040);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.databaseUrl, null);
  assert.ok(config.dataDir.endsWith('/data'));
  assert.equal(config.legacyListLimit, 1000);
});

test('every bad value is named in one error', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty', LEGACY_LIST_LIMIT: '0', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      for (const name of ['PORT', 'LEGACY_LIST_LIMIT', 'DATABASE_URL', 'LOG_LEVEL']) assert.match(error.message, new RegExp(name));
      return true;
    },
  );
  assert.throws(() => loadConfig({ PORT: '70000' }), /PORT must be a whole number from 0 to 65535/);
});

test('LOG_FORMAT is checked like every other setting; each variable is declared once', () => {
  assert.equal(loadConfig({}).logFormat, 'auto');
  assert.equal(loadConfig({ LOG_FORMAT: 'json' }).logFormat, 'json');
  assert.throws(() => loadConfig({ LOG_FORMAT: 'xml' }), /LOG_FORMAT must be one of auto, pretty, json, got "xml"/);
  const names = settingGroups().flatMap((group) => group.settings.map((setting) => setting.name));
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.length >= 45, `${names.length} settings`);
});
