import type { Clock } from '../../clock.js';
import { openDatabase, type Database, type Db } from '../../db/database.js';
import type { ServiceContext } from '../../service-context.js';
import type { Calendar } from '../projects/calendar.js';
import { forecastOne, type Forecast, type ForecastContext } from './forecast.js';
import { ForecastModel } from './model.js';
import {
  ForecastRepository,
  ForecastScanRepository,
  likelyToBreach,
  HISTORY_DAYS,
  forecastInputColumn,
  type BreachLikely,
  type CurrentVisit,
  type ForecastInput,
  type ForecastTicket,
  type ModelRow,
  type StoredForecast,
} from './repository.js';

export const REFRESH_INTERVAL_MS = 10 * 60_000;
/** How often every open ticket's forecast is stored and checked against its project's threshold. */
export const SCAN_INTERVAL_MS = 2 * 60_000;
const SCAN_BATCH = 500;
const DAY_MS = 86_400_000;

export type { ForecastInput };

type Built = { refreshedAt: number; context: ForecastContext; stageIds: Set<string> };

/**
 * Forecasts for open tickets (issue 23). A project's model is rebuilt from its history by a periodic refresh (one
 * grouped scan of the visits ended in the last HISTORY_DAYS), which also builds it in memory in the refreshing
 * process; a request reads when each model was refreshed (one small query) and its tickets' current visits (one
 * more), and forecasts them in memory by table lookups — the same two statements and the same work per ticket at
 * any number of tickets.
 */
export class ForecastService {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly repository = new ForecastRepository();
  private readonly scans = new ForecastScanRepository();
  private readonly built = new Map<string, Built>();
  private readonly building = new Map<string, Promise<void>>();
  private readonly databaseUrl: string | null;
  private historyDatabase: Promise<Database> | null = null;
  private refreshing: Promise<number> | null = null;

  constructor(context: ServiceContext) {
    this.db = context.database.db;
    this.clock = context.clock;
    this.databaseUrl = context.config.databaseUrl;
  }

  /**
   * Where the refresh reads a project's history: its grouped scans of 180 days of visits outlast a request's query
   * timeout at scale (the moves alone took 13.6 s at 200,000 tickets on a busy machine), so on a PostgreSQL server
   * they get one connection of their own without it. The embedded database has no such timeout.
   */
  private async history(): Promise<Db> {
    if (!this.databaseUrl) return this.db;
    this.historyDatabase ??= openDatabase({ databaseUrl: this.databaseUrl, poolSize: 1, queryTimeoutMs: 0, migrate: false });
    this.historyDatabase.catch(() => (this.historyDatabase = null));
    return (await this.historyDatabase).db;
  }

