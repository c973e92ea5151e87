import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { ErrorBodySchema } from '../../../src/http/envelope.js';
import { registerErrorHandler } from '../../../src/http/error-handler.js';
import { dashboardPlugin } from '../../../src/modules/web/plugin.js';
import { testApp, type TestApp } from '../../helpers/app.js';

const indexHtml = '<!doctype html><title>Stageline</title><script type="module" src="/app/assets/index-abc123.js"></script>';
const script = `console.log(${JSON.stringify('x'.repeat(4000))});`;

function builtDashboard(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-web-'));
  fs.mkdirSync(path.join(root, 'assets'));
  fs.writeFileSync(path.join(root, 'index.html'), indexHtml);
  fs.writeFileSync(path.join(root, 'assets/index-abc123.js'), script);
  fs.writeFileSync(path.join(root, 'assets/index-abc123.js.gz'), zlib.gzipSync(script));
  return root;
}

describe('dashboard served from a build', () => {
  let app: FastifyInstance;
  let root: string;
  before(async () => {
    root = builtDashboard();
    app = Fastify({ logger: false });
    registerErrorHandler(app);
    app.addSchema(ErrorBodySchema);
    await app.register(dashboardPlugin, { root });
    await app.ready();
  });
  after(async () => {
    await app.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('/ and /app redirect to /app/', async () => {
    for (const url of ['/', '/app']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 302, url);
      assert.equal(res.headers.location, '/app/');
    }
  });

  test('every dashboard URL answers the app shell, never cached, with security headers', async () => {
    for (const url of ['/app/', '/app/board?project=core', '/app/tickets/T-1.2', '/app/admin/projects']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /text\/html/);
      assert.equal(res.body, indexHtml);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
  });

  test('hashed assets are cached for good and sent compressed when the browser accepts it', async () => {
    const plain = await app.inject({ url: '/app/assets/index-abc123.js' });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.body, script);
    assert.match(String(plain.headers['content-type']), /javascript/);
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');

    const gzipped = await app.inject({ url: '/app/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(gzipped.rawPayload).toString(), script);
  });

  test('a missing asset is a JSON 404, not the app shell', async () => {
    for (const url of ['/app/assets/gone-123.js', '/app/favicon.ico', '/app/assets/']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().error.code, 'NOT_FOUND');
    }
  });

  test('paths cannot climb out of the build directory', async () => {
    for (const url of ['/app/../package.json', '/app/%2e%2e/%2e%2e/etc/passwd', '/app/assets/..%2f..%2fpackage.json']) {
      const res = await app.inject({ url });
      assert.ok(res.statusCode === 404 || (res.statusCode === 200 && res.body === indexHtml), `${url} → ${res.statusCode}`);
      assert.doesNotMatch(res.body, /"name": "stageline"|root:/);
    }
  });
});

test('without a build, dashboard URLs explain how to build it', async () => {
  const app = Fastify({ logger: false });
  app.addSchema(ErrorBodySchema);
  await app.register(dashboardPlugin, { root: path.join(os.tmpdir(), 'stageline-no-such-build') });
  const res = await app.inject({ url: '/app/tickets' });
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /npm run build:web/);
  await app.close();
});

describe('dashboard inside the whole app', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp();
  });
  after(() => t.close());

  test('the API and the older systems keep their routes: /tickets answers JSON, unknown /api routes a JSON 404', async () => {
    const legacy = await t.api.get('/tickets');
    assert.equal(legacy.statusCode, 200);
    assert.match(String(legacy.headers['content-type']), /application\/json/);
    assert.ok(Array.isArray(legacy.json()));

    const unknown = await t.api.get('/api/no-such-route');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().success, false);
  });

  test('the dashboard needs no credentials to load (its API calls do) and stays out of the OpenAPI document', async () => {
    const res = await t.as({}).get('/');
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/app/');
    const page = await t.as({}).get('/app/board');
    assert.ok(page.statusCode === 200 || page.statusCode === 503, `got ${page.statusCode}`);
    const spec = (await t.api.get('/openapi.json')).json() as { paths: Record<string, unknown> };
    assert.ok(!Object.keys(spec.paths).some((route) => route === '/' || route.startsWith('/app')));
  });
});
