import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import axe from 'axe-core';
import type { Page } from 'playwright-core';
import {
  adminEmail,
  adminPassword,
  createSupportProject,
  createTicket,
  eventually,
  launchBrowser,
  screenshot,
  screenshotOnFailure,
  signIn,
  startStageline,
  type Stageline,
} from './harness.js';

/**
 * axe-core's WCAG 2 A/AA rules on what the page shows now (an open dialog included). Injected through the
 * debugging protocol, so the dashboard's Content-Security-Policy stays as it is.
 */
async function assertAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(axe.source);
  const { rules, violations } = await page.evaluate(async () => {
    const result = await (globalThis as unknown as { axe: typeof axe }).axe.run({
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return {
      rules: result.passes.length + result.violations.length,
      violations: result.violations.map(
        (violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join('; ')})`,
      ),
    };
  });
  assert.ok(rules > 10, `axe checked ${what}`);
  assert.deepEqual(violations, [], `axe on ${what}`);
}

describe('custom ticket fields in Chromium', () => {
  let server: Stageline;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let onBoard: { id: string; number: number };
  let onPage: { id: string; number: number };
  let other: { id: string; number: number };

  before(async () => {
    server = await startStageline();
    browser = await launchBrowser();
    page = browser.page;
    await createSupportProject(server.api);
    onBoard = await createTicket(server.api, { subject: 'Label printer prints blank pages', customer_name: 'Acme', priority: 'high' });
    onPage = await createTicket(server.api, { subject: 'Scanner driver crashes on login', customer_name: 'Globex', priority: 'medium' });
    other = await createTicket(server.api, { subject: 'Monitor flickers now and then', customer_name: 'Initech', priority: 'low' });
    await signIn(page, server.baseUrl, adminEmail, adminPassword);
  });

  afterEach(screenshotOnFailure(() => page));

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const stagesVisited = async (id: string): Promise<string[]> =>
    (await server.api('GET', `/api/tickets/${id}/timeline`)).body.data.visits.map((visit: { key: string }) => visit.key);
  const fieldsOf = async (id: string): Promise<Record<string, unknown>> => (await server.api('GET', `/api/tickets/${id}`)).body.data.fields;

  test('Admin → Projects: define a choice field required to leave Intake, a refused one named by its control', async () => {
    await page.goto(`${server.baseUrl}/app/admin/projects`);
    await page.getByRole('combobox', { name: 'Project' }).selectOption({ label: 'Support' });
    const section = page.getByRole('region', { name: 'Fields of Support' });
    await section.getByText('No fields yet.').waitFor();
    await section.getByRole('button', { name: 'Add field' }).click();
    const label = section.getByRole('textbox', { name: 'Label' });
    // The form opens with focus in its first control.
    assert.equal(await label.evaluate((element) => element.ownerDocument.activeElement === element), true);

    // A choice field without choices: the server's problem is shown by the Options control.
    await label.fill('Severity');
    assert.equal(await section.getByRole('textbox', { name: 'Key' }).inputValue(), 'severity');
    await section.getByRole('combobox', { name: 'Type' }).selectOption({ label: 'Choice (one)' });
    await section.getByRole('button', { name: 'Add field', exact: true }).last().click();
    const optionsProblem = section.locator('#field-options-error');
    await optionsProblem.waitFor();
    assert.equal(await section.getByRole('textbox', { name: 'Options' }).getAttribute('aria-invalid'), 'true');

    await section.getByRole('textbox', { name: 'Options' }).fill('low\nhigh\ncritical');
    await section.getByRole('textbox', { name: 'Help text' }).fill('How badly the customer is hit');
    await section.getByRole('combobox', { name: 'Required' }).selectOption({ label: 'To leave a stage' });
    await section.getByRole('combobox', { name: 'Stage to leave' }).selectOption({ label: 'Intake' });
    await section.getByRole('checkbox', { name: 'Show on board cards' }).check();
    await screenshot(page, '60-admin-field-editor');
    await assertAccessible(page, 'the field editor');
    await section.getByRole('button', { name: 'Add field', exact: true }).last().click();

    const row = section.getByRole('row', { name: /Severity/ });
    await row.waitFor();
    assert.match(await row.innerText(), /to leave Intake/);
    assert.match(await row.innerText(), /low, high, critical/);
    const defined = (await server.api('GET', '/api/projects/support/fields')).body.data;
    assert.equal(defined.length, 1);
    assert.deepEqual(
      {
        key: defined[0].key,
        type: defined[0].type,
        options: defined[0].options,
        required: defined[0].required,
        card: defined[0].show_on_card,
      },
      { key: 'severity', type: 'select', options: ['low', 'high', 'critical'], required: { leave_stage: 'intake' }, card: true },
    );
    await screenshot(page, '61-admin-fields');
    await assertAccessible(page, 'Admin → Projects with its fields');
  });

  test('board: a keyboard move out of Intake asks for Severity in place, then moves', async () => {
    await page.goto(`${server.baseUrl}/app/board?project=support`);
    const card = page.locator(`[data-ticket="${onBoard.id}"]`);
    await page.locator(`.column[data-stage="intake"] [data-ticket="${onBoard.id}"]`).waitFor();
    await card.focus();
    await page.keyboard.press('Shift+ArrowRight');

    const dialog = page.getByRole('dialog', { name: `Move #${onBoard.number} to Triage` });
    await dialog.waitFor();
    const severity = dialog.getByRole('combobox', { name: /Severity/ });
    // Focus is in the dialog, on the field asked for; the move's failure is not reported as one.
    await eventually(() => severity.evaluate((element) => element.ownerDocument.activeElement === element), true);
    assert.equal(await page.getByText(/Could not move/).count(), 0);
    // The card stays where it was until the move succeeds.
    await page.locator(`.column[data-stage="intake"] [data-ticket="${onBoard.id}"]`).waitFor();
    assert.deepEqual(await stagesVisited(onBoard.id), ['intake']);
    await screenshot(page, '62-board-gate-dialog');
    await assertAccessible(page, 'the board with the gate dialog');

    await severity.selectOption('high');
    await dialog.getByRole('button', { name: 'Save and move to Triage' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const moved = page.locator(`.column[data-stage="triage"] [data-ticket="${onBoard.id}"]`);
    await moved.waitFor();
    assert.deepEqual(await eventually(() => stagesVisited(onBoard.id), ['intake', 'triage']), ['intake', 'triage']);
    assert.deepEqual(await fieldsOf(onBoard.id), { severity: 'high' });
    // The card shows the field marked for cards, and keeps the keyboard focus.
    await moved.getByText('Severity').waitFor();
    assert.match(await moved.innerText(), /Severity\s*:?\s*high/);
    await eventually(() => moved.evaluate((element) => element.ownerDocument.activeElement === element), true);
    await screenshot(page, '63-board-after-gated-move');
    await assertAccessible(page, 'the board');
  });

  test('ticket page: the move button asks for the field too, and the field edits in place', async () => {
    await page.goto(`${server.baseUrl}/app/tickets/${onPage.id}`);
    await page.getByRole('heading', { name: /Scanner driver crashes/ }).waitFor();
    const fields = page.getByRole('region', { name: 'Fields', exact: true });
    await fields.getByText('Required to leave Intake').waitFor();

    await page.getByRole('region', { name: 'Stage', exact: true }).getByRole('button', { name: 'Triage' }).click();
    const dialog = page.getByRole('dialog', { name: `Move #${onPage.number} to Triage` });
    await dialog.waitFor();
    // Moving without choosing: the server's problem is named by the control.
    await dialog.getByRole('button', { name: 'Save and move to Triage' }).click();
    await dialog.locator('#gate-field-severity-error').waitFor();
    assert.equal(await dialog.getByRole('combobox', { name: /Severity/ }).getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'the ticket page with the gate dialog and a problem');
    await dialog.getByRole('combobox', { name: /Severity/ }).selectOption('critical');
    await dialog.getByRole('button', { name: 'Save and move to Triage' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('.stage-panel strong', { hasText: 'Triage' }).waitFor();
    assert.deepEqual(await eventually(() => stagesVisited(onPage.id), ['intake', 'triage']), ['intake', 'triage']);

    // Inline edit with the field's own control.
    await fields.getByRole('button', { name: 'Edit Severity' }).click();
    await fields.getByRole('combobox', { name: 'Severity' }).selectOption('low');
    await fields.getByRole('button', { name: 'Save' }).click();
    await fields.getByRole('button', { name: 'Edit Severity' }).waitFor();
    assert.deepEqual(await fieldsOf(onPage.id), { severity: 'low' });
    await fields.getByText('low', { exact: true }).waitFor();
    await screenshot(page, '64-ticket-fields');
    await assertAccessible(page, 'the ticket page');
  });

  test('tickets list: filter by the field, search with field. terms, and keep it in a saved view', async () => {
    await page.goto(`${server.baseUrl}/app/tickets`);
    const filters = page.getByRole('search', { name: 'Ticket filters' });
    await filters.getByRole('combobox', { name: 'Project' }).selectOption({ label: 'Support' });
    await filters.getByRole('combobox', { name: 'Severity' }).selectOption('high');
    await page.waitForURL(/field\.severity=high/);
    const rows = page.locator('table.tickets tbody tr');
    await page.getByRole('link', { name: 'Monitor flickers now and then' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Label printer prints blank pages' }).waitFor();
    assert.equal(await rows.count(), 1);
    // The field as a column, and in the export's columns and filters.
    await filters.getByText('Columns', { exact: true }).click();
    await filters.getByRole('checkbox', { name: 'Severity' }).check();
    await page.getByRole('columnheader', { name: 'Severity' }).waitFor();
    assert.match(await rows.first().innerText(), /\bhigh\b/);
    const csv = String(await page.getByRole('group', { name: 'Export' }).getByRole('link', { name: 'CSV' }).getAttribute('href'));
    assert.match(decodeURIComponent(csv), /field\.severity=high/);
    assert.match(decodeURIComponent(csv), /columns=[^&]*field\.severity/);
    await filters.getByText('Columns', { exact: true }).click();
    await screenshot(page, '65-tickets-field-filter');
    await assertAccessible(page, 'the tickets list filtered by a field');

    // Saving the list as a view keeps the field filter as a search term.
    await page.getByRole('button', { name: 'Save as view' }).click();
    const viewDialog = page.getByRole('dialog', { name: 'Save as view' });
    assert.match(await viewDialog.getByRole('textbox', { name: 'Search' }).inputValue(), /field\.severity:high/);
    await viewDialog.getByRole('button', { name: 'Cancel' }).click();

    // The search box takes the same term.
    await page.goto(`${server.baseUrl}/app/tickets`);
    const box = page.getByRole('combobox', { name: 'Search', exact: true });
    await box.fill('field.severity:low');
    await page.getByRole('link', { name: 'Scanner driver crashes on login' }).waitFor();
    await page.getByRole('link', { name: 'Monitor flickers now and then' }).waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 1);
    assert.deepEqual(await fieldsOf(other.id), {});
  });

  test('new ticket: a project’s always-required fields are asked for, defaults filled in', async () => {
    const defined = await server.api('POST', '/api/projects/support/fields', {
      key: 'impact',
      label: 'Impact',
      type: 'number',
      default: 2,
      required: 'always',
      help_text: '1 (one person) to 5 (everybody)',
    });
    assert.equal(defined.status, 201, JSON.stringify(defined.body));
    await page.goto(`${server.baseUrl}/app/tickets`);
    await page.getByRole('button', { name: 'New ticket' }).click();
    const dialog = page.getByRole('dialog', { name: 'New ticket' });
    await dialog.getByRole('textbox', { name: 'Subject' }).fill('Badge reader rejects every card');
    await dialog.getByRole('combobox', { name: 'Project' }).selectOption({ label: 'Support' });
    const impact = dialog.getByRole('spinbutton', { name: /Impact/ });
    await impact.waitFor();
    assert.equal(await impact.inputValue(), '2');
    // Severity is required only to leave Intake: not asked for here.
    assert.equal(await dialog.getByRole('combobox', { name: /Severity/ }).count(), 0);
    await screenshot(page, '66-new-ticket-fields');
    await assertAccessible(page, 'the new-ticket dialog');
    await impact.fill('4');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: /Badge reader rejects every card/ }).waitFor();
    const id = decodeURIComponent(page.url().split('/tickets/')[1]);
    assert.deepEqual(await fieldsOf(id), { impact: 4 });
  });
});
