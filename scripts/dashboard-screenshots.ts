/**
 * The README's pictures of the dashboard, from a running server with demo data:
 *   npm run demo   (in another terminal)   then   npx tsx scripts/dashboard-screenshots.ts [http://127.0.0.1:4040]
 * Signs in as the demo admin and writes web/screenshots/{overview,board,ticket}.png.
 */
import path from 'node:path';
import { launchBrowser, screenshot, signIn } from '../test/e2e/harness.js';

const base = process.argv[2] ?? 'http://127.0.0.1:4040';
const out = path.resolve(import.meta.dirname, '../web/screenshots');
const browser = await launchBrowser();
const shoot = async (name: string) => {
  await browser.page.waitForTimeout(1500); // charts animate in
  await browser.page.screenshot({ path: path.join(out, `${name}.png`), fullPage: false });
};
try {
  const page = browser.page;
  await signIn(page, base, 'admin@demo.stageline.local', 'demo-admin-password');
  await page.locator('.chart svg').first().waitFor();
  await page.getByRole('combobox', { name: 'Project' }).selectOption({ index: 1 });
  await page.locator('.chart svg').nth(1).waitFor();
  await shoot('overview');
  await page.goto(`${base}/app/board`);
  await page.locator('.ticket-card').first().waitFor();
  await shoot('board');
  await page.locator('.ticket-card.delay-overdue a').first().click();
  await page.locator('.chart svg').first().waitFor();
  await shoot('ticket');
  await screenshot(page, 'demo-ticket');
} finally {
  await browser.close();
}
