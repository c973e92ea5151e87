import { AuditLog } from './modules/audit/service.js';
import { BoardService } from './modules/board/service.js';
import { AuthService } from './modules/auth/service.js';
import { TokensService, type TokenWithUser } from './modules/auth/tokens.js';
import { FieldsService } from './modules/fields/service.js';
import { ForecastService } from './modules/forecast/service.js';
import { ImportService } from './modules/import/service.js';
import { OpsLink } from './modules/ops/link.js';
import { opsSendKind, OpsSender } from './modules/ops/sender.js';
import { OpsService } from './modules/ops/service.js';
import { OpsStatusSync } from './modules/ops/status.js';
import { EventDispatcher } from './modules/dispatch/dispatcher.js';
import { EventsService } from './modules/events/service.js';
import { MonitorService } from './modules/monitor/service.js';
import { Digests } from './modules/notifications/digests.js';
import { Mailer } from './modules/notifications/mailer.js';
import { Notifier } from './modules/notifications/notifier.js';
import { NotificationsService } from './modules/notifications/service.js';
import { Outbox } from './modules/outbox/outbox.js';
import { ProjectsService } from './modules/projects/service.js';
import type { SavedViews } from './modules/search/resolve.js';
import { StagesService } from './modules/stages/service.js';
import { TicketsService } from './modules/tickets/service.js';
import { UsersService, type UserCredentials } from './modules/users/service.js';
import { ViewsService } from './modules/views/service.js';
import { WebhookEvents } from './modules/webhooks/events.js';
import { webhookKind, WebhookSender } from './modules/webhooks/sender.js';
import { WebhooksService } from './modules/webhooks/service.js';
import { DelaySweeper } from './modules/workflow/sweeper.js';
import { WorkflowService } from './modules/workflow/service.js';
import type { ServiceContext } from './service-context.js';
import { TtlCache } from './ttl-cache.js';

/** Every service, built once per app and shared by both faces. */
export function createServices(context: ServiceContext) {
  // The audit log first: every service that changes something records it here inside its own transaction.
  const audit = new AuditLog(context);
  // The auth services use the users service; what a change to a user does to sign-ins reaches them through these
  // callbacks, called only once a request runs (after every service below exists).
  const signIns: UserCredentials = {
    endSessions: (tx, userId) => auth.endSessions(tx, userId),
    revokeTokens: (tx, userId, at) => tokens.revokeForUser(tx, userId, at),
    forget: () => tokens.forget(),
  };
  const users = new UsersService(context, audit, signIns);
  const auth = new AuthService(context, audit, users);
  // API tokens checked recently: a request need not ask the database for its credentials. Any change to users or
  // tokens through this process clears it; another process sees a revocation within TOKEN_CACHE_SECONDS.
  const credentials = new TtlCache<TokenWithUser>(context.clock, context.config.auth.tokenCacheSeconds * 1000, 10_000);
  const tokens = new TokensService(context, audit, users, credentials);
  const projects = new ProjectsService(context, audit);
  const fields = new FieldsService(context, audit, projects);
  const stages = new StagesService(context, audit);
  // A list names a saved view, which the views module keeps; its service needs this one, so a callback reaches it.
  const savedViews: SavedViews = { get: (actor, id, db) => views.get(actor, id, db) };
  const tickets = new TicketsService(context, fields, stages, audit, savedViews);
  const views = new ViewsService(context, tickets, audit);
  const workflow = new WorkflowService(context, { tickets, projects, fields, audit });
  tickets.enterFirstStage = (tx, ticket, actor, write) => workflow.enterFirstStage(tx, ticket, actor, write);
  const sweeper = new DelaySweeper(context);
  const monitor = new MonitorService(context, projects);
  const board = new BoardService(context, fields, views);
  const forecast = new ForecastService(context);
  const events = new EventsService(context, projects);
  const outbox = new Outbox(context.database.db, context.clock, {
    // Longer than any one call of any kind takes, so a live attempt's claim never runs out under it.
    leaseMs: Math.max(30_000, context.config.ops.timeoutMs * 3, context.config.webhooks.timeoutMs * 3),
    batchSize: 20,
    defaultBackoff: { baseMs: context.config.ops.retryBaseMs, maxMs: context.config.ops.retryMaxMs },
  });
  // OPS: the client and what every exchange writes (link), the outbox's sender, the hand-off, the status sync.
  const opsLink = new OpsLink(context, { outbox, tickets });
  outbox.register(opsSendKind, new OpsSender(context, { link: opsLink, tickets }));
  const ops = new OpsService(context, { outbox, link: opsLink, tickets, audit });
  const opsStatus = new OpsStatusSync(context, { link: opsLink, tickets, workflow });
  const mailer = new Mailer(context, outbox);
  const imports = new ImportService(context, fields, audit);
  // Consumers of ticket history (notifications, webhooks) register here; the server runs it.
  const dispatcher = new EventDispatcher(context.database.db, context.clock, events);
  dispatcher.register(new Notifier(context.clock, mailer, new Digests(outbox, mailer)));
  const notifications = new NotificationsService(context, mailer, { tickets, views });
  const webhooks = new WebhooksService(context, { outbox, audit });
  const webhookEvents = new WebhookEvents(context, { outbox, tickets });
  dispatcher.register(webhookEvents);
  const webhookSender = new WebhookSender(context, { audit, mailer });
  outbox.register(webhookKind, webhookSender);
  return {
    fields,
    tickets,
    views,
    stages,
    projects,
    workflow,
    sweeper,
    monitor,
    board,
    forecast,
    events,
    audit,
    auth,
    tokens,
    users,
    outbox,
    ops,
    opsLink,
    opsStatus,
    imports,
    dispatcher,
    webhooks,
    webhookEvents,
    webhookSender,
    mailer,
    notifications,
  };
}

export type Services = ReturnType<typeof createServices>;
