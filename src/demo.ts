import { sql } from 'kysely';
import type { App } from './app.js';
import { systemActor, type Actor } from './modules/access/policy.js';
import type { ProjectCreateInput } from './modules/projects/schemas.js';
import { createDemoUsers } from './modules/users/demo.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A small seeded generator, so every demo database tells the same story. */
function generator(seed: number) {
  let state = seed;
  const next = () => (state = (state * 16807) % 2147483647) / 2147483647;
  return {
    next,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    between: (low: number, high: number) => low + next() * (high - low),
  };
}

const berlinOffice = {
  time_zone: 'Europe/Berlin',
  working_days: [1, 2, 3, 4, 5],
  working_hours: { start: '08:00', end: '18:00' },
  holidays: ['2026-12-24', '2026-12-25', '2026-12-26', '2027-01-01'],
};

/** Intake → Triage → Diagnosis (Reproduce, Root cause) → Fix → Verification → Waiting for customer → Closed. */
function supportWorkflow(
  key: string,
  name: string,
  description: string,
  scale: number,
  calendar: ProjectCreateInput['calendar'],
): ProjectCreateInput {
  const minutes = (base: number) => Math.round(base * scale);
  return {
    key,
    name,
    description,
    calendar,
    ticket_target_minutes: minutes(5 * 600),
    stages: [
      { key: 'intake', name: 'Intake', target_minutes: minutes(60) },
      { key: 'triage', name: 'Triage', target_minutes: minutes(240) },
      { key: 'diagnosis', name: 'Diagnosis', target_minutes: minutes(960) },
      { key: 'reproduce', name: 'Reproduce', parent: 'diagnosis', target_minutes: minutes(480) },
      { key: 'root-cause', name: 'Root cause', parent: 'diagnosis', target_minutes: minutes(480) },
      { key: 'fix', name: 'Fix', target_minutes: minutes(1200) },
      { key: 'verification', name: 'Verification', target_minutes: minutes(480) },
      { key: 'waiting', name: 'Waiting for customer', pauses: true, target_minutes: minutes(2400) },
      { key: 'closed', name: 'Closed', final: true },
    ],
  };
}

const projects: ProjectCreateInput[] = [
  supportWorkflow('WEB', 'Web shop', 'Checkout, catalogue and account problems of the web shop', 1, berlinOffice),
  supportWorkflow('MOB', 'Mobile app', 'iOS and Android app support', 1.5, berlinOffice),
  supportWorkflow('BILL', 'Billing', 'Invoices, refunds and payment disputes', 0.75, berlinOffice),
  supportWorkflow('OPS', 'Hosting', 'Outages and infrastructure requests, around the clock', 0.5, null),
];

const customers = [
  { name: 'Acme Corp', email: 'it@acme.example', phone: '+49 30 1234567' },
  { name: 'Globex', email: 'support@globex.example', phone: '+1 555 0100' },
  { name: 'Initech', email: 'helpdesk@initech.example', phone: null },
  { name: 'Umbrella Health', email: 'ops@umbrella.example', phone: '+44 20 7946 0000' },
  { name: 'Hooli', email: 'admins@hooli.example', phone: null },
  { name: 'Stark Logistics', email: 'service@stark.example', phone: '+49 89 555 123' },
  { name: 'Wayne Retail', email: 'it-desk@wayne.example', phone: null },
  { name: 'Tyrell Labs', email: 'lab-it@tyrell.example', phone: '+81 3 5555 0101' },
];
// The demo agent's account is an assignee too (by its address), so the mail log fills with what it would be sent.
const agents = ['Ana Kovač', 'Ben Osei', 'Chen Wei', 'Dana Levi', 'Emil Novak', 'agent@demo.stageline.local', null];
const subjects = [
  'Checkout fails with error 502',
  'Password reset mail never arrives',
  'Invoice shows the wrong VAT rate',
  'App crashes on start after update',
  'Export to CSV is empty',
  'Refund not received',
  'Dashboard loads very slowly',
  'Cannot add a second shipping address',
  'Push notifications arrive twice',
  'Order history missing entries',
  'Single sign-on loops back to login',
  'Payment declined although card is valid',
  'Disk almost full on the database host',
  'TLS certificate expires soon',
  'Search returns no results for umlauts',
  'Coupon code rejected',
];
const categories = ['bug', 'question', 'incident', 'request'];
/** The happy path; some tickets detour (wait for the customer, fail verification). */
const path = ['intake', 'triage', 'reproduce', 'root-cause', 'fix', 'verification', 'closed'];

type DemoTicket = Parameters<App['services']['tickets']['create']>[1];
/** One step of a demo ticket's life, made by the same service call the API makes. */
type DemoStep =
  { move: { to: string; at: number; note?: string } } | { comment: { body: string; visibility: 'public' | 'internal'; at: number } };
/** `ops`: handed to OPS once loaded, so the OPS log has real exchanges. */
type DemoPlan = { ticket: DemoTicket; steps: DemoStep[]; createdAt: number; ops: boolean };

/**
 * Loads a few hundred tickets over several projects and customers, moved through their workflows by
 * the same services the API uses, with visits done, running, at risk and overdue. Skipped when the
 * demo projects exist already, so restarting with `--demo` is harmless. `concurrency` walks that many tickets at once
 * (on a PostgreSQL server: the backtest's thousands of tickets); the story is the same, only ticket numbers differ.
 */
