import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { LogNormal, MINUTE, seeded, syntheticProject } from '../modules/forecast/synthetic.js';
import { adminEmail, eventually, adminPassword, screenshot, signIn, browserSuite } from './harness.js';

/** Stage durations of the synthetic history: intake → triage → fix → closed. */
const truth = { intake: new LogNormal(40, 0.6), triage: new LogNormal(120, 0.8), fix: new LogNormal(300, 0.7) };
// The dashboard writes percentages as "83 %" (web/src/lib/format.ts).
const percent = { format: (share: number) => `${Math.round(share * 100)} %` };

describe('delivery forecast in Chromium', () => {
  const e2e = browserSuite();
  let now: number;
  const random = seeded(41);
  let counter = 0;

  /** `n` tickets of `project` that went the whole path before now. */
  const history = (project: string, n: number) =>
    Array.from({ length: n }, () => {
      let at = now - 20 * 86_400_000 * random() - 2 * 86_400_000;
      const visits: { key: string; stage_start_time: string; stage_end_time: string }[] = (['intake', 'triage', 'fix'] as const).map(
        (key) => {
          const start = at;
          at += truth[key].sample(random);
          return { key, stage_start_time: new Date(start).toISOString(), stage_end_time: new Date(at).toISOString() };
        },
      );
      visits.push({ key: 'closed', stage_start_time: new Date(at).toISOString(), stage_end_time: new Date(at).toISOString() });
      return { external_id: `h-${++counter}`, subject: 'history', project, visits };
    });

  /** An open ticket that has been in triage for `minutes`. */
  const openInTriage = (project: string, id: string, subject: string, minutes: number) => {
    const triageStart = now - minutes * MINUTE;
    return {
      id,
      external_id: id,
      subject,
      project,
      visits: [
        {
          key: 'intake',
          stage_start_time: new Date(triageStart - 30 * MINUTE).toISOString(),
          stage_end_time: new Date(triageStart).toISOString(),
        },
        { key: 'triage', stage_start_time: new Date(triageStart).toISOString() },
      ],
    };
  };

  const importRows = async (token: string, rows: unknown[]) => {
    const response = await fetch(`${e2e.server.baseUrl}/api/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: rows.map((row) => JSON.stringify(row)).join('\n'),
    });
    const body = (await response.json()) as { data: { rejected: number } };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.data.rejected, 0, JSON.stringify(body));
  };

  before(async () => {
    now = Math.floor(Date.now() / MINUTE) * MINUTE;
    e2e.server.clock.set(new Date(now));
    for (const key of ['fc', 'thin']) assert.equal((await e2e.server.api('POST', '/api/projects', syntheticProject(key))).status, 201);
    const token = (await e2e.server.api('POST', '/api/tokens', { name: 'forecast e2e import' })).body.data.token as string;
    const rows = history('fc', 300);
    for (let i = 0; i < rows.length; i += 150) await importRows(token, rows.slice(i, i + 150));
    await importRows(token, history('thin', 5));
    await importRows(token, [
      openInTriage('fc', 'fc-late', 'Refund stuck in triage', 230),
      openInTriage('fc', 'fc-fresh', 'Password reset', 10),
      openInTriage('thin', 'thin-new', 'Brand new workflow', 20),
    ]);
    await e2e.server.app.services.forecast.refresh();
    await e2e.server.app.services.forecast.scan();
    await signIn(e2e.page, e2e.server.baseUrl, adminEmail, adminPassword);
  });

  test('the ticket page shows both breach probabilities, labelled, and the expected finish', async () => {
    const forecast = (await e2e.server.api('GET', '/api/tickets/fc-late')).body.data.forecast;
    assert.ok(forecast.stage_breach_probability > 0.7 && forecast.expected_finish_at, JSON.stringify(forecast));
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/fc-late`);
    const panel = e2e.page.getByRole('group', { name: 'Delivery forecast' });
    await panel.waitFor();
    const text = (await panel.innerText()).replace(/\s+/g, ' ');
    assert.match(text, new RegExp(`Stage breach probability ${percent.format(forecast.stage_breach_probability)}`));
    assert.match(text, new RegExp(`Ticket breach probability ${percent.format(forecast.ticket_breach_probability)}`));
    assert.match(text, /Expected finish \(median\) in \d+ [dhm]\b/);
    assert.match(text, /Finished with 90 ?% probability in \d+/);
    assert.match(text, /Based on 300 ended visits of this stage/);
    await e2e.page.locator('.chart svg').first().waitFor();
    await screenshot(e2e.page, 'forecast-ticket');
  });

  test('a ticket with too little history says so in words', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/thin-new`);
    const panel = e2e.page.getByRole('group', { name: 'Delivery forecast' });
    await panel.waitFor();
    assert.match(await panel.innerText(), /Too little history: 5 ended visits of this stage; a forecast needs 30/);
  });

  test('Delayed → Likely to breach lists the likely ticket with its probability and stage, not the fresh one', async () => {
    const likely = (await e2e.server.api('GET', '/api/monitor/likely')).body.data;
    assert.deepEqual(
      likely.map((row: { id: string }) => row.id),
      ['fc-late'],
    );
    await e2e.page.goto(`${e2e.server.baseUrl}/app/delayed`);
    await e2e.page.getByRole('button', { name: 'Likely to breach' }).click();
    const table = e2e.page.getByRole('table', { name: 'Likely to breach' });
    await table.waitFor();
    const row = table.getByRole('row').filter({ hasText: 'Refund stuck in triage' });
    const cells = (await row.innerText()).replace(/\s+/g, ' ');
    assert.match(cells, new RegExp(percent.format(likely[0].probability)));
    assert.match(cells, /Triage/);
    assert.equal(await table.getByText('Password reset').count(), 0);
    await screenshot(e2e.page, 'forecast-likely');
  });

  test('the board card shows the stored forecast', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/board?project=fc`);
    const card = e2e.page.locator('[data-ticket="fc-late"]');
    await card.waitFor();
    assert.match((await card.innerText()).replace(/\s+/g, ' '), /Stage \d+ ?%.*Ticket \d+ ?%.*Finish in/);
    await screenshot(e2e.page, 'forecast-board');
  });

  test('the ticket list shows the forecast column when asked', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets?project=fc`);
    // The box is driven by the URL (?forecast=1), so it turns checked a render after the click: click, then wait
    // for what it shows, rather than check() (which insists on the state at once).
    await e2e.page.getByRole('checkbox', { name: 'Show forecast' }).click();
    const row = e2e.page.getByRole('row').filter({ hasText: 'Refund stuck in triage' });
    await row.locator('.row-forecast').waitFor();
    assert.match((await row.innerText()).replace(/\s+/g, ' '), /Stage \d+ ?% Ticket \d+ ?% Finish in/);
    await screenshot(e2e.page, 'forecast-list');
  });

  test('Admin → Projects sets the breach-likely threshold as a percentage', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/admin/projects`);
    await e2e.page.getByRole('combobox', { name: 'Project' }).selectOption({ label: 'thin' });
    const threshold = e2e.page.getByRole('spinbutton', { name: /Likely to breach at \(%\)/ });
    // The draft follows the selection once the project is read.
    assert.equal(await eventually(() => e2e.page.getByRole('textbox', { name: 'Name' }).first().inputValue(), 'thin'), 'thin');
    assert.equal(await threshold.inputValue(), '70');
    await threshold.fill('55');
    await e2e.page.getByRole('button', { name: 'Save workflow' }).click();
    await e2e.page.getByText('Saved.').waitFor();
    const projects = (await e2e.server.api('GET', '/api/projects')).body.data as { key: string; breach_likely_threshold: number }[];
    assert.equal(projects.find((project) => project.key === 'thin')?.breach_likely_threshold, 0.55);
  });
});
