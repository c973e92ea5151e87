import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { adminEmail, adminPassword, refusedRequests, screenshot, signIn, browserSuite } from './harness.js';

const minute = 60_000;
const hour = 60 * minute;

/**
 * One truthful picture (issue 20): a ticket's two judgements — its current stage against the stage's target, the
 * whole ticket against the project's target — labelled alike on every page; OPS and the workflow agreeing; pages
 * that show each role only what it may use and ask only for what it may read; a board that fits ten stages.
 */
describe('one truthful monitoring picture, in Chromium', () => {
  const e2e = browserSuite();
  let refused: ReturnType<typeof refusedRequests>;
  const t: Record<string, { id: string; number: number }> = {};

  const create = async (subject: string, fields: Record<string, unknown> = {}) => {
    const created = await e2e.server.api('POST', '/api/tickets', {
      project: 'truth',
      subject,
      customer_email: 'acme@example.com',
      ...fields,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.data as { id: string; number: number };
  };
  const move = async (id: string, to: string) => {
    // A project may put new tickets into its first stage by itself (new_tickets_enter_first_stage).
    const now = (await e2e.server.api('GET', `/api/tickets/${id}`)).body.data;
    if (now.stage?.key === to) return;
    const moved = await e2e.server.api('POST', `/api/tickets/${id}/transitions`, { to });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
  };

  before(async () => {
    refused = refusedRequests(e2e.page);
    // Ticket target 2 h; Intake 2 d, Fix 30 m. The clock starts 3 h 45 m ago and is brought back to now.
    const project = await e2e.server.api('POST', '/api/projects', {
      key: 'truth',
      name: 'Truth',
      ticket_target_minutes: 120,
      stages: [
        { key: 'intake', name: 'Intake', target_minutes: 2 * 24 * 60 },
        { key: 'fix', name: 'Fix', target_minutes: 30 },
        { key: 'done', name: 'Done', final: true },
      ],
      transitions: [
        { from: null, to: 'intake' },
        { from: 'intake', to: 'fix' },
        { from: 'fix', to: 'done' },
        { from: 'intake', to: 'done' },
      ],
    });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    const start = Date.now() - 3 * hour - 45 * minute;
    e2e.server.clock.set(new Date(start));
    // Late against its ticket target, on time in its stage.
    t.targetLate = await create('Target passed, stage fine');
    await move(t.targetLate.id, 'intake');
    e2e.server.clock.set(new Date(start + 3 * hour));
    // Late in its stage, on time against its ticket target.
    t.stageLate = await create('Stage passed, target fine');
    await move(t.stageLate.id, 'intake');
    await move(t.stageLate.id, 'fix');
    t.opsClosed = await create('OPS will close this one');
    await move(t.opsClosed.id, 'intake');
    e2e.server.clock.set(new Date(start + 3 * hour + 45 * minute));
  });

  test('the API answers both judgements, named', async () => {
    const a = (await e2e.server.api('GET', `/api/tickets/${t.targetLate.id}`)).body.data;
    assert.equal(a.stage_state, 'on_track');
    assert.equal(a.ticket_state, 'overdue');
    assert.equal(a.delay_state, 'overdue');
    assert.equal(a.delay_reason, 'ticket');
    const b = (await e2e.server.api('GET', `/api/tickets/${t.stageLate.id}`)).body.data;
    assert.equal(b.stage_state, 'overdue');
    assert.equal(b.ticket_state, 'on_track');
    assert.equal(b.delay_reason, 'stage');
  });

  test('two labelled judgements on the ticket page, the board, Delayed and the tickets list', async () => {
    await signIn(e2e.page, e2e.server.baseUrl, adminEmail, adminPassword);
    refused.take();

    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/${t.targetLate.id}`);
    const stagePanel = e2e.page.getByRole('region', { name: 'Stage', exact: true });
    await stagePanel.getByText(/Ticket target: passed 1 h 4\d m ago/).waitFor();
    assert.match(await stagePanel.innerText(), /Stage Intake: due in 1 d 2\d h/);
    await screenshot(e2e.page, 'truth-ticket-target-late');

    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/${t.stageLate.id}`);
    await stagePanel.getByText(/Stage Fix: passed 1\d m ago/).waitFor();
    assert.match(await stagePanel.innerText(), /Ticket target: due in 1 h 1\d m/);

    await e2e.page.goto(`${e2e.server.baseUrl}/app/board?project=truth`);
    const targetCard = e2e.page.locator(`[data-ticket="${t.targetLate.id}"]`);
    await targetCard.waitFor();
    assert.match(await targetCard.innerText(), /Ticket target: passed 1 h 4\d m ago/);
    assert.match(await targetCard.innerText(), /Stage Intake: due in 1 d/);
    const stageCard = e2e.page.locator(`[data-ticket="${t.stageLate.id}"]`);
    assert.match(await stageCard.innerText(), /Stage Fix: passed 1\d m ago/);
    assert.match(await stageCard.innerText(), /Ticket target: due in 1 h/);

    await e2e.page.goto(`${e2e.server.baseUrl}/app/delayed?project=truth`);
    const rows = e2e.page.locator('table tbody tr');
    await rows.first().waitFor();
    const row = (subject: string) => e2e.page.locator('table tbody tr', { hasText: subject });
    assert.match(
      (await row('Target passed').innerText()).replace(/\s+/g, ' '),
      /Stage Intake: due in .*Ticket target: passed 1 h 4\d m ago/,
    );
    assert.match((await row('Stage passed').innerText()).replace(/\s+/g, ' '), /Stage Fix: passed 1\d m ago.*Ticket target: due in 1 h/);
    await e2e.page.getByRole('button', { name: 'Late in stage' }).click();
    await e2e.page.waitForURL(/sort=stage_overdue_by/);
    await e2e.page.locator('table tbody tr').first().filter({ hasText: 'Stage passed' }).waitFor();
    await e2e.page.getByRole('button', { name: 'Late against ticket target' }).click();
    await e2e.page.waitForURL(/sort=ticket_overdue_by/);
    await e2e.page.locator('table tbody tr').first().filter({ hasText: 'Target passed' }).waitFor();

    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets?project=truth`);
    const listRow = e2e.page.locator('table.tickets tbody tr', { hasText: 'Stage passed' });
    await listRow.waitFor();
    const line = (await listRow.innerText()).replace(/\s+/g, ' ');
    assert.match(line, /Fix/);
    assert.match(line, /Stage Fix: passed 1\d m ago/);
    assert.match(line, /Ticket target: due in 1 h/);
    assert.match(line, /1\d m/, 'time in stage');
    assert.deepEqual(refused.take(), []);
  });

  test('a ticket OPS closes enters the final stage, with one history event per change', async () => {
    await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/${t.opsClosed.id}`);
    const ops = e2e.page.getByRole('region', { name: 'OPS hand-off' });
    await ops.getByRole('button', { name: 'Send to OPS' }).click();
    await ops.getByText(/OPS holds it as OPS-/).waitFor();
    // While OPS holds it: no second plain send, an explained "Send again…" instead.
    assert.equal(await ops.getByRole('button', { name: 'Send to OPS', exact: true }).count(), 0);
    assert.equal(await ops.getByRole('button', { name: 'Sent to OPS' }).isDisabled(), true);
    await ops.getByRole('button', { name: 'Send again…' }).click();
    const confirm = e2e.page.getByRole('dialog', { name: /Send #\d+ to OPS again/ });
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /OPS already has this ticket/);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });

    const opsId = (await e2e.server.api('GET', `/api/tickets/${t.opsClosed.id}`)).body.data.ops_id as string;
    e2e.server.ops.tickets.get(opsId)!.status = 'closed';
    await ops.getByRole('button', { name: 'Refresh OPS status' }).click();
    await ops.getByText(/OPS closed it/).waitFor();
    const stagePanel = e2e.page.getByRole('region', { name: 'Stage', exact: true });
    await stagePanel.getByText(/Closed, in Done/).waitFor();
    assert.equal(await stagePanel.getByText('Move to:').count(), 0, 'no move buttons on a closed ticket with nowhere to go');
    const history = e2e.page.locator('.history');
    await history.getByText(/moved into Done/).waitFor();
    const lines = (await history.innerText()).split('\n').filter((l) => /status/i.test(l) && /Closed/.test(l));
    assert.equal(lines.length, 1, `one status change to Closed: ${lines.join(' | ')}`);
    // Each status change is written once (OPS's and the workflow's are the same change, not two events).
    const events = (await e2e.server.api('GET', `/api/tickets/${t.opsClosed.id}/history?limit=100`)).body.data as {
      type: string;
      data: { old?: string; new?: string };
    }[];
    const changes = events
      .filter((e) => e.type === 'ops_status_changed' || e.type === 'status_changed')
      .map((e) => `${e.data.old}→${e.data.new}`);
    assert.equal(new Set(changes).size, changes.length, changes.join(', '));
    assert.equal(changes.filter((change) => change.endsWith('→closed')).length, 1, changes.join(', '));
    assert.equal(events.filter((e) => e.type === 'stage_entered').length, 2, 'Intake, then Done');
    await screenshot(e2e.page, 'truth-ops-closed');
    assert.deepEqual(refused.take(), []);
  });

  test('each role sees only what it may use, and no page asks for what the role may not read', async () => {
    const users = [
      ['agent', 'agent@truth.example.com', []],
      ['viewer', 'viewer@truth.example.com', []],
      ['customer', 'buyer@acme.example.com', ['acme@example.com']],
    ] as const;
    for (const [role, email, customerEmails] of users) {
      const created = await e2e.server.api('POST', '/api/users', {
        email,
        name: `Truth ${role}`,
        role,
        password: `${role}-password-1`,
        ...(customerEmails.length ? { customer_emails: customerEmails } : {}),
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    const staffPages = ['/app/', '/app/board?project=truth', '/app/tickets', '/app/delayed', `/app/tickets/${t.stageLate.id}`];
    for (const [role, email] of users) {
      await signIn(e2e.page, e2e.server.baseUrl, email, `${role}-password-1`);
      refused.take();
      const nav = e2e.page.getByRole('navigation', { name: 'Main' });
      if (role === 'customer') {
        await e2e.page.getByRole('heading', { name: 'My tickets' }).waitFor();
        await e2e.page.getByRole('link', { name: 'Stage passed, target fine' }).waitFor();
        assert.equal(await nav.getByRole('link', { name: 'Board' }).count(), 0);
        assert.equal(await nav.getByRole('link', { name: 'Delayed' }).count(), 0);
        assert.equal(await nav.getByRole('link', { name: 'Admin' }).count(), 0);
        for (const [path, title] of [
          ['/app/board', 'Board'],
          ['/app/delayed', 'Delayed tickets'],
          ['/app/admin', 'Admin'],
        ] as const) {
          await e2e.page.goto(e2e.server.baseUrl + path);
          await e2e.page.getByRole('heading', { name: title }).waitFor();
          assert.match(await e2e.page.locator('main').innerText(), /Your account cannot/);
          await e2e.page.getByRole('link', { name: 'Back to the start page' }).waitFor();
        }
        await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets/${t.stageLate.id}`);
        await e2e.page.getByRole('heading', { name: /Stage passed/ }).waitFor();
        await e2e.page.getByLabel('Add a comment').waitFor();
        assert.equal(await e2e.page.getByRole('region', { name: 'OPS hand-off' }).count(), 0);
        assert.equal(await e2e.page.getByRole('button', { name: /^Edit / }).count(), 0);
        await screenshot(e2e.page, 'truth-customer-ticket');
      } else {
        for (const path of staffPages) {
          await e2e.page.goto(e2e.server.baseUrl + path);
          await e2e.page.locator('main h1').first().waitFor();
          await e2e.page.waitForLoadState('networkidle');
        }
        // On the ticket page (the last one): what a viewer cannot use is not there.
        const stagePanel = e2e.page.getByRole('region', { name: 'Stage', exact: true });
        await stagePanel.getByText(/Stage Fix/).waitFor();
        const agent = role === 'agent';
        assert.equal(await e2e.page.getByLabel('Add a comment').count(), agent ? 1 : 0, `${role}: comment box`);
        assert.equal(await stagePanel.getByRole('button', { name: 'Done' }).count(), agent ? 1 : 0, `${role}: move buttons`);
        assert.equal(await e2e.page.getByRole('button', { name: 'Edit Subject' }).count(), agent ? 1 : 0, `${role}: edit`);
        assert.equal(await e2e.page.getByRole('button', { name: 'Send to OPS' }).count(), agent ? 1 : 0, `${role}: send to OPS`);
        assert.equal(await nav.getByRole('link', { name: 'Admin' }).count(), 0);
        await e2e.page.goto(`${e2e.server.baseUrl}/app/tickets`);
        await e2e.page.locator('table.tickets tbody tr').first().waitFor();
        assert.equal(await e2e.page.getByRole('button', { name: 'New ticket' }).count(), agent ? 1 : 0, `${role}: new ticket`);
        await screenshot(e2e.page, `truth-${role}-ticket`);
      }
      await e2e.page.waitForLoadState('networkidle');
      assert.deepEqual(refused.take(), [], `${role}: refused requests`);
    }
  });

  test('a keyboard move keeps the focus on the moved card and says so', async () => {
    await signIn(e2e.page, e2e.server.baseUrl, adminEmail, adminPassword);
    const ticket = await create('Moved by keyboard');
    await move(ticket.id, 'intake');
    await e2e.page.goto(`${e2e.server.baseUrl}/app/board?project=truth`);
    const card = e2e.page.locator(`.column[data-stage="intake"] [data-ticket="${ticket.id}"]`);
    await card.focus();
    await e2e.page.keyboard.press('Shift+ArrowRight');
    await e2e.page.locator(`.column[data-stage="fix"] [data-ticket="${ticket.id}"]`).waitFor();
    await e2e.page.locator(`[data-ticket="${ticket.id}"]:focus`).waitFor();
    await e2e.page
      .getByRole('status')
      .filter({ hasText: `Moved #${ticket.number} to Fix.` })
      .waitFor();
    // Focus stays put through the server's confirmation and the refresh that follows.
    const stages = async () =>
      (await e2e.server.api('GET', `/api/tickets/${ticket.id}/timeline`)).body.data.visits.map((v: { key: string }) => v.key);
    assert.deepEqual(await stages(), ['intake', 'fix']);
    await e2e.page.waitForLoadState('networkidle');
    assert.equal(await e2e.page.locator(`[data-ticket="${ticket.id}"]:focus`).count(), 1);
    // A move the workflow does not allow is announced too, and the focus stays.
    await e2e.page.keyboard.press('Shift+ArrowLeft');
    await e2e.page
      .getByRole('status')
      .filter({ hasText: `#${ticket.number} has no allowed stage before Fix.` })
      .waitFor();
    assert.equal(await e2e.page.locator(`[data-ticket="${ticket.id}"]:focus`).count(), 1);
  });

  test('a ten-stage workflow fits a 1400 px board, and a card can be dragged to its last stage', async () => {
    const names = ['New', 'Intake', 'Triage', 'Reproduce', 'Fix', 'Review', 'Verification', 'Release', 'Follow-up', 'Closed'];
    const stages = names.map((name, index) => ({
      key: name.toLowerCase().replace(/[^a-z]/g, ''),
      name,
      target_minutes: 240,
      ...(index === names.length - 1 ? { final: true, target_minutes: null } : {}),
    }));
    const project = await e2e.server.api('POST', '/api/projects', { key: 'ten', name: 'Ten stages', stages });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    // Tickets in most stages, so few columns fold away.
    const ids: string[] = [];
    for (const stage of stages.slice(0, 8)) {
      const created = await e2e.server.api('POST', '/api/tickets', { project: 'ten', subject: `Waiting in ${stage.name}` });
      assert.equal(created.status, 201);
      await e2e.server.api('POST', `/api/tickets/${created.body.data.id}/transitions`, { to: stage.key });
      ids.push(created.body.data.id);
    }
    await e2e.page.setViewportSize({ width: 1400, height: 900 });
    await e2e.page.goto(`${e2e.server.baseUrl}/app/board?project=ten`);
    await e2e.page.locator(`[data-ticket="${ids[0]}"]`).waitFor();
    for (const stage of stages) {
      const box = await e2e.page.locator(`.column[data-stage="${stage.key}"]`).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 1400, `${stage.name} column is on screen: ${JSON.stringify(box)}`);
    }
    const board = await e2e.page.locator('.board').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    assert.ok(board.scroll <= board.client + 1, `no sideways scrolling needed: ${JSON.stringify(board)}`);
    await screenshot(e2e.page, 'truth-ten-stage-board');
    // Follow-up → Closed by dragging onto the folded (empty) Closed column.
    await e2e.page.locator(`[data-ticket="${ids[7]}"]`).dragTo(e2e.page.locator('.column[data-stage="closed"]'));
    // A closed ticket leaves the board (it shows open tickets); the server has it in Closed.
    await e2e.page.locator(`[data-ticket="${ids[7]}"]`).waitFor({ state: 'detached' });
    const after = (await e2e.server.api('GET', `/api/tickets/${ids[7]}`)).body.data;
    assert.equal(after.status, 'closed');
    assert.equal(after.stage?.key, 'closed');
  });
});
