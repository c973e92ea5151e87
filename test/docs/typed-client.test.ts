import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { TEST_ADMIN_TOKEN, testApp, type TestApp } from '../helpers/app.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

let t: TestApp;
let base: string;
let dir: string;
before(async () => {
  t = await testApp();
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  // Inside the repository, so the example's imports resolve from its node_modules as they would in a user's project.
  dir = fs.mkdtempSync(path.join(root, 'test', 'docs', '.example-'));
});
after(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await t.close();
});

test('docs/typed-client.md: the example typechecks against types generated from /openapi.json and runs', async () => {
  const markdown = fs.readFileSync(path.join(root, 'docs/typed-client.md'), 'utf8');
  const example = /```ts example\n([\s\S]*?)```/.exec(markdown)?.[1];
  assert.ok(example, 'the document has a ```ts example block');
  fs.writeFileSync(path.join(dir, 'example.ts'), example);
  // What `npx openapi-typescript <server>/openapi.json -o src/stageline-api.d.ts` does.
  fs.writeFileSync(path.join(dir, 'stageline-api.d.ts'), astToString(await openapiTS(new URL(`${base}/openapi.json`))));

  const tsc = path.join(root, 'node_modules/.bin/tsc');
  const flags = ['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler'];
  await run(tsc, [...flags, '--types', 'node', path.join(dir, 'example.ts')], { cwd: root }).catch((error: { stdout: string }) => {
    assert.fail(`the example does not typecheck:\n${error.stdout}`);
  });

  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(dir, 'example.ts')], {
    cwd: root,
    env: { ...process.env, STAGELINE_URL: base, STAGELINE_TOKEN: TEST_ADMIN_TOKEN },
  });
  assert.match(stdout, /^created #\d+ \S+ \(new\)$/m);
  assert.match(stdout, /^read back: Printer on fire$/m);
  assert.match(stdout, /^high-priority tickets: 1$/m);
  assert.match(stdout, /^as expected: 404 NOT_FOUND: /m);
});
