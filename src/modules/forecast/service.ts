import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { openDatabase, type Database, type Db } from '../../db/database.js';
import type { ServiceContext } from '../../service-context.js';
import type { Calendar } from '../projects/calendar.js';
import { forecastOne, type Forecast, type ForecastContext } from './forecast.js';
import { ForecastModel, type ModelStage } from './model.js';
import {
  ForecastRepository,
  ForecastScanRepository,
  likelyToBreach,
  HISTORY_DAYS,
  forecastInputColumn,
  type BreachLikely,
  type CurrentVisit,
  type ForecastCheck,
  type ForecastInput,
  type ForecastTicket,
  type ModelCheck,
  type ModelRow,
  type StoredForecast,
} from './repository.js';

export const REFRESH_INTERVAL_MS = 10 * 60_000;
/** How often the open tickets' forecasts are stored and checked against their projects' thresholds. */
export const SCAN_INTERVAL_MS = 2 * 60_000;
const SCAN_BATCH = 500;
const DAY_MS = 86_400_000;
/**
 * How far the refresh's look at visits started or ended reaches back past the moment a model was last known current:
 * a move stamps its visits with the clock when it is made, and commits later (or on another process's clock).
 */
const CHANGE_MARGIN_MS = 10 * 60_000;
/**
 * However unchanged its history looks, a model is recomputed at least this often (see `changedProjects`): until then
 * its window keeps the start it was computed with, so it spans up to 181 days instead of 180 (visits leave the window
 * every minute on a database with older history; a day of them in 180 moves no forecast).
 */
const MODEL_MAX_AGE_MS = DAY_MS;
/**
 * Where the scan looks ahead, in scan intervals: a ticket's stored forecast is made again at the last of these moments
 * before its forecast (same inputs, later time) crosses the threshold, moves by DRIFT or gains or loses a probability;
 * at the last one (30 minutes) in any case. The forecast is monotone in time but for the simulation's noise (the
 * longer a visit has lasted, the likelier it outlasts its due time), so a crossing between two of these moments is
 * seen at the later one, and the ticket is scanned again just before: `breach_likely` comes at the first scan past
 * the crossing, as when every ticket was forecast every scan.
 */
