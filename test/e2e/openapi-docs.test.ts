import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, screenshotOnFailure, startStageline, type Stageline } from './harness.js';

let server: Stageline;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
before(async () => {
  server = await startStageline();
  browser = await launchBrowser();
  page = browser.page;
  // A loaded machine (the whole suite, other work) can take long to load Swagger UI's bundle and the document.
  page.setDefaultTimeout(90_000);
});
afterEach(screenshotOnFailure(() => page));
after(async () => {
  await browser?.close();
  await server?.close();
});

test('/docs: Authorize with an API token, then "Try it out" on a GET answers 200', async () => {
  const created = await server.api('POST', '/api/tokens', { name: 'docs e2e', scope: 'read' });
  assert.equal(created.status, 201);
  const token: string = created.body.data.token;

  await page.goto(`${server.baseUrl}/docs`);
  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.modal-ux');
  const bearer = dialog.locator('.auth-container').filter({ hasText: 'apiToken' });
  await bearer.locator('input').fill(token);
  // Swagger UI labels these buttons for screen readers ("Apply credentials", …): find them by what they show.
  await bearer.locator('button', { hasText: 'Authorize' }).click();
  await bearer.locator('button', { hasText: 'Logout' }).waitFor();
  await dialog.locator('button.btn-done').first().click();

  const operation = page.locator('#operations-accounts-getMe');
  await operation.locator('.opblock-summary').click();
  await operation.locator('button', { hasText: 'Try it out' }).click();
  await operation.locator('button', { hasText: 'Execute' }).click();
  const status = operation.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor();
  assert.equal((await status.innerText()).trim(), '200');
  assert.match(await operation.locator('.live-responses-table tbody').first().innerText(), /"success": true/);
  assert.match(await operation.locator('.curl-command').innerText(), new RegExp(`Bearer ${token}`));
});
