import type { Clock } from '../../clock.js';
import type { Db } from '../../db/database.js';
import { Periodic } from '../../periodic.js';
import type { ServiceContext } from '../../services.js';
import type { Calendar } from '../projects/calendar.js';
import type { TicketView } from '../tickets/service.js';
import { forecastOne, type Forecast, type ForecastContext } from './forecast.js';
import { ForecastModel } from './model.js';
import { ForecastRepository, HISTORY_DAYS } from './repository.js';

export const REFRESH_INTERVAL_MS = 10 * 60_000;
const DAY_MS = 86_400_000;

type Built = { refreshedAt: number; context: ForecastContext; stageIds: Set<string> };

/**
 * Forecasts for open tickets (issue 23). A project's model is rebuilt from its history by a periodic refresh (one
 * grouped scan of the visits ended in the last HISTORY_DAYS); a request reads when each model was refreshed (one small
 * query), builds a changed one once per process, and forecasts its tickets in memory.
 */
export class ForecastService {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly repository = new ForecastRepository();
  private readonly built = new Map<string, Built>();
  private periodic: Periodic | null = null;

  constructor(context: ServiceContext) {
    this.db = context.database.db;
    this.clock = context.clock;
  }

  /** Rebuilds every project's model from its history. */
  async refresh(): Promise<number> {
    const now = this.clock.now();
    const since = new Date(now.getTime() - HISTORY_DAYS * DAY_MS);
    const projects = await this.repository.projectIds(this.db);
    for (const projectId of projects) {
      const model = await this.repository.modelInput(this.db, projectId, since);
      await this.repository.saveModel(this.db, projectId, model, now);
    }
    return projects.length;
  }

  /** Each open ticket's forecast by ticket id; a ticket in no project with a workflow (or closed) has none. */
  async forTickets(tickets: readonly TicketView[]): Promise<Map<string, Forecast | null>> {
    const out = new Map<string, Forecast | null>();
    const open = tickets.filter((ticket) => ticket.status !== 'closed' && ticket.project_id !== null);
    for (const ticket of tickets) out.set(ticket.id, null);
    if (open.length === 0) return out;
    const contexts = await this.contexts([...new Set(open.map((ticket) => ticket.project_id!))]);
    const visits = await this.repository.currentVisits(
      this.db,
      open.flatMap((ticket) => (ticket.current_stage_id ? [ticket.current_stage_id] : [])),
    );
    const visitOf = new Map(visits.map((visit) => [visit.ticket_id, visit]));
    const now = this.clock.now();
    for (const ticket of open) {
      const built = contexts.get(ticket.project_id!);
      if (!built) continue;
      const visit = visitOf.get(ticket.id);
      // A visit of another project's workflow (the ticket moved) is no stage of this one.
      const own = visit && built.stageIds.has(visit.definition_id) ? visit : undefined;
      out.set(
        ticket.id,
        forecastOne(
          built.context,
          {
            id: ticket.id,
            priority: ticket.priority,
            visit: own ? { definitionId: own.definition_id, start: own.stage_start_time, dueAt: own.due_at } : null,
            sla: { usedMs: Number(ticket.sla_used_ms), segmentStart: ticket.sla_segment_start, dueAt: ticket.sla_due_at },
          },
          now,
        ),
      );
    }
    return out;
  }

  async forTicket(ticket: TicketView): Promise<Forecast | null> {
    return (await this.forTickets([ticket])).get(ticket.id) ?? null;
  }

  /** The projects' built models, rebuilt where a refresh has happened since; a project never refreshed has none. */
  private async contexts(projectIds: string[]): Promise<Map<string, Built>> {
    const rows = await this.repository.models(this.db, projectIds, false);
    const stale = rows.filter((row) => row.refreshed_at && this.built.get(row.project_id)?.refreshedAt !== row.refreshed_at.getTime());
    const fresh = await this.repository.models(
      this.db,
      stale.map((row) => row.project_id),
      true,
    );
    for (const row of fresh) {
      if (!row.input || !row.stages || !row.refreshed_at) continue;
      const model = new ForecastModel(row.input, row.stages);
      const pausing = new Set(row.stages.filter((stage) => stage.pauses).map((stage) => stage.id));
      this.built.set(row.project_id, {
        refreshedAt: row.refreshed_at.getTime(),
        stageIds: new Set(row.stages.map((stage) => stage.id)),
        context: { model, calendar: null, ticketTargetMinutes: null, pauses: (id) => pausing.has(id) },
      });
    }
    const out = new Map<string, Built>();
    for (const row of rows) {
      const built = this.built.get(row.project_id);
      if (!built || !row.refreshed_at) continue;
      // The project's calendar and target as they are now; the history as of the last refresh.
      built.context = { ...built.context, calendar: row.calendar as Calendar | null, ticketTargetMinutes: row.ticket_target_minutes };
      out.set(row.project_id, built);
    }
    return out;
  }

  /** Refreshes every `intervalMs` (and once at start) until `stop()`; only the running server starts this. */
  start(onError: (error: unknown) => void, intervalMs = REFRESH_INTERVAL_MS): void {
    this.periodic ??= new Periodic(() => this.refresh(), onError);
    this.periodic.start(intervalMs);
    this.refresh().catch(onError);
  }

  async stop(): Promise<void> {
    await this.periodic?.stop();
  }
}