const LOOK_AHEAD = [1, 2, 4, 8, 15];
const DRIFT = 0.02;

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
   * Brings every project's stored model up to date with its history and builds it in this process. A model whose
   * history has not changed since it was last known current (see `staleModels`) is kept, so a restart or a refresh on
   * a quiet database reads the stored models instead of recomputing them from 180 days of visits; `force` recomputes
   * them all (`POST /api/forecast/refresh`). A call while a refresh runs (the timer's, another request's) joins it
   * instead of starting a second one: they would queue for the history connection.
   */
  refresh(force = false): Promise<number> {
    this.refreshing ??= this.rebuild(force).finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async rebuild(force: boolean): Promise<number> {
    const now = this.clock.now();
    const since = new Date(now.getTime() - HISTORY_DAYS * DAY_MS);
    const projects = await this.repository.projectIds(this.db);
    // Before the history is read: a change it does not see is in the change log past this.
    const logged = await this.repository.logPosition(this.db);
    const checks = await this.repository.modelChecks(this.db, projects);
    const stale = force ? projects : await this.staleModels(checks, now, logged);
    if (stale.length > 0) {
      const history = await this.history();
      const models = await this.repository.modelInputs(history, stale, since);
      const calendarSet = new Map(checks.map((check) => [check.project_id, check.calendar_set]));
      for (const [projectId, model] of models) {
        await this.repository.saveModel(this.db, projectId, model, now, { logged, businessTime: calendarSet.get(projectId) ?? false });
      }
    }
    // Built here, in the background job, so this process's requests do not wait for it; only models new to it.
    const rows = await this.repository.models(this.db, projects, false);
    const unbuilt = rows.filter((row) => row.refreshed_at && this.built.get(row.project_id)?.refreshedAt !== row.refreshed_at.getTime());
    await this.build(
      unbuilt.map((row) => row.project_id),
      true,
    );
    return projects.length;
  }

  /**
   * The projects whose stored model may differ from what their history gives now: none stored (or stored before
   * migration 0026), the workflow's stages or the calendar's presence changed, older than MODEL_MAX_AGE_MS, or visits
   * started, ended or were imported since it was last known current
   * (`ForecastRepository.changedProjects`: index ranges, empty on a quiet database). The others are marked current.
   */
  private async staleModels(checks: readonly ModelCheck[], now: Date, logged: string): Promise<string[]> {
    const stages = await this.repository.stageLists(
      this.db,
      checks.map((check) => check.project_id),
    );
    const stale: string[] = [];
    const current: (ModelCheck & { checked_at: Date; checked_xmin: string })[] = [];
    for (const check of checks) {
      const { checked_at, checked_xmin, refreshed_at } = check;
      const unusable =
        !refreshed_at ||
        !checked_at ||
        !checked_xmin ||
        check.business_time !== check.calendar_set ||
        // A clock behind the one that checked it (another process's, or a test's): the window may have moved back.
        checked_at.getTime() > now.getTime() + CHANGE_MARGIN_MS ||
        now.getTime() - refreshed_at.getTime() >= MODEL_MAX_AGE_MS ||
        !sameStages(check.stages ?? [], stages.get(check.project_id) ?? []);
      if (unusable) stale.push(check.project_id);
      else current.push({ ...check, checked_at, checked_xmin });
    }
    if (current.length === 0) return stale;
    const checkedAt = Math.min(...current.map((check) => check.checked_at.getTime()));
    const changed = await this.repository.changedProjects(
      this.db,
      current.map((check) => check.project_id),
      {
        recent: new Date(checkedAt - CHANGE_MARGIN_MS),
        // The earliest: projects checked together share it.
        logged: current.map((check) => check.checked_xmin).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0]!,
      },
    );
    const unchanged = current.filter((check) => !changed.has(check.project_id)).map((check) => check.project_id);
    await this.repository.markChecked(this.db, unchanged, now, logged);
    return [...stale, ...changed];
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
    const now = this.clock.now();
    for (const [id, forecast] of await this.forecasters(open, rows, visits)) out.set(id, forecast(now));
    return out;
  }

  /** Each ticket's forecast as a function of the moment it is made at, for the tickets whose project has a model. */
  private async forecasters(
    open: readonly ForecastTicket[],
    rows: ModelRow[],
    visits: Pick<CurrentVisit, 'ticket_id' | 'definition_id' | 'stage_start_time' | 'due_at'>[],
  ): Promise<Map<string, (at: Date) => Forecast>> {
    const out = new Map<string, (at: Date) => Forecast>();
    const contexts = await this.contexts(rows);
    const visitOf = new Map(visits.map((visit) => [visit.ticket_id, visit]));
    for (const ticket of open) {
      const built = contexts.get(ticket.project_id!);
      if (!built) continue;
      const visit = visitOf.get(ticket.id);
      // A visit of another project's workflow (the ticket moved) is no stage of this one.
      const own = visit && built.stageIds.has(visit.definition_id) ? visit : undefined;
      const subject = {
        id: ticket.id,
        priority: ticket.priority,
        visit: own ? { definitionId: own.definition_id, start: own.stage_start_time, dueAt: own.due_at } : null,
        sla: { usedMs: Number(ticket.sla_used_ms), segmentStart: ticket.sla_segment_start, dueAt: ticket.sla_due_at },
      };
      out.set(ticket.id, (at) => forecastOne(built.context, subject, at));
    }
    return out;
  }

  async forTicket(ticket: ForecastTicket & { forecast_input?: ForecastInput | null }): Promise<Forecast | null> {
    return (await this.forTickets([ticket])).get(ticket.id) ?? null;
  }

  /**
   * Stores the open tickets' forecasts (the Delayed view and the ticket list sort and filter by them) and records
   * `breach_likely` for each visit whose forecast first reaches its project's threshold. Only the tickets whose
   * forecast can have changed are forecast (`ForecastScanRepository.dueTickets`): those no scan has seen, those
   * updated since the last scan, those of a project whose settings or model changed, and those whose recheck moment
   * has come — the moment, found by looking ahead on the same inputs (LOOK_AHEAD), just before the forecast would cross
   * the threshold or move by DRIFT, and 30 minutes at most. Safe in several processes.
   */
  async scan(): Promise<BreachLikely[]> {
    const recorded: BreachLikely[] = [];
    const now = this.clock.now();
    const logged = await this.repository.logPosition(this.db);
    const last = await this.scans.lastScan(this.db);
    // Before any scan: every closed ticket's forecast goes; later scans drop those of the tickets closed since.
    if (!last) await this.scans.dropClosed(this.db);
    const projects = await this.repository.models(this.db, await this.repository.projectIds(this.db), false);
    const modelled = new Map(projects.filter((project) => project.refreshed_at).map((project) => [project.project_id, project]));
    const settings = new Map(
      [...modelled.values()].map((project) => [
        project.project_id,
        digest([project.refreshed_at!.getTime(), project.calendar, project.ticket_target_minutes, project.breach_likely_threshold]),
      ]),
    );
    const found = await this.scans.dueTickets(this.db, settings, last, now);
    await this.scans.drop(
      this.db,
      found.filter((ticket) => ticket.status === 'closed').map((ticket) => ticket.id),
    );
    const due = found.filter((ticket) => ticket.status !== 'closed');
    const byProject = new Map<string | null, ForecastTicket[]>();
    for (const ticket of due) {
      const key = ticket.project_id && modelled.has(ticket.project_id) ? ticket.project_id : null;
      // Appended in place: copying the list on every ticket was quadratic (17 s for one project's 57,000 open tickets
      // at a million, the event loop blocked for all of it).
      const list = byProject.get(key);
      if (list) list.push(ticket);
      else byProject.set(key, [ticket]);
    }
    // Tickets in no project with a model: no forecast to make (nor any stored one to drop, as before); seen again in 30 minutes.
    const later = new Date(now.getTime() + LOOK_AHEAD.at(-1)! * SCAN_INTERVAL_MS);
    await this.scans.storeChecks(
      this.db,
      (byProject.get(null) ?? []).map((ticket) => ({
        ticket_id: ticket.id,
        project_id: ticket.project_id,
        settings: null,
        recheck_at: later,
      })),
    );
    for (const project of modelled.values()) {
      const open = byProject.get(project.project_id) ?? [];
      const threshold = project.breach_likely_threshold;
      for (let from = 0; from < open.length; from += SCAN_BATCH) {
        const tickets = open.slice(from, from + SCAN_BATCH);
        const visits = await this.repository.currentVisits(
          this.db,
          tickets.flatMap((ticket) => (ticket.current_stage_id ? [ticket.current_stage_id] : [])),
        );
        const forecasters = await this.forecasters(tickets, [project], visits);
        const at = this.clock.now();
        const stored: StoredForecast[] = [];
        const checks: ForecastCheck[] = [];
        for (const ticket of tickets) {
          const forecaster = forecasters.get(ticket.id);
          const storedAt = (when: Date) => storable(ticket, project.project_id, forecaster?.(when));
          const made = storedAt(at);
          if (made) stored.push(made);
          let ahead = forecaster ? 0 : LOOK_AHEAD.at(-1)!;
          for (const steps of forecaster ? LOOK_AHEAD : []) {
            if (changes(made, storedAt(new Date(at.getTime() + steps * SCAN_INTERVAL_MS)), threshold)) break;
            ahead = steps;
          }
          checks.push({
            ticket_id: ticket.id,
            project_id: project.project_id,
            settings: settings.get(project.project_id)!,
            recheck_at: new Date(at.getTime() + ahead * SCAN_INTERVAL_MS),
          });
        }
        recorded.push(
          ...(await this.db.transaction().execute(async (tx) => {
            await this.scans.store(
              tx,
              tickets.map((ticket) => ticket.id),
              stored,
              at,
            );
            await this.scans.storeChecks(tx, checks);
            return this.scans.recordLikely(
              tx,
              stored.filter((forecast) => forecast.probability >= threshold),
              threshold,
              at,
            );
          })),
        );
      }
    }
    await this.scans.scanned(this.db, logged);
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

/** What the scan stores of a ticket's forecast: none without a probability (or a current stage). */
function storable(ticket: ForecastTicket, projectId: string, forecast: Forecast | undefined): StoredForecast | null {
  const probabilities = [forecast?.stage_breach_probability, forecast?.ticket_breach_probability].filter(
    (p): p is number => typeof p === 'number',
  );
  if (!forecast || probabilities.length === 0 || !ticket.current_stage_id) return null;
  return {
    ticket_id: ticket.id,
    project_id: projectId,
    stage_id: ticket.current_stage_id,
    probability: Math.max(...probabilities),
    stage_probability: forecast.stage_breach_probability,
    ticket_probability: forecast.ticket_breach_probability,
    expected_finish_at: forecast.expected_finish_at,
  };
}

/** Whether a stored forecast `before` differs materially from `after`: see LOOK_AHEAD. */
function changes(before: StoredForecast | null, after: StoredForecast | null, threshold: number): boolean {
  if (!before || !after) return before !== after;
  if (before.probability >= threshold !== after.probability >= threshold) return true;
  const moved = (a: number | null, b: number | null) => (a === null || b === null ? a !== b : Math.abs(a - b) >= DRIFT);
  return (
    moved(before.probability, after.probability) ||
    moved(before.stage_probability, after.stage_probability) ||
    moved(before.ticket_probability, after.ticket_probability)
  );
}

/** A short digest of what a project's forecasts rest on (compared by the scan, never read back). */
function digest(parts: unknown[]): string {
  return createHash('sha1').update(JSON.stringify(parts)).digest('base64url');
}

/** Whether a stored model's stages are the workflow's now (by id, final and pausing). */
function sameStages(stored: readonly ModelStage[], now: readonly ModelStage[]): boolean {
  if (stored.length !== now.length) return false;
  const byId = new Map(stored.map((stage) => [stage.id, stage]));
  return now.every((stage) => {
    const was = byId.get(stage.id);
    return was !== undefined && was.final === stage.final && was.pauses === stage.pauses;
  });
}