  /**
   * Rebuilds every project's model from its history. A call while a rebuild runs (the timer's, another request's)
   * joins it instead of starting a second one: they would queue for the history connection.
   */
  refresh(): Promise<number> {
    this.refreshing ??= this.rebuild().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async rebuild(): Promise<number> {
    const now = this.clock.now();
    const since = new Date(now.getTime() - HISTORY_DAYS * DAY_MS);
    const projects = await this.repository.projectIds(this.db);
    const history = await this.history();
    for (const projectId of projects) {
      const model = await this.repository.modelInput(history, projectId, since);
      await this.repository.saveModel(this.db, projectId, model, now);
    }
    // Built here, in the background job, so this process's requests do not wait for it.
    await this.build(projects, true);
    return projects.length;
  }

  /**
   * What `forTickets` reads for a ticket, as a column of its row (`forecast_input`): a ticket read with it is forecast
   * without a statement of its own (the model is built in memory, as before).
   */
  readonly inputColumn = forecastInputColumn;

  /**
   * Each open ticket's forecast by ticket id; a ticket in no project with a workflow (or closed) has none. Tickets
   * read with `inputColumn` need no query; others cost two (when each model was refreshed, the current visits).
   */
  async forTickets(
    tickets: readonly (ForecastTicket & { forecast_input?: ForecastInput | null })[],
  ): Promise<Map<string, Forecast | null>> {
    const out = new Map<string, Forecast | null>();
    const open = tickets.filter((ticket) => ticket.status !== 'closed' && ticket.project_id !== null);
    for (const ticket of tickets) out.set(ticket.id, null);
    if (open.length === 0) return out;
    let rows: ModelRow[];
    let visits: Pick<CurrentVisit, 'ticket_id' | 'definition_id' | 'stage_start_time' | 'due_at'>[];
    if (open.every((ticket) => ticket.forecast_input !== undefined)) {
      const inputs = open.flatMap((ticket) => (ticket.forecast_input ? [{ ticket, input: ticket.forecast_input }] : []));
      rows = [...new Map(inputs.map(({ input }) => [input.project_id, modelRowOf(input)])).values()];
      visits = inputs.flatMap(({ ticket, input }) =>
        input.visit
          ? [
              {
                ticket_id: ticket.id,
                definition_id: input.visit.definition_id,
                stage_start_time: new Date(input.visit.stage_start_time),
                due_at: input.visit.due_at === null ? null : new Date(input.visit.due_at),
              },
            ]
          : [],
      );
    } else {
      rows = await this.repository.models(this.db, [...new Set(open.map((ticket) => ticket.project_id!))], false);
      visits = await this.repository.currentVisits(
        this.db,
        open.flatMap((ticket) => (ticket.current_stage_id ? [ticket.current_stage_id] : [])),
      );
    }
    const contexts = await this.contexts(rows);
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

  async forTicket(ticket: ForecastTicket & { forecast_input?: ForecastInput | null }): Promise<Forecast | null> {
    return (await this.forTickets([ticket])).get(ticket.id) ?? null;
  }

  /**
   * Stores every open ticket's forecast (the Delayed view and the ticket list sort and filter by it) and records
   * `breach_likely` for each visit whose forecast first reaches its project's threshold. Safe in several processes.
   */
  async scan(): Promise<BreachLikely[]> {
    const recorded: BreachLikely[] = [];
    await this.scans.dropClosed(this.db);
    const projects = await this.repository.models(this.db, await this.repository.projectIds(this.db), false);
    for (const project of projects) {
      if (!project.refreshed_at) continue;
      for (let after = ''; ;) {
        const tickets = await this.scans.openTickets(this.db, project.project_id, after, SCAN_BATCH);
        if (tickets.length === 0) break;
        after = tickets.at(-1)!.id;
        const forecasts = await this.forTickets(tickets);
        const now = this.clock.now();
        const stored: StoredForecast[] = [];
        for (const ticket of tickets) {
          const forecast = forecasts.get(ticket.id);
          const probabilities = [forecast?.stage_breach_probability, forecast?.ticket_breach_probability].filter(
            (p): p is number => typeof p === 'number',
          );
          if (!forecast || probabilities.length === 0 || !ticket.current_stage_id) continue;
          stored.push({
            ticket_id: ticket.id,
            project_id: project.project_id,
            stage_id: ticket.current_stage_id,
            probability: Math.max(...probabilities),
            stage_probability: forecast.stage_breach_probability,
            ticket_probability: forecast.ticket_breach_probability,
            expected_finish_at: forecast.expected_finish_at,
          });
        }
        const threshold = project.breach_likely_threshold;
        recorded.push(
          ...(await this.db.transaction().execute(async (tx) => {
            await this.scans.store(
              tx,
              tickets.map((ticket) => ticket.id),
              stored,
              now,
            );
            return this.scans.recordLikely(
              tx,
              stored.filter((forecast) => forecast.probability >= threshold),
              threshold,
              now,
            );
          })),
        );
        if (tickets.length < SCAN_BATCH) break;
      }
    }
    return recorded;
  }

  /** Open tickets likely to breach (by their stored forecasts), most likely first. */
  likely(projectKey: string | undefined, limit: number) {
    return likelyToBreach(this.db, projectKey, limit);
  }

  /**
   * The projects' built models. A project whose model another process refreshed since this one built it keeps
   * serving the build it has while the new one is built in the background (so it lags by at most the time that takes;
   * this process's own refresh builds before it returns); only a project with no build yet is built in the request.
   * A project never refreshed has none.
   */
  private async contexts(rows: readonly ModelRow[]): Promise<Map<string, Built>> {
    const stale = rows.filter((row) => row.refreshed_at && this.built.get(row.project_id)?.refreshedAt !== row.refreshed_at.getTime());
    for (const row of stale) if (this.built.has(row.project_id)) this.buildLater(row.project_id);
    await this.build(stale.filter((row) => !this.built.has(row.project_id)).map((row) => row.project_id));
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

  /**
   * Reads the projects' stored models and builds them: the durations, the moves and, simulated ahead, the path after
   * each stage (yielding to other work between stages when `yielding`).
   */
  private async build(projectIds: string[], yielding = false): Promise<void> {
    for (const row of await this.repository.models(this.db, projectIds, true)) {
      if (!row.input || !row.stages || !row.refreshed_at) continue;
      const model = new ForecastModel(row.input, row.stages);
      const pausing = new Set(row.stages.filter((stage) => stage.pauses).map((stage) => stage.id));
      const pauses = (id: string) => pausing.has(id);
      for (const _ of model.prepare(pauses)) if (yielding) await new Promise((resolve) => setImmediate(resolve));
      this.built.set(row.project_id, {
        refreshedAt: row.refreshed_at.getTime(),
        stageIds: new Set(row.stages.map((stage) => stage.id)),
        context: {
          model,
          calendar: row.calendar as Calendar | null,
          ticketTargetMinutes: row.ticket_target_minutes,
          pauses,
        },
      });
    }
  }

  /** Builds a project's newer model in the background, once however many requests notice it. */
  private buildLater(projectId: string): void {
    if (this.building.has(projectId)) return;
    const done = this.build([projectId], true)
      .catch(() => {}) // the next request that notices tries again
      .finally(() => this.building.delete(projectId));
    this.building.set(projectId, done);
  }

  /** The history connection (PostgreSQL) and any model still building; the background jobs (src/jobs/) are stopped before this. */
  async close(): Promise<void> {
    await Promise.all([...this.building.values()]);
    const history = this.historyDatabase;
    this.historyDatabase = null;
    if (history) await history.then((database) => database.close()).catch(() => {});
  }
}

/** A `ForecastInput` as the `models` row (without the model) it stands for. */
function modelRowOf(input: ForecastInput): ModelRow {
  return {
    project_id: input.project_id,
    calendar: input.calendar,
    ticket_target_minutes: input.ticket_target_minutes,
    breach_likely_threshold: input.breach_likely_threshold,
    input: null,
    stages: null,
    refreshed_at: input.refreshed_ms === null ? null : new Date(Number(input.refreshed_ms)),
  };
}
