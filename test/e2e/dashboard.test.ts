import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  adminEmail,
  adminPassword,
  createSupportProject,
  eventually,
  launchBrowser,
  screenshot,
  screenshotOnFailure,
  signIn,
  startStageline,
  type Stageline,
} from './harness.js';

const minute = 60_000;

describe('dashboard in Chromium', () => {
  let server: Stageline;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const tickets: Record<string, { id: string; number: number }> = {};

  before(async () => {
    server = await startStageline();
    server.clock.set(new Date());
    browser = await launchBrowser();
    page = browser.page;
    await createSupportProject(server.api);
    // Entered Intake (1 minute target) at different moments: on track, at risk (≥ 80 % used), overdue.
    const seeds = [
      ['fresh', 'Printer offline', 'Acme', 'acme@example.com', 'high', 0],
      ['risky', 'VPN drops every hour', 'Globex', 'globex@example.com', 'medium', 55_000],
      ['late', 'Invoice export fails', 'Acme', 'acme@example.com', 'high', 3 * minute],
    ] as const;
    for (const [name, subject, customer, email, priority, enteredAgo] of seeds) {
      const created = await server.api('POST', '/api/tickets', {
        subject,
        customer_name: customer,
        customer_email: email,
        priority,
        project: 'support',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      tickets[name] = created.body.data;
      const at = new Date(server.clock.now().getTime() - enteredAgo).toISOString();
      const moved = await server.api('POST', `/api/tickets/${created.body.data.id}/transitions`, { to: 'intake', at });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
    }
  });

  afterEach(screenshotOnFailure(() => page));

  const stagesVisited = async (id: string): Promise<string[]> =>
    (await server.api('GET', `/api/tickets/${id}/timeline`)).body.data.visits.map((visit: { key: string }) => visit.key);

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('admin signs in and sees the overview counters and charts', async () => {
    await page.goto(`${server.baseUrl}/app/`);
    await page.waitForURL(/\/app\/login/);
    await screenshot(page, '01-login');
    await signIn(page, server.baseUrl, adminEmail, adminPassword);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const counters = page.getByRole('list', { name: 'Counters' });
    await counters.getByText('Overdue').waitFor();
    assert.match((await counters.innerText()).replace(/\s+/g, ' '), /3 Open/);
    await page.locator('.chart svg').first().waitFor();
    await screenshot(page, '02-overview');
  });

  test('board: a column per stage, delay shown by colour and words, a card dragged along an allowed transition', async () => {
    await page.goto(`${server.baseUrl}/app/board?project=support`);
    const intake = page.locator('.column[data-stage="intake"]');
    await intake.locator(`[data-ticket="${tickets.late.id}"]`).waitFor();
    for (const name of ['Intake', 'Triage', 'Fix', 'Done']) await page.getByRole('heading', { name, exact: true }).waitFor();
    const late = intake.locator(`[data-ticket="${tickets.late.id}"]`);
    const risky = intake.locator(`[data-ticket="${tickets.risky.id}"]`);
    assert.match(String(await late.getAttribute('class')), /delay-overdue/);
    assert.match(await late.innerText(), /Overdue/);
    assert.match(String(await risky.getAttribute('class')), /delay-at_risk/);
    assert.match(await risky.innerText(), /At risk/);
    await screenshot(page, '03-board');

    // Intake → Fix is not an allowed transition: the drop is refused and nothing moves.
    await page.locator(`[data-ticket="${tickets.fresh.id}"]`).dragTo(page.locator('.column[data-stage="fix"]'));
    // Intake → Triage is allowed.
    await page.locator(`[data-ticket="${tickets.late.id}"]`).dragTo(page.locator('.column[data-stage="triage"]'));
    await page.locator(`.column[data-stage="triage"] [data-ticket="${tickets.late.id}"]`).waitFor();
    // The card moves at once; the server's transition lands a moment later.
    assert.deepEqual(await eventually(() => stagesVisited(tickets.late.id), ['intake', 'triage']), ['intake', 'triage']);
    assert.deepEqual(await stagesVisited(tickets.fresh.id), ['intake']);
    await screenshot(page, '04-board-after-move');

    // The keyboard moves a card too: Shift+→ takes it to the next stage the workflow allows.
    await page.locator(`[data-ticket="${tickets.fresh.id}"]`).focus();
    await page.keyboard.press('Shift+ArrowRight');
    await page.locator(`.column[data-stage="triage"] [data-ticket="${tickets.fresh.id}"]`).waitFor();
    assert.deepEqual(await eventually(() => stagesVisited(tickets.fresh.id), ['intake', 'triage']), ['intake', 'triage']);
  });

  test('ticket page: inline edit, timeline, comment, send to OPS and see the log', async () => {
    await page.goto(`${server.baseUrl}/app/tickets/${tickets.late.id}`);
    await page.getByRole('heading', { name: /Invoice export fails/ }).waitFor();
    await page.getByRole('button', { name: 'Edit Assignee' }).click();
    await page.locator('#field-assigned_to').fill('Dana');
    await page.locator('#field-assigned_to').press('Enter');
    await page.getByRole('button', { name: 'Edit Assignee' }).waitFor();
    const stored = await server.api('GET', `/api/tickets/${tickets.late.id}`);
    assert.equal(stored.body.data.assigned_to, 'Dana');

    await page.getByLabel('Add a comment').fill('Customer sent the failing file.');
    await page.getByRole('button', { name: 'Comment', exact: true }).click();
    await page.locator('.history').getByText('Customer sent the failing file.').waitFor();
    await page.locator('.chart svg').first().waitFor();

    await page.getByRole('button', { name: 'Send to OPS' }).click();
    await page.getByText(/OPS holds it as|On its way to OPS/).waitFor();
    await page.locator('.log li').first().waitFor();
    assert.match(await page.locator('.log').innerText(), /send/);
    await screenshot(page, '05-ticket');
  });

  test('tickets list, delayed list, and a deep link opened by reload', async () => {
    await page.goto(`${server.baseUrl}/app/tickets?q=VPN`);
    await page.getByRole('link', { name: 'VPN drops every hour' }).waitFor();
    assert.equal(await page.locator('table.tickets tbody tr').count(), 1);
    await screenshot(page, '06-tickets');
    await page.goto(`${server.baseUrl}/app/delayed`);
    await page.getByRole('link', { name: /VPN drops every hour/ }).waitFor();
    await screenshot(page, '07-delayed');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.baseUrl}/app/tickets/${tickets.late.id}`);
    await page.getByRole('heading', { name: /Invoice export fails/ }).waitFor();
    await screenshot(page, '07-phone-ticket');
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(`${server.baseUrl}/app/admin/projects`);
    await page.getByRole('combobox', { name: 'Project' }).selectOption({ label: 'Support' });
    await page.getByRole('textbox', { name: 'Name' }).first().waitFor();
    await screenshot(page, '10-admin-workflow');
    await page.goto(`${server.baseUrl}/app/admin`);
    await page.getByRole('cell', { name: adminEmail }).waitFor();
    await screenshot(page, '11-admin-users');
    // The older systems' clients still get JSON at /tickets.
    const legacy = await fetch(`${server.baseUrl}/tickets`, { headers: { authorization: 'Bearer e2e-admin-token-0123456789abcdef' } });
    assert.match(String(legacy.headers.get('content-type')), /application\/json/);
  });

  test('a change made through the API arrives live in an open page, without a reload', async () => {
    await page.goto(`${server.baseUrl}/app/board?project=support`);
    await page.locator(`.column[data-stage="intake"] [data-ticket="${tickets.risky.id}"]`).waitFor();
    await page.locator('.live-live').waitFor();
    const moved = await server.api('POST', `/api/tickets/${tickets.risky.id}/transitions`, { to: 'triage' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const created = await server.api('POST', '/api/tickets', {
      subject: 'Arrived while watching',
      customer_name: 'Initech',
      project: 'support',
    });
    assert.equal(created.status, 201);
    await server.api('POST', `/api/tickets/${created.body.data.id}/transitions`, { to: 'intake' });
    await page.locator(`.column[data-stage="triage"] [data-ticket="${tickets.risky.id}"]`).waitFor();
    await page.locator(`.column[data-stage="intake"]`).getByText('Arrived while watching').waitFor();
    await screenshot(page, '09-board-live');
  });

  test('an agent may move cards but not administer; a viewer only looks', async () => {
    for (const [role, mayMove] of [
      ['agent', true],
      ['viewer', false],
    ] as const) {
      const email = `${role}@e2e.example.com`;
      const created = await server.api('POST', '/api/users', { email, name: `E2E ${role}`, role, password: `${role}-password-1` });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await signIn(page, server.baseUrl, email, `${role}-password-1`);
      await page.getByRole('link', { name: 'Board' }).click();
      await page.locator('.column[data-stage="intake"]').waitFor();
      assert.equal(await page.getByRole('link', { name: 'Admin' }).count(), 0, `${role} sees no Admin`);
      assert.equal(await page.getByText('Drag a card to another column').count(), mayMove ? 1 : 0, `${role} move hint`);
      const card = page.locator('[draggable]').first();
      assert.equal(await card.getAttribute('draggable'), String(mayMove), `${role} cards draggable`);
      await screenshot(page, `10-board-${role}`);
    }
  });

  test('a customer sees only their own tickets and cannot open another customer’s', async () => {
    const customer = await server.api('POST', '/api/users', {
      email: 'buyer@acme.example.com',
      name: 'Acme buyer',
      role: 'customer',
      password: 'customer-password-1',
      customer_emails: ['acme@example.com'],
    });
    assert.equal(customer.status, 201, JSON.stringify(customer.body));
    await signIn(page, server.baseUrl, 'buyer@acme.example.com', 'customer-password-1');
    await page.getByRole('heading', { name: 'My tickets' }).waitFor();
    await page.getByRole('link', { name: 'Printer offline' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'VPN drops every hour' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Board' }).count(), 0);
    await screenshot(page, '08-customer');
    await page.goto(`${server.baseUrl}/app/tickets/${tickets.risky.id}`);
    await page.getByRole('heading', { name: 'Ticket not found' }).waitFor();
  });
});