export async function loadDemoData(app: App, options: { tickets?: number; concurrency?: number } = {}): Promise<void> {
  const { services, clock, log } = app;
  const actor: Actor = { ...systemActor, name: 'demo' };
  await createDemoUsers(services.users, log, [customers[0].email, customers[1].email]);
  const existing = await services.projects.list(actor, 10, undefined);
  if (existing.items.some((project) => project.key === projects[0].key)) {
    log.info('demo data: already loaded');
    return;
  }
  for (const project of projects) await services.projects.create(actor, project);

  const plans = planDemo(options.tickets ?? 240, clock.now().getTime());
  const handedToOps: string[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let i = next++; i < plans.length; i = next++) {
      const { ticket: input, steps } = plans[i]!;
      const ticket = await services.tickets.create(actor, input);
      if (plans[i]!.ops) handedToOps.push(ticket.id);
      for (const step of steps) {
        if ('move' in step) {
          const { to, at, note } = step.move;
          await services.workflow.transition(actor, ticket.id, { to, at: new Date(at).toISOString(), ...(note ? { note } : {}) });
        } else {
          // Comments are written now by the service; the demo back-dates each to the moment it belongs to in the story.
          const { at, ...comment } = step.comment;
          const event = await services.workflow.comment(actor, ticket.id, comment);
          await sql`update ticket_events set created_at = ${new Date(at)} where id = ${event.id}`.execute(app.database.db);
        }
      }
      if (++done % 40 === 0) log.info(`demo data: ${done} of ${plans.length} tickets`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
  // A filled OPS log: some tickets are handed to OPS (the in-process simulator unless OPS_URL is set); the outbox
  // worker delivers them and the poller follows their status.
  for (const id of handedToOps) await services.ops.send(actor, id, { wait: false, force: false, retry: false }).catch(() => undefined);
  // Each ticket was last touched by the last thing that happened to it, not by the loading (one statement).
  await sql`update tickets t set updated_at = greatest(t.created_at, (select max(e.created_at) from ticket_events e where e.ticket_id = t.id))
    where t.project_id is not null and t.updated_at > (select max(e.created_at) from ticket_events e where e.ticket_id = t.id)`.execute(
    app.database.db,
  );
  log.info({ projects: projects.map((project) => project.key), tickets: plans.length }, 'demo data loaded');
}

/** Every demo ticket and its steps, from the seeded generator: the same story on every run. */
function planDemo(count: number, now: number): DemoPlan[] {
  const random = generator(4242);
  // Which tickets go to OPS comes from a generator of its own, so the story (and the backtest on it) stays the same.
  const toOps = generator(77);
  const plans: DemoPlan[] = [];
  for (let i = 0; i < count; i++) {
    const project = random.pick(projects);
    const customer = random.pick(customers);
    // Tickets come in at a steady rate over the last 45 days (older ones are further along). A burst in the last week
    // (a third of all tickets, as before) made the tickets that finished lately mostly the quick ones, so a backtest of
    // them scored any forecast that knew how slow tickets can be as too pessimistic (docs/forecast.md).
    const createdAt = now - random.between(0, 45) * DAY;
    const ticket: DemoTicket = {
      subject: random.pick(subjects),
      description: 'Reported via the support portal. (demo data)',
      project: project.key,
      customer_name: customer.name,
      customer_email: customer.email,
      customer_phone: customer.phone,
      contact_person: `${random.pick(['Alex', 'Sam', 'Kim', 'Robin', 'Jo'])} at ${customer.name}`,
      priority: random.pick(['low', 'medium', 'medium', 'high'] as const),
      category: random.pick(categories),
      assigned_to: random.pick(agents),
      helpdeskurl: `https://helpdesk.example/tickets/${10_000 + i}`,
      created_at: new Date(createdAt).toISOString(),
    };
    plans.push({ ticket, steps: walk(project, createdAt, now, random), createdAt, ops: toOps.next() < 0.12 });
  }
  // Created oldest first, so ticket numbers run in the order the tickets came in, as in a real helpdesk.
  return plans.sort((a, b) => a.createdAt - b.createdAt);
}

/** One ticket's moves along its workflow until the next step would be in the future. */
function walk(project: ProjectCreateInput, createdAt: number, now: number, random: ReturnType<typeof generator>): DemoStep[] {
  const steps: DemoStep[] = [];
  const targetOf = new Map(project.stages.map((stage) => [stage.key, stage.target_minutes ?? 60]));
  const move = (to: string, at: number, note?: string) => steps.push({ move: { to, at, ...(note ? { note } : {}) } });
  let at = createdAt + random.between(0.05, 2) * HOUR;
  if (at > now) return steps;
  move('intake', at);
  let step = 1;
  let detoured = false;
  while (step < path.length) {
    const current = path[step - 1];
    // Mostly within target, sometimes well past it (on the calendar's wall clock, roughly ×2 for office hours).
    const factor = random.next() < 0.75 ? random.between(0.2, 1.1) : random.between(1.2, 4);
    at += (targetOf.get(current) ?? 60) * 60_000 * factor * (project.calendar ? 2.2 : 1);
    if (at > now) return steps;
    let next = path[step];
    if (!detoured && current === 'verification' && random.next() < 0.2) {
      next = 'fix';
      detoured = true;
      move(next, at, 'Verification failed: the fix does not cover the mobile layout');
      step = path.indexOf('fix') + 1;
      continue;
    }
    if (!detoured && current === 'triage' && random.next() < 0.25) {
      detoured = true;
      move('waiting', at, 'Asked the customer for logs and the exact time of the failure');
      steps.push({ comment: { body: 'Could you send us the browser console log?', visibility: 'public', at: at + 60_000 } });
      at += random.between(4, 72) * HOUR;
      if (at > now) return steps;
      next = 'reproduce';
      step = path.indexOf('reproduce');
    }
    if (next === 'root-cause' && random.next() < 0.3) {
      steps.push({ comment: { body: 'Reproduced on staging with the customer data set.', visibility: 'internal', at: at - 60_000 } });
    }
    move(next, at);
    step += 1;
  }
  return steps;
}
