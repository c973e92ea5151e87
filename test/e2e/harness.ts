import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensureWebBuilt } from '../../scripts/build-web.js';
import { buildApp, type App } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { startOpsSim, type OpsSimState } from '../../src/ops-sim/server.js';
import { freshDatabase } from '../helpers/database.js';
import { eventually as poll } from '../helpers/eventually.js';

/** Debian's Chromium; the tests never download a browser of their own. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const screenshotDir = path.resolve(import.meta.dirname, '../../test-results');
export const adminEmail = 'admin@e2e.example.com';
export const adminPassword = 'admin-password-e2e';
const adminToken = 'e2e-admin-token-0123456789abcdef';

export type Api = {
  <T = any>(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
};

export type Stageline = {
  app: App;
  baseUrl: string;
  clock: ManualClock;
  /** Calls the API as the bootstrap admin (or with another token). */
  api: Api;
  /** The OPS simulator's state: a test may change what OPS says about a ticket. */
  ops: OpsSimState;
  close(): Promise<void>;
};

/**
 * A real Stageline server on an ephemeral loopback port: fresh database, a manual clock, the built dashboard, and
 * an OPS simulator that always accepts (so a send is deterministic). `env` adds to (or overrides) its settings.
 */
export async function startStageline(env: Record<string, string> = {}): Promise<Stageline> {
  await ensureWebBuilt();
  const ops = await startOpsSim({ seed: 7, sendFailureRate: 0, queryFailureRate: 0 });
  const database = await freshDatabase();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    ADMIN_EMAIL: adminEmail,
    ADMIN_PASSWORD: adminPassword,
    ADMIN_API_TOKEN: adminToken,
    PASSWORD_HASH_COST: '4',
    RATE_LIMIT_MAX: '0',
    OPS_URL: ops.url,
    OPS_SYNC_INTERVAL: '0',
    OPS_WAIT_MS: '5000',
    ...env,
  });
  const clock = new ManualClock(new Date());
  let app: App;
  try {
    app = await buildApp({ config, database, clock, logger: false, backgroundJobs: true });
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (error) {
    await database.close();
    await ops.close();
    throw error;
  }
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const api: Api = async (method, url, body, token = adminToken) => {
    const response = await fetch(baseUrl + url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  return {
    app,
    baseUrl,
    clock,
    api,
    ops: ops.state,
    async close() {
      await app.close();
      await database.close();
      await ops.close();
    },
  };
}

export type BrowserSuite = { server: Stageline; browser: Awaited<ReturnType<typeof launchBrowser>>; page: Page };

/**
 * The setup every browser test file shares, registered as hooks of the enclosing `describe`: a server (with `env`)
 * and a Chromium page before the tests, a screenshot of each failing test, both closed after. The fields are set in
 * `before`: read them inside hooks and tests (a file's own `before`, registered after this call, runs after it).
 */
export function browserSuite(env: Record<string, string> = {}): BrowserSuite {
  const suite = {} as BrowserSuite;
  before(async () => {
    suite.server = await startStageline(env);
    suite.browser = await launchBrowser();
    suite.page = suite.browser.page;
  });
  afterEach(screenshotOnFailure(() => suite.page));
  after(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });
  return suite;
}

/** One headless Chromium per test file, with a profile of its own that is removed afterwards. */
export async function launchBrowser(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`Chromium is not installed at ${chromiumPath}: run "apt-get install -y chromium" (the e2e tests use Debian's browser)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'stageline-chromium-'));
  // The profile directory is Playwright's to pass (as --user-data-dir): a fresh one per run.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1400, height: 900 },
    timezoneId: 'Europe/Berlin',
    locale: 'en-GB',
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  // The page's own errors go to the test output: a failing step then says why.
  page.on('pageerror', (error) => console.error(`[browser] ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') console.error(`[browser console] ${message.text()}`);
  });
  return {
    context,
    page,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** An afterEach hook: a failing test leaves a picture of what the browser showed. */
export function screenshotOnFailure(page: () => Page | undefined) {
  return async (context: { name: string }) => {
    const shown = page();
    if ((context as { passed?: boolean }).passed === false && shown) await screenshot(shown, `failed-${context.name.slice(0, 40)}`);
  };
}

/** Saves a full-page screenshot under test-results/ for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

export async function signIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${baseUrl}/app/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** The "support" project both e2e files use: Intake (1 minute target) → Triage → Fix → Done. */
export async function createSupportProject(api: Api): Promise<void> {
  const project = await api('POST', '/api/projects', {
    key: 'support',
    name: 'Support',
    // The tests enter tickets into Intake themselves, at back-dated moments.
    new_tickets_enter_first_stage: false,
    stages: [
      { key: 'intake', name: 'Intake', target_minutes: 1 },
      { key: 'triage', name: 'Triage', target_minutes: 60 },
      { key: 'fix', name: 'Fix', target_minutes: 240 },
      { key: 'done', name: 'Done', final: true },
    ],
    transitions: [
      { from: null, to: 'intake' },
      { from: 'intake', to: 'triage' },
      { from: 'triage', to: 'fix' },
      { from: 'fix', to: 'done' },
    ],
  });
  if (project.status !== 201) throw new Error(`creating the project failed: ${JSON.stringify(project.body)}`);
}

/** A ticket in the support project, entered into Intake; returns its id and number. */
export async function createTicket(api: Api, fields: Record<string, unknown>): Promise<{ id: string; number: number }> {
  const created = await api('POST', '/api/tickets', { project: 'support', ...fields });
  if (created.status !== 201) throw new Error(`creating a ticket failed: ${JSON.stringify(created.body)}`);
  const moved = await api('POST', `/api/tickets/${created.body.data.id}/transitions`, { to: 'intake' });
  if (moved.status !== 200) throw new Error(`moving a ticket failed: ${JSON.stringify(moved.body)}`);
  return created.body.data;
}

/**
 * Every API request the page made that was refused (4xx), as "STATUS METHOD path": a page must not ask for what
 * its role may not have. Call `take()` to read and reset.
 */
export function refusedRequests(page: Page): { take(): string[] } {
  let refused: string[] = [];
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (url.pathname.startsWith('/api/') && response.status() >= 400 && response.status() < 500) {
      refused.push(`${response.status()} ${response.request().method()} ${url.pathname}${url.search}`);
    }
  });
  return {
    take() {
      const all = refused;
      refused = [];
      return all;
    },
  };
}

/** Asks again (for up to 5 s) until the answer is the expected one; returns the last answer, for the caller to assert. */
export async function eventually<T>(ask: () => Promise<T>, expected: T, timeoutMs = 5_000): Promise<T> {
  let answer = await ask();
  const same = () => JSON.stringify(answer) === JSON.stringify(expected);
  await poll(async () => same() || ((answer = await ask()), same()), 'the expected answer', timeoutMs).catch(() => undefined);
  return answer;
}
