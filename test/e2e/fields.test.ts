import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import axe from 'axe-core';
import type { Page } from 'playwright-core';
import { adminEmail, adminPassword, createSupportProject, createTicket, eventually, screenshot, signIn, browserSuite } from './harness.js';

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
  const e2e = browserSuite();
  let onBoard: { id: string; number: number };
  let onPage: { id: string; number: number };
  let other: { id: string; number: number };

  before(async () => {
    await createSupportProject(e2e.server.api);
    onBoard = await createTicket(e2e.server.api, { subject: 'Label printer prints blank pages', customer_name: 'Acme', priority: 'high' });
    onPage = await createTicket(e2e.server.api, {
      subject: 'Scanner driver crashes on login',
      customer_name: 'Globex',
      priority: 'medium',
    });
    other = await createTicket(e2e.server.api, { subject: 'Monitor flickers now and then', customer_name: 'Initech', priority: 'low' });
    await signIn(e2e.page, e2e.server.baseUrl, adminEmail, adminPassword);
  });

  const stagesVisited = async (id: string): Promise<string[]> =>
    (await e2e.server.api('GET', `/api/tickets/${id}/timeline`)).body.data.visits.map((visit: { key: string }) => visit.key);
  const fieldsOf = async (id: string): Promise<Record<string, unknown>> =>
    (await e2e.server.api('GET', `/api/tickets/${id}`)).body.data.fields;

  test('Admin → Projects: define a choice field required to leave Intake, a refused one named by its control', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/admin/projects`);
    await e2e.page.getByRole('combobox', { name: 'Project' }).selectOption({ label: 'Support' });
    const section = e2e.page.getByRole('region', { name: 'Fields of Support' });
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
    await screenshot(e2e.page, '60-admin-field-editor');
    await assertAccessible(e2e.page, 'the field editor');
    await section.getByRole('button', { name: 'Add field', exact: true }).last().click();

    const row = section.getByRole('row', { name: /Severity/ });
    await row.waitFor();
    assert.match(await row.innerText(), /to leave Intake/);
    assert.match(await row.innerText(), /low, high, critical/);
    const defined = (await e2e.server.api('GET', '/api/projects/support/fields')).body.data;
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
    await screenshot(e2e.page, '61-admin-fields');
    await assertAccessible(e2e.page, 'Admin → Projects with its fields');
  });

  test('board: a keyboard move out of Intake asks for Severity in place, then moves', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/board?project=support`);
    const card = e2e.page.locator(`[data-ticket="${onBoard.id}"]`);
    await e2e.page.locator(`.column[data-stage="intake"] [data-ticket="${onBoard.id}"]`).waitFor();
    await card.focus();
    await e2e.page.keyboard.press('Shift+ArrowRight');

    const dialog = e2e.page.getByRole('dialog', { name: `Move #${onBoard.number} to Triage` });
    await dialog.waitFor();
    const severity = dialog.getByRole('combobox', { name: /Severity/ });
    // Focus is in the dialog, on the field asked for; the move's failure is not reported as one.
    await eventually(() => severity.evaluate((element) => element.ownerDocument.activeElement === element), true);
    assert.equal(await e2e.page.getByText(/Could not move/).count(), 0);
    // The card stays where it was until the move succeeds.
    await e2e.page.locator(`.column[data-stage="intake"] [data-ticket="${onBoard.id}"]`).waitFor();
    assert.deepEqual(await stagesVisited(onBoard.id), ['intake']);
    await screenshot(e2e.page, '62-board-gate-dialog');
    await assertAccessible(e2e.page, 'the board with the gate dialog');

    await severity.selectOption('high');
    await dialog.getByRole('button', { name: 'Save and move to Triage' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const moved = e2e.page.locator(`.column[data-stage="triage"] [data-ticket="${onBoard.id}"]`);
    await moved.waitFor();
    assert.deepEqual(await eventually(() => stagesVisited(onBoard.id), ['intake', 'triage']), ['intake', 'triage']);
    assert.deepEqual(await fieldsOf(onBoard.id), { severity: 'high' });
    // The card shows the field marked for cards, and keeps the keyboard focus.
    await moved.getByText('Severity').waitFor();
    assert.match(await moved.innerText(), /Severity\s*:?\s*high/);
    await eventually(() => moved.evaluate((element) => element.ownerDocument.activeElement === element), true);
    await screenshot(e2e.page, '63-board-after-gated-move');
    await assertAccessible(e2e.page, 'the board');
  });

  test('ticket page: the move button asks for the field too, and the field edits in place', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/${onPage.id}`);
    await e2e.page.getByRole('heading', { name: /Scanner driver crashes/ }).waitFor();
    const fields = e2e.page.getByRole('region', { name: 'Fields', exact: true });
    await fields.getByText('Required to leave Intake').waitFor();

    await e2e.page.getByRole('region', { name: 'Stage', exact: true }).getByRole('button', { name: 'Triage' }).click();
    const dialog = e2e.page.getByRole('dialog', { name: `Move #${onPage.number} to Triage` });
    await dialog.waitFor();
    // Moving without choosing: the server's problem is named by the control.
    await dialog.getByRole('button', { name: 'Save and move to Triage' }).click();
    await dialog.locator('#gate-field-severity-error').waitFor();
    assert.equal(await dialog.getByRole('combobox', { name: /Severity/ }).getAttribute('aria-invalid'), 'true');
    await assertAccessible(e2e.page, 'the ticket page with the gate dialog and a problem');
    await dialog.getByRole('combobox', { name: /Severity/ }).selectOption('critical');
    await dialog.getByRole('button', { name: 'Save and move to Triage' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await e2e.page.locator('.stage-panel strong', { hasText: 'Triage' }).waitFor();
    assert.deepEqual(await eventually(() => stagesVisited(onPage.id), ['intake', 'triage']), ['intake', 'triage']);

    // Inline edit with the field's own control.
    await fields.getByRole('button', { name: 'Edit Severity' }).click();
    await fields.getByRole('combobox', { name: 'Severity' }).selectOption('low');
    await fields.getByRole('button', { name: 'Save' }).click();
    await fields.getByRole('button', { name: 'Edit Severity' }).waitFor();
    assert.deepEqual(await fieldsOf(onPage.id), { severity: 'low' });
    await fields.getByText('low', { exact: true }).waitFor();
    await screenshot(e2e.page, '64-ticket-fields');
    await assertAccessible(e2e.page, 'the ticket page');
  });

  test('tickets list: filter by the field, search with field. terms, and keep it in a saved view', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets`);
    const filters = e2e.page.getByRole('search', { name: 'Ticket filters' });
    await filters.getByRole('combobox', { name: 'Project' }).selectOption({ label: 'Support' });
    await filters.getByRole('combobox', { name: 'Severity' }).selectOption('high');
    await e2e.page.waitForURL(/field\.severity=high/);
    const rows = e2e.page.locator('table.tickets tbody tr');
    await e2e.page.getByRole('link', { name: 'Monitor flickers now and then' }).waitFor({ state: 'detached' });
    await e2e.page.getByRole('link', { name: 'Label printer prints blank pages' }).waitFor();
    assert.equal(await rows.count(), 1);
    // The field as a column, and in the export's columns and filters.
    await filters.getByText('Columns', { exact: true }).click();
    await filters.getByRole('checkbox', { name: 'Severity' }).check();
    await e2e.page.getByRole('columnheader', { name: 'Severity' }).waitFor();
    assert.match(await rows.first().innerText(), /\bhigh\b/);
    const csv = String(await e2e.page.getByRole('group', { name: 'Export' }).getByRole('link', { name: 'CSV' }).getAttribute('href'));
    assert.match(decodeURIComponent(csv), /field\.severity=high/);
    assert.match(decodeURIComponent(csv), /columns=[^&]*field\.severity/);
    await filters.getByText('Columns', { exact: true }).click();
    await screenshot(e2e.page, '65-tickets-field-filter');
    await assertAccessible(e2e.page, 'the tickets list filtered by a field');

    // Saving the list as a view keeps the field filter as a search term.
    await e2e.page.getByRole('button', { name: 'Save as view' }).click();
    const viewDialog = e2e.page.getByRole('dialog', { name: 'Save as view' });
    assert.match(await viewDialog.getByRole('textbox', { name: 'Search' }).inputValue(), /field\.severity:high/);
    await viewDialog.getByRole('button', { name: 'Cancel' }).click();

    // The search box takes the same term.
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets`);
    const box = e2e.page.getByRole('combobox', { name: 'Search', exact: true });
    await box.fill('field.severity:low');
    await e2e.page.getByRole('link', { name: 'Scanner driver crashes on login' }).waitFor();
    await e2e.page.getByRole('link', { name: 'Monitor flickers now and then' }).waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 1);
    assert.deepEqual(await fieldsOf(other.id), {});
  });

  test('new ticket: a project’s always-required fields are asked for, defaults filled in', async () => {
    const defined = await e2e.server.api('POST', '/api/projects/support/fields', {
      key: 'impact',
      label: 'Impact',
      type: 'number',
      default: 2,
      required: 'always',
      help_text: '1 (one person) to 5 (everybody)',
    });
    assert.equal(defined.status, 201, JSON.stringify(defined.body));
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets`);
    await e2e.page.getByRole('button', { name: 'New ticket' }).click();
    const dialog = e2e.page.getByRole('dialog', { name: 'New ticket' });
    await dialog.getByRole('textbox', { name: 'Subject' }).fill('Badge reader rejects every card');
    await dialog.getByRole('combobox', { name: 'Project' }).selectOption({ label: 'Support' });
    const impact = dialog.getByRole('spinbutton', { name: /Impact/ });
    await impact.waitFor();
    assert.equal(await impact.inputValue(), '2');
    // Severity is required only to leave Intake: not asked for here.
    assert.equal(await dialog.getByRole('combobox', { name: /Severity/ }).count(), 0);
    await screenshot(e2e.page, '66-new-ticket-fields');
    await assertAccessible(e2e.page, 'the new-ticket dialog');
    await impact.fill('4');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await e2e.page.getByRole('heading', { name: /Badge reader rejects every card/ }).waitFor();
    const id = decodeURIComponent(e2e.page.url().split('/tickets/')[1]);
    assert.deepEqual(await fieldsOf(id), { impact: 4 });
  });
});
