import assert from 'node:assert/strict';
import fs from 'node:fs';
import { before, describe, test } from 'node:test';
import { adminEmail, adminPassword, createSupportProject, createTicket, screenshot, signIn, browserSuite } from './harness.js';

/**
 * Text that means something else as HTML: entities and angle brackets must show as typed. (Tags themselves never
 * reach a snippet: PostgreSQL's headline drops them.)
 */
const hostile = '&lt;img src=x onerror=alert(1)&gt; and 5 < 6 & 7 > 3 <script>window.__injected=1</script>';

describe('search, saved views and export in Chromium', () => {
  const e2e = browserSuite();

  before(async () => {
    await createSupportProject(e2e.server.api);
    const seeds = [
      ['Printer offline in the warehouse', `The printer shows ${hostile} on its display`, 'Acme', 'high'],
      ['Printer jams on thick paper', 'Every printer in room 4 jams', 'Globex', 'high'],
      ['Printer toner low', 'Order toner for the printer', 'Acme', 'low'],
      ['VPN drops every hour', 'Since Monday the VPN disconnects', 'Initech', 'medium'],
    ] as const;
    for (const [subject, description, customer, priority] of seeds) {
      await createTicket(e2e.server.api, {
        subject,
        description,
        customer_name: customer,
        customer_email: `${customer.toLowerCase()}@example.com`,
        priority,
      });
    }
    await signIn(e2e.page, e2e.server.baseUrl, adminEmail, adminPassword);
  });

  const rows = () => e2e.page.locator('table.tickets tbody tr');
  const viewLink = (name: string) =>
    e2e.page.getByRole('navigation', { name: 'Saved views' }).getByRole('link', { name: new RegExp(name) });

  test('search box: hints from the keyboard, highlighted snippets as text, a bad term named inline', async () => {
    // The top bar's box opens the list with the search.
    await e2e.page.goto(`${e2e.server.baseUrl}/app/board`);
    const top = e2e.page.getByRole('combobox', { name: 'Search tickets' });
    await top.fill('VPN');
    await top.press('Enter');
    await e2e.page.waitForURL(/\/tickets\?q=VPN/);
    await e2e.page.getByRole('link', { name: 'VPN drops every hour' }).waitFor();
    assert.equal(await rows().count(), 1);

    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets`);
    const box = e2e.page.getByRole('combobox', { name: 'Search', exact: true });
    await box.click();
    await box.pressSequentially('pri');
    const suggestions = e2e.page.getByRole('listbox', { name: 'Search suggestions' });
    await suggestions.getByRole('option', { name: /^priority:/ }).waitFor();
    await box.press('ArrowDown');
    assert.equal(await box.getAttribute('aria-activedescendant'), await suggestions.getByRole('option').first().getAttribute('id'));
    await box.press('Enter');
    assert.equal(await box.inputValue(), 'priority:');
    // Now the field's values are offered, with what the field means.
    await suggestions.getByRole('option', { name: 'priority:high' }).waitFor();
    await e2e.page.getByText('priority: one or more of').waitFor();
    await box.pressSequentially('h');
    await screenshot(e2e.page, '20-search-hints');
    await box.press('ArrowDown');
    await box.press('Enter');
    assert.equal(await box.inputValue(), 'priority:high ');
    await box.pressSequentially('printer');
    await e2e.page.waitForURL(/q=priority%3Ahigh(\+|%20)printer/);
    // The previous answer stays on screen until the new one arrives: wait for what must go.
    await e2e.page.getByRole('link', { name: 'Printer toner low' }).waitFor({ state: 'detached' });
    await e2e.page.getByRole('link', { name: 'VPN drops every hour' }).waitFor({ state: 'detached' });
    // …and for what must come (the list may be empty for a moment in between).
    await rows().nth(1).waitFor();
    assert.equal(await rows().count(), 2);

    // Matches are <mark>ed; everything else in the snippet, markup included, is shown as text and never runs.
    const snippets = e2e.page.locator('table.tickets .snippet');
    await snippets.first().waitFor();
    assert.ok((await e2e.page.locator('table.tickets .snippet mark').count()) >= 2);
    assert.match(await e2e.page.locator('table.tickets .snippet mark').first().innerText(), /printer/i);
    const shown = (await snippets.allInnerTexts()).join(' ');
    assert.ok(shown.includes('&lt;img src=x onerror=alert(1)&gt; and 5 < 6 & 7 > 3'), shown);
    assert.equal(await e2e.page.locator('table.tickets img, table.tickets script').count(), 0);
    assert.equal(await e2e.page.evaluate('window.__injected'), undefined);
    await screenshot(e2e.page, '21-search-results');

    // A bad field term: the server's message, naming the term, under the box; the list asks to fix it.
    await box.fill('status:opn printer');
    const problem = e2e.page.getByRole('alert').filter({ hasText: 'status:opn' });
    await problem.waitFor();
    assert.match(await problem.innerText(), /opn is not one of/);
    assert.equal(await box.getAttribute('aria-invalid'), 'true');
    await e2e.page.getByText('Fix the search above to see tickets.').waitFor();
    assert.equal(await e2e.page.getByRole('group', { name: 'Export' }).getByRole('link').count(), 0);
    await screenshot(e2e.page, '22-search-error');
    await box.fill('');
    await e2e.page.getByRole('link', { name: 'VPN drops every hour' }).waitFor();
  });

  let printersView = '';

  test('saved views: save a filtered list, live counts in the navigation, a board view, edit and delete', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets?q=printer&priority=high`);
    await e2e.page.getByRole('link', { name: 'Printer jams on thick paper' }).waitFor();
    await e2e.page.getByRole('button', { name: 'Save as view' }).click();
    const dialog = e2e.page.getByRole('dialog', { name: 'Save as view' });
    await dialog.getByLabel('Name').fill('Hot printers');
    assert.equal(await dialog.getByLabel('Search').inputValue(), 'priority:high printer');
    await dialog.getByLabel('Everybody (shared)').check();
    await dialog.getByLabel('Description').check();
    await screenshot(e2e.page, '23-save-view');
    await dialog.getByRole('button', { name: 'Save view' }).click();
    await e2e.page.waitForURL(/\/tickets\?view=/);
    printersView = new URL(e2e.page.url()).searchParams.get('view')!;
    const saved = (await e2e.server.api('GET', `/api/views/${printersView}`)).body.data;
    assert.equal(saved.query, 'priority:high printer');
    assert.equal(saved.shared, true);
    assert.ok(saved.columns.includes('description'));
    await e2e.page.getByRole('heading', { name: 'Hot printers' }).waitFor();
    await e2e.page.getByRole('columnheader', { name: 'Description' }).waitFor();
    assert.equal(await rows().count(), 2);
    await viewLink('Hot printers').getByLabel('2 tickets').waitFor();

    // A new matching ticket raises the count without a reload (the live stream refreshes it).
    await e2e.page.locator('.live-live').waitFor();
    await createTicket(e2e.server.api, { subject: 'Printer smoking', customer_name: 'Acme', priority: 'high' });
    await viewLink('Hot printers').getByLabel('3 tickets').waitFor();
    await e2e.page.getByRole('link', { name: 'Printer smoking' }).waitFor();
    await screenshot(e2e.page, '24-saved-view');

    // A board view opens the board with only its tickets.
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets?q=VPN`);
    await e2e.page.getByRole('link', { name: 'VPN drops every hour' }).waitFor();
    await e2e.page.getByRole('button', { name: 'Save as view' }).click();
    await dialog.getByLabel('Name').fill('VPN board');
    await dialog.getByLabel('Board').check();
    await dialog.getByRole('button', { name: 'Save view' }).click();
    await e2e.page.waitForURL(/\/board\?view=/);
    await e2e.page.locator('.column[data-stage="intake"] .ticket-card').first().waitFor();
    assert.equal(await e2e.page.locator('.ticket-card').count(), 1);
    assert.match(await e2e.page.locator('.ticket-card').innerText(), /VPN drops every hour/);
    await e2e.page.getByText('1 open ticket in this view').waitFor();
    await screenshot(e2e.page, '25-board-view');

    // Edit one view, delete the other.
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets`);
    await e2e.page.getByRole('button', { name: 'Edit view Hot printers' }).click();
    const edit = e2e.page.getByRole('dialog', { name: /Edit view/ });
    await edit.getByLabel('Name').fill('Hot printer tickets');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await e2e.page.getByRole('heading', { name: 'Hot printer tickets' }).waitFor();
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets`);
    await e2e.page.getByRole('button', { name: 'Edit view VPN board' }).click();
    e2e.page.once('dialog', (confirm) => void confirm.accept());
    await edit.getByRole('button', { name: 'Delete view' }).click();
    await e2e.page.waitForURL(/\/tickets$/);
    await viewLink('Hot printer tickets').waitFor();
    // The list of views refreshes after the delete: wait for the link to go rather than reading it once.
    await viewLink('VPN board').waitFor({ state: 'detached' });
    const names = (await e2e.server.api('GET', '/api/views')).body.data.map((view: { name: string }) => view.name);
    assert.deepEqual(names, ['Hot printer tickets']);
  });

  test('export: CSV and NDJSON links of the filtered list stream as downloads in the browser’s time zone', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets?view=${printersView}&customer=acme`);
    await e2e.page.getByRole('link', { name: 'Printer smoking' }).waitFor();
    assert.equal(await rows().count(), 2);
    const exports = e2e.page.getByRole('group', { name: 'Export' });
    const csvLink = exports.getByRole('link', { name: 'CSV' });
    const href = new URL(String(await csvLink.getAttribute('href')), e2e.server.baseUrl);
    assert.equal(href.pathname, '/api/tickets/export');
    assert.equal(href.searchParams.get('view'), printersView);
    assert.equal(href.searchParams.get('customer'), 'acme');
    assert.equal(href.searchParams.get('time_zone'), 'Europe/Berlin');

    const [csv] = await Promise.all([e2e.page.waitForEvent('download'), csvLink.click()]);
    assert.match(csv.suggestedFilename(), /^tickets-.*\.csv$/);
    const lines = fs
      .readFileSync(await csv.path(), 'utf8')
      .trim()
      .split(/\r?\n/);
    assert.equal(lines[0], 'number,subject,status,priority,customer_name,project,updated_at,description');
    assert.equal(lines.length, 3);
    // Times in the browser's zone carry its offset (+01:00 or +02:00), not Z.
    assert.match(lines[1], /\+0[12]:00/);

    const [ndjson] = await Promise.all([e2e.page.waitForEvent('download'), exports.getByRole('link', { name: 'NDJSON' }).click()]);
    const records = fs
      .readFileSync(await ndjson.path(), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { subject: string });
    assert.deepEqual(records.map((record) => record.subject).sort(), ['Printer offline in the warehouse', 'Printer smoking']);
  });

  test('a viewer sees shared views but may only save personal ones', async () => {
    const created = await e2e.server.api('POST', '/api/users', {
      email: 'viewer@e2e.example.com',
      name: 'E2E viewer',
      role: 'viewer',
      password: 'viewer-password-1',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await signIn(e2e.page, e2e.server.baseUrl, 'viewer@e2e.example.com', 'viewer-password-1');
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets`);
    const shared = e2e.page.getByRole('region', { name: 'Shared views' });
    await shared.getByRole('link', { name: /Hot printer tickets/ }).waitFor();
    assert.equal(await e2e.page.getByRole('button', { name: /Edit view/ }).count(), 0);
    await e2e.page.getByRole('button', { name: 'Save as view' }).click();
    const dialog = e2e.page.getByRole('dialog', { name: 'Save as view' });
    await dialog.getByText('Only you see this view.').waitFor();
    assert.equal(await dialog.getByLabel('Everybody (shared)').count(), 0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });
});
