/**
 * The docs' pictures of the dashboard, from a running server with demo data:
 *   npm run demo   (in another terminal)   then   npx tsx scripts/dashboard-screenshots.ts [http://127.0.0.1:4040]
 * Signs in as the demo admin and writes web/screenshots/{overview,board,tickets,delayed,ticket}.png at 1400×900 and
 * the same pages as phone-*.png at 390×844 (what the screen shows, not the whole page, so the files stay small).
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, signIn } from '../test/e2e/harness.js';

const base = process.argv[2] ?? 'http://127.0.0.1:4040';
const out = path.resolve(import.meta.dirname, '../web/screenshots');
const browser = await launchBrowser();

const settle = async (page: Page) => {
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(1200); // charts animate in
};

async function shootAll(page: Page, prefix: string) {
  const shoot = async (name: string) => {
    await settle(page);
    await page.screenshot({ path: path.join(out, `${prefix}${name}.png`), fullPage: false });
  };
  await page.goto(`${base}/app/`);
  await page.locator('.chart svg').first().waitFor();
  await page.getByRole('combobox', { name: 'Project' }).first().selectOption({ index: 1 });
  await page.locator('.chart svg').nth(1).waitFor();
  await shoot('overview');
  await page.goto(`${base}/app/board`);
  await page.locator('.ticket-card').first().waitFor();
  await shoot('board');
  await page.goto(`${base}/app/tickets`);
  await page.locator('table.tickets tbody tr').first().waitFor();
  await shoot('tickets');
  await page.goto(`${base}/app/delayed`);
  await page.locator('table tbody tr').first().waitFor();
  await shoot('delayed');
  // The most late ticket of the list.
  await page.locator('table tbody tr a').first().click();
  await page.locator('.chart svg').first().waitFor();
  await shoot('ticket');
}

try {
  const page = browser.page;
  await signIn(page, base, 'admin@demo.stageline.local', 'demo-admin-password');
  await page.setViewportSize({ width: 1400, height: 900 });
  await shootAll(page, '');
  await page.setViewportSize({ width: 390, height: 844 });
  await shootAll(page, 'phone-');
} finally {
  await browser.close();
}
