import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { adminEmail, adminPassword, createSupportProject, eventually, screenshot, signIn, browserSuite } from './harness.js';

const minute = 60_000;

describe('dashboard in Chromium', () => {
  const e2e = browserSuite();
  const tickets: Record<string, { id: string; number: number }> = {};

  before(async () => {
    e2e.server.clock.set(new Date());
    await createSupportProject(e2e.server.api);
    // Entered Intake (1 minute target) at different moments: on track, at risk (≥ 80 % used), overdue.
    const seeds = [
      ['fresh', 'Printer offline', 'Acme', 'acme@example.com', 'high', 0],
      ['risky', 'VPN drops every hour', 'Globex', 'globex@example.com', 'medium', 55_000],
      ['late', 'Invoice export fails', 'Acme', 'acme@example.com', 'high', 3 * minute],
    ] as const;
    for (const [name, subject, customer, email, priority, enteredAgo] of seeds) {
      const created = await e2e.server.api('POST', '/api/tickets', {
        subject,
        customer_name: customer,
        customer_email: email,
        priority,
        project: 'support',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      tickets[name] = created.body.data;
      const at = new Date(e2e.server.clock.now().getTime() - enteredAgo).toISOString();
      const moved = await e2e.server.api('POST', `/api/tickets/${created.body.data.id}/transitions`, { to: 'intake', at });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
    }
  });

  const stagesVisited = async (id: string): Promise<string[]> =>
    (await e2e.server.api('GET', `/api/tickets/${id}/timeline`)).body.data.visits.map((visit: { key: string }) => visit.key);

  test('admin signs in and sees the overview counters and charts', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/`);
    await e2e.page.waitForURL(/\/app\/login/);
    await screenshot(e2e.page, '01-login');
    await signIn(e2e.page, e2e.server.baseUrl, adminEmail, adminPassword);
    await e2e.page.getByRole('heading', { name: 'Overview' }).waitFor();
    const counters = e2e.page.getByRole('list', { name: 'Counters' });
    await counters.getByText('Overdue').waitFor();
    assert.match((await counters.innerText()).replace(/\s+/g, ' '), /3 Open/);
    await e2e.page.locator('.chart svg').first().waitFor();
    await screenshot(e2e.page, '02-overview');
  });

  test('board: a column per stage, delay shown by colour and words, a card dragged along an allowed transition', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/board?project=support`);
    const intake = e2e.page.locator('.column[data-stage="intake"]');
    await intake.locator(`[data-ticket="${tickets.late.id}"]`).waitFor();
    for (const name of ['Intake', 'Triage', 'Fix', 'Done']) await e2e.page.getByRole('heading', { name, exact: true }).waitFor();
    const late = intake.locator(`[data-ticket="${tickets.late.id}"]`);
    const risky = intake.locator(`[data-ticket="${tickets.risky.id}"]`);
    assert.match(String(await late.getAttribute('class')), /delay-overdue/);
    assert.match(await late.innerText(), /Overdue/);
    assert.match(String(await risky.getAttribute('class')), /delay-at_risk/);
    assert.match(await risky.innerText(), /At risk/);
    await screenshot(e2e.page, '03-board');

    // Intake → Fix is not an allowed transition: the drop is refused and nothing moves.
    await e2e.page.locator(`[data-ticket="${tickets.fresh.id}"]`).dragTo(e2e.page.locator('.column[data-stage="fix"]'));
    // Intake → Triage is allowed.
    await e2e.page.locator(`[data-ticket="${tickets.late.id}"]`).dragTo(e2e.page.locator('.column[data-stage="triage"]'));
    await e2e.page.locator(`.column[data-stage="triage"] [data-ticket="${tickets.late.id}"]`).waitFor();
    // The card moves at once; the server's transition lands a moment later.
    assert.deepEqual(await eventually(() => stagesVisited(tickets.late.id), ['intake', 'triage']), ['intake', 'triage']);
    assert.deepEqual(await stagesVisited(tickets.fresh.id), ['intake']);
    await screenshot(e2e.page, '04-board-after-move');

    // The keyboard moves a card too: Shift+→ takes it to the next stage the workflow allows.
    await e2e.page.locator(`[data-ticket="${tickets.fresh.id}"]`).focus();
    await e2e.page.keyboard.press('Shift+ArrowRight');
    await e2e.page.locator(`.column[data-stage="triage"] [data-ticket="${tickets.fresh.id}"]`).waitFor();
    assert.deepEqual(await eventually(() => stagesVisited(tickets.fresh.id), ['intake', 'triage']), ['intake', 'triage']);
  });

  test('ticket page: inline edit, timeline, comment, send to OPS and see the log', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/${tickets.late.id}`);
    await e2e.page.getByRole('heading', { name: /Invoice export fails/ }).waitFor();
    await e2e.page.getByRole('button', { name: 'Edit Assignee' }).click();
    await e2e.page.locator('#field-assigned_to').fill('Dana');
    await e2e.page.locator('#field-assigned_to').press('Enter');
    await e2e.page.getByRole('button', { name: 'Edit Assignee' }).waitFor();
    const stored = await e2e.server.api('GET', `/api/tickets/${tickets.late.id}`);
    assert.equal(stored.body.data.assigned_to, 'Dana');

    await e2e.page.getByLabel('Add a comment').fill('Customer sent the failing file.');
    await e2e.page.getByRole('button', { name: 'Comment', exact: true }).click();
    await e2e.page.locator('.history').getByText('Customer sent the failing file.').waitFor();
    await e2e.page.locator('.chart svg').first().waitFor();

    await e2e.page.getByRole('button', { name: 'Send to OPS' }).click();
    await e2e.page.getByText(/OPS holds it as|On its way to OPS/).waitFor();
    await e2e.page.locator('.log li').first().waitFor();
    assert.match(await e2e.page.locator('.log').innerText(), /send/);
    await screenshot(e2e.page, '05-ticket');
  });

  test('tickets list, delayed list, and a deep link opened by reload', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets?q=VPN`);
    await e2e.page.getByRole('link', { name: 'VPN drops every hour' }).waitFor();
    assert.equal(await e2e.page.locator('table.tickets tbody tr').count(), 1);
    await screenshot(e2e.page, '06-tickets');
    await e2e.page.goto(`${e2e.server.baseUrl}/app/delayed`);
    await e2e.page.getByRole('link', { name: /VPN drops every hour/ }).waitFor();
    await screenshot(e2e.page, '07-delayed');
    await e2e.page.setViewportSize({ width: 390, height: 844 });
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/${tickets.late.id}`);
    await e2e.page.getByRole('heading', { name: /Invoice export fails/ }).waitFor();
    await screenshot(e2e.page, '07-phone-ticket');
    await e2e.page.setViewportSize({ width: 1400, height: 900 });
    await e2e.page.goto(`${e2e.server.baseUrl}/app/admin/projects`);
    await e2e.page.getByRole('combobox', { name: 'Project' }).selectOption({ label: 'Support' });
    await e2e.page.getByRole('textbox', { name: 'Name' }).first().waitFor();
    await screenshot(e2e.page, '10-admin-workflow');
    await e2e.page.goto(`${e2e.server.baseUrl}/app/admin`);
    await e2e.page.getByRole('cell', { name: adminEmail }).waitFor();
    await screenshot(e2e.page, '11-admin-users');
    // The older systems' clients still get JSON at /tickets.
    const legacy = await fetch(`${e2e.server.baseUrl}/tickets`, { headers: { authorization: 'Bearer e2e-admin-token-0123456789abcdef' } });
    assert.match(String(legacy.headers.get('content-type')), /application\/json/);
  });

  test('a change made through the API arrives live in an open page, without a reload', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/board?project=support`);
    await e2e.page.locator(`.column[data-stage="intake"] [data-ticket="${tickets.risky.id}"]`).waitFor();
    await e2e.page.locator('.live-live').waitFor();
    const moved = await e2e.server.api('POST', `/api/tickets/${tickets.risky.id}/transitions`, { to: 'triage' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const created = await e2e.server.api('POST', '/api/tickets', {
      subject: 'Arrived while watching',
      customer_name: 'Initech',
      project: 'support',
    });
    assert.equal(created.status, 201);
    await e2e.server.api('POST', `/api/tickets/${created.body.data.id}/transitions`, { to: 'intake' });
    await e2e.page.locator(`.column[data-stage="triage"] [data-ticket="${tickets.risky.id}"]`).waitFor();
    await e2e.page.locator(`.column[data-stage="intake"]`).getByText('Arrived while watching').waitFor();
    await screenshot(e2e.page, '09-board-live');
  });

  test('an agent may move cards but not administer; a viewer only looks', async () => {
    for (const [role, mayMove] of [
      ['agent', true],
      ['viewer', false],
    ] as const) {
      const email = `${role}@e2e.example.com`;
      const created = await e2e.server.api('POST', '/api/users', { email, name: `E2E ${role}`, role, password: `${role}-password-1` });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await signIn(e2e.page, e2e.server.baseUrl, email, `${role}-password-1`);
      await e2e.page.getByRole('link', { name: 'Board' }).click();
      await e2e.page.locator('.column[data-stage="intake"]').waitFor();
      assert.equal(await e2e.page.getByRole('link', { name: 'Admin' }).count(), 0, `${role} sees no Admin`);
      assert.equal(await e2e.page.getByText('Drag a card to another column').count(), mayMove ? 1 : 0, `${role} move hint`);
      const card = e2e.page.locator('[draggable]').first();
      assert.equal(await card.getAttribute('draggable'), String(mayMove), `${role} cards draggable`);
      await screenshot(e2e.page, `10-board-${role}`);
    }
  });

  test('a customer sees only their own tickets and cannot open another customer’s', async () => {
    const customer = await e2e.server.api('POST', '/api/users', {
      email: 'buyer@acme.example.com',
      name: 'Acme buyer',
      role: 'customer',
      password: 'customer-password-1',
      customer_emails: ['acme@example.com'],
    });
    assert.equal(customer.status, 201, JSON.stringify(customer.body));
    await signIn(e2e.page, e2e.server.baseUrl, 'buyer@acme.example.com', 'customer-password-1');
    await e2e.page.getByRole('heading', { name: 'My tickets' }).waitFor();
    await e2e.page.getByRole('link', { name: 'Printer offline' }).waitFor();
    assert.equal(await e2e.page.getByRole('link', { name: 'VPN drops every hour' }).count(), 0);
    assert.equal(await e2e.page.getByRole('link', { name: 'Board' }).count(), 0);
    await screenshot(e2e.page, '08-customer');
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/${tickets.risky.id}`);
    await e2e.page.getByRole('heading', { name: 'Ticket not found' }).waitFor();
  });
});
