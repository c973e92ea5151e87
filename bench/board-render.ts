/**
 * Benchmark: the board with 2,000 open cards in Debian's Chromium. Seeds a project (4 stages) with CARDS tickets
 * spread over the stages, signs in, opens the board and reports the time from navigation start until the cards are
 * on screen, and how many card elements the virtualised columns actually keep in the page.
 *   npx tsx bench/board-render.ts          (CARDS=2000 RUNS=5 by default)
 */
import fs from 'node:fs';
import path from 'node:path';
import { adminEmail, adminPassword, launchBrowser, signIn, startStageline } from '../test/e2e/harness.js';

const cards = Number(process.env.CARDS ?? 2000);
const runs = Number(process.env.RUNS ?? 5);
const stages = ['intake', 'triage', 'fix', 'verify'];

const server = await startStageline();
const browser = await launchBrowser();
try {
  const inject = async (method: 'POST', url: string, payload: unknown) => {
    const res = await server.app.inject({
      method,
      url,
      payload: payload as object,
      headers: { authorization: 'Bearer e2e-admin-token-0123456789abcdef' },
    });
    if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`);
    return res.json().data;
  };
  await inject('POST', '/api/projects', {
    key: 'bench',
    name: 'Bench',
    stages: stages.map((key) => ({ key, name: key[0].toUpperCase() + key.slice(1), target_minutes: 60 })),
  });
  const seeding = Date.now();
  for (let i = 0; i < cards; i++) {
    const ticket = await inject('POST', '/api/tickets', {
      subject: `Ticket ${i + 1}: printer in room ${i % 97} is out of toner again`,
      customer_name: `Customer ${i % 50}`,
      priority: ['low', 'medium', 'high'][i % 3],
      project: 'bench',
    });
    await inject('POST', `/api/tickets/${ticket.id}/transitions`, { to: stages[i % stages.length] });
  }
  console.log(`seeded ${cards} tickets in ${Math.round((Date.now() - seeding) / 1000)} s`);

  await signIn(browser.page, server.baseUrl, adminEmail, adminPassword);
  const samples: number[] = [];
  let inDom = 0;
  for (let run = 0; run < runs; run++) {
    await browser.page.goto(`${server.baseUrl}/app/board?project=bench`);
    await browser.page.locator('.ticket-card').first().waitFor();
    await browser.page.getByText(`${cards} open tickets`).waitFor();
    samples.push(await browser.page.evaluate(() => performance.now()));
    inDom = await browser.page.locator('.ticket-card').count();
  }
  samples.sort((a, b) => a - b);
  const result = {
    cards,
    runs,
    median_ms: Math.round(samples[Math.floor(samples.length / 2)]),
    max_ms: Math.round(samples.at(-1)!),
    card_elements_in_page: inDom,
    measured: 'navigation start → all cards loaded and the first ones painted, warm cache, headless Chromium',
    at: new Date().toISOString(),
  };
  console.log(JSON.stringify(result, null, 2));
  const out = path.resolve(import.meta.dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'board-render.json'), JSON.stringify(result, null, 2) + '\n');
} finally {
  await browser.close();
  await server.close();
}
