import { newId } from '../../ids.js';
import type { Readable } from 'node:stream';
import { isoTime, type Clock } from '../../clock.js';
import type { Db, Tx } from '../../db/database.js';
import type { AuditLog } from '../audit/service.js';
import type { ServiceContext } from '../../service-context.js';
import { AppError } from '../../errors.js';
import { assertCan, type Actor } from '../access/policy.js';
import type { FieldDefinitionRow } from '../../db/types.js';
import type { FieldsService } from '../fields/service.js';
import { valueFromText } from '../fields/values.js';
import { ImportRepository, type ImportEventRow, type ImportStageRow, type ImportTicketRow } from './repository.js';
import { replayVisits } from './replay.js';
import { readRows, validateRow, type ImportFormat, type ImportRow } from './rows.js';

export type ImportOptions = { format: ImportFormat; strict: boolean; batchSize?: number };

export type ImportError = { line: number; reason: string };

export type ImportReport = {
  format: ImportFormat;
  strict: boolean;
  /** Rows read (blank lines not counted). */
  rows: number;
  imported: number;
  /** Rows whose external id was imported before: skipped, not an error. */
  existing: number;
  rejected: number;
  /** True when `strict` and any row was rejected: nothing was written. */
  refused: boolean;
  /** The first `MAX_LISTED_ERRORS` rejected rows with their line and reason. */
  errors: ImportError[];
  seconds: number;
  tickets_per_second: number;
};

export const MAX_LISTED_ERRORS = 1000;

const DEFAULT_BATCH_SIZE = 2000;
/** Batches written at once (without `strict`): PGlite is one connection, a server gets a few of its pool's. */
const CONCURRENCY = { pglite: 1, postgres: 3 } as const;
const DEADLOCK = '40P01';
/** An import of at least this many tickets refreshes the planner statistics of the tables it filled. */
const ANALYZE_AFTER = 10_000;

class Refused extends Error {}

type BatchOutcome = { imported: number; existing: number; rejected: ImportError[] };

const iso = isoTime;

export class ImportService {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly repository: ImportRepository;
  private readonly concurrency: number;

  constructor(
    context: ServiceContext,
    private readonly fields: FieldsService,
    private readonly audit: AuditLog,
  ) {
    this.db = context.database.db;
    this.repository = new ImportRepository(context.database.stageRows);
    this.concurrency = CONCURRENCY[context.database.kind];
    this.clock = context.clock;
  }

  /**
   * Imports tickets with their stage visits. Without `strict`, bad rows are reported and skipped and each batch
   * commits on its own; with `strict`, everything is one transaction that is rolled back if any row is bad.
   */
  async run(actor: Actor, source: Readable, options: ImportOptions): Promise<ImportReport> {
    assertCan(actor, 'ticket:import');
    const started = performance.now();
    const report: ImportReport = {
      format: options.format,
      strict: options.strict,
      rows: 0,
      imported: 0,
      existing: 0,
      rejected: 0,
      refused: false,
      errors: [],
      seconds: 0,
      tickets_per_second: 0,
    };
    const reject = (line: number, reason: string) => {
      report.rejected += 1;
      if (report.errors.length < MAX_LISTED_ERRORS) return void report.errors.push({ line, reason });
      // Batches written at once finish in any order: the list keeps the first lines, not the first reported.
      const last = report.errors.reduce((at, error, index) => (error.line > report.errors[at]!.line ? index : at), 0);
      if (line < report.errors[last]!.line) report.errors[last] = { line, reason };
    };
    const apply = (outcome: BatchOutcome) => {
      report.imported += outcome.imported;
      report.existing += outcome.existing;
      for (const error of outcome.rejected) reject(error.line, error.reason);
    };
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;

    const consume = async (write: (batch: ImportRow[]) => Promise<void>) => {
      let batch: ImportRow[] = [];
      for await (const row of readRows(source, options.format)) {
        report.rows += 1;
        const checked = 'error' in row ? row : validateRow(row.line, row.record);
        if ('error' in checked) reject(checked.line, checked.error);
        else batch.push(checked);
        if (batch.length >= batchSize) {
          await write(batch);
          batch = [];
        }
      }
      if (batch.length) await write(batch);
    };

    if (options.strict) {
      try {
        await this.db.transaction().execute(async (tx) => {
          await consume(async (batch) => {
            // After the first bad row nothing more is written; the rest is still read, to report every bad row.
            if (report.rejected === 0) apply(await this.writeAudited(tx, actor, batch));
          });
          if (report.rejected > 0) throw new Refused();
        });
      } catch (error) {
        if (!(error instanceof Refused)) throw error;
        report.refused = true;
        report.imported = 0;
        report.existing = 0;
      }
    } else {
      // Batches commit on their own, so on a server several run at once (each on its own connection): the server's
      // index upkeep then uses more than one core, and the next batch is read and timed while earlier ones are written.
      const writing = new Set<Promise<void>>();
      const writeBatch = async (batch: ImportRow[], retry = true): Promise<void> => {
        try {
          apply(await this.db.transaction().execute((tx) => this.writeAudited(tx, actor, batch)));
        } catch (error) {
          // Two batches naming the same external ids in another order may deadlock: the loser runs once more.
          if (retry && (error as { code?: string }).code === DEADLOCK) return writeBatch(batch, false);
          // The batch rolled back as a whole: each of its rows is reported, none is half-written.
          for (const row of batch) reject(row.line, `the database refused its batch: ${(error as Error).message}`);
        }
      };
      await consume(async (batch) => {
        const write: Promise<void> = writeBatch(batch).finally(() => writing.delete(write));
        writing.add(write);
        if (writing.size >= this.concurrency) await Promise.race(writing);
      });
      await Promise.all(writing);
    }
    // A large load changes the tables' sizes enough to mislead the planner until their statistics are refreshed.
    if (report.imported >= ANALYZE_AFTER) await this.repository.refreshStatistics(this.db);
    report.errors.sort((a, b) => a.line - b.line);
    report.seconds = Math.round(performance.now() - started) / 1000;
    report.tickets_per_second = report.seconds > 0 ? Math.round(report.imported / report.seconds) : report.imported;
    return report;
  }

  /** One batch and its audit entry, in the batch's transaction: a batch committed is a batch recorded. */
  private async writeAudited(tx: Tx, actor: Actor, batch: ImportRow[]): Promise<BatchOutcome> {
    const outcome = await this.write(tx, actor, batch);
    await this.audit.record(tx, {
      actor,
      action: 'ticket.imported',
      target: null,
      details: {
        lines: [batch[0].line, batch[batch.length - 1].line],
        imported: outcome.imported,
        existing: outcome.existing,
        rejected: outcome.rejected.length,
      },
    });
    return outcome;
  }

  /** A row's custom field values as the API checks them on create (CSV text read by each field's type first). */
  private async fieldValues(tx: Tx, actor: Actor, definitions: readonly FieldDefinitionRow[], row: ImportRow) {
    let given = row.ticket.fields;
    if (given && row.fieldsAsText) {
      const typeOf = new Map(definitions.map((definition) => [definition.key, definition.type]));
      given = Object.fromEntries(
        Object.entries(given).map(([key, value]) => [
          key,
          typeof value === 'string' && typeOf.has(key) ? valueFromText(typeOf.get(key)!, value) : value,
        ]),
      );
    }
    return this.fields.valuesForCreate(tx, actor, definitions, given, definitions.length === 0);
  }

  /** Writes one batch; the outcome counts only once the batch's transaction commits. */
  private async write(tx: Tx, actor: Actor, batch: ImportRow[]): Promise<BatchOutcome> {
    const rejected: ImportError[] = [];
    const reject = (line: number, reason: string) => rejected.push({ line, reason });
    const firstLine = new Map<string, number>();
    const unique = batch.filter((row) => {
      const seen = firstLine.get(row.externalId);
      if (seen === undefined) return (firstLine.set(row.externalId, row.line), true);
      reject(row.line, `external_id: repeats line ${seen}`);
      return false;
    });
    const existing = await this.repository.existingExternalIds(
      tx,
      unique.map((row) => row.externalId),
    );
    const fresh = unique.filter((row) => !existing.has(row.externalId));

    const projects = [...new Set(fresh.flatMap((row) => (row.ticket.project ? [row.ticket.project] : [])))];
    const { workflowOf, definitions } = await this.repository.workflows(tx, projects);
    const fieldsOf = new Map<string, FieldDefinitionRow[]>();
    for (const project of projects) fieldsOf.set(project, await this.fields.definitionsForProjectName(tx, project));
    const now = this.clock.now();
    const bulk = await this.repository.enterBulkMode(tx);
    const tickets: ImportTicketRow[] = [];
    const stages: ImportStageRow[] = [];
    const current: { ticket_id: string; stage_id: string }[] = [];
    const events: ImportEventRow[] = [];
    const lineOf = new Map<string, number>();
    const currentOf = new Map<string, string>();

    for (const row of fresh) {
      const { ticket: input } = row;
      const unknownKey = row.visits.findIndex((visit) => visit.key !== null && !definitions.has(`${input.project}\u0000${visit.key}`));
      if (unknownKey >= 0) {
        reject(row.line, `visits.${unknownKey}.key: project ${input.project ?? '(none)'} has no stage ${row.visits[unknownKey]!.key}`);
        continue;
      }
      let fieldValues: Record<string, unknown>;
      try {
        fieldValues = await this.fieldValues(tx, actor, fieldsOf.get(input.project ?? '') ?? [], row);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        reject(row.line, error.details.map((detail) => `${detail.field}: ${detail.problem}`).join('; '));
        continue;
      }
      const id = input.id ?? newId();
      const visits = [...row.visits].sort((a, b) => a.stage_start_time.getTime() - b.stage_start_time.getTime());
      // Without its own creation time, an imported ticket began with its first visit.
      const createdAt = input.created_at ?? visits[0]?.stage_start_time ?? now;
      let updatedAt = createdAt;
      let openStage: string | null = null;
      const visitNumbers = new Map<string | null, number>();
      const keyed = visits.map((visit) => ({
        definitionId: visit.key === null ? null : definitions.get(`${input.project}\u0000${visit.key}`)!,
        start: visit.stage_start_time,
        end: visit.stage_end_time ?? null,
        dueAt: visit.due_at ?? null,
      }));
      const workflow = input.project ? workflowOf.get(input.project) : undefined;
      const noWorkflow = { calendar: null, atRiskThreshold: 1, ticketTargetMinutes: null, definitionOf: new Map() };
      const replay = replayVisits(workflow ?? noWorkflow, createdAt, keyed);
      const open = { atRisk: null as Date | null, due: null as Date | null };
      const earliest = (a: Date | null, b: Date | null) => (a && (!b || a < b) ? a : b);
      const moves: { at: Date; order: number; event: ImportEventRow }[] = [];
      let from: string | null = null;
      visits.forEach((visit, index) => {
        const stageId = newId();
        // A ticket closed by its final visit stays on it, as after the transition into it.
        if (index === visits.length - 1 && replay.ticket.status?.status === 'closed') openStage = stageId;
        const timed = replay.visits[index]!;
        const end = timed.end;
        const last = end ?? visit.stage_start_time;
        if (last > updatedAt) updatedAt = last;
        if (!end) {
          openStage = stageId;
          open.due = earliest(timed.dueAt, open.due);
          open.atRisk = earliest(timed.atRiskAt ?? timed.dueAt, open.atRisk);
        }
        const number = (visitNumbers.get(visit.key) ?? 0) + 1;
        visitNumbers.set(visit.key, number);
        const definition = keyed[index]!.definitionId ? workflow?.definitionOf.get(keyed[index]!.definitionId!) : undefined;
        if (definition) {
          // The history a live transition writes (workflow service): entered at the start, left at the end (a final
          // visit is a moment and is never left); at one moment what is left comes before what is entered.
          const move = (type: string, at: Date, order: number, data: Record<string, unknown>) =>
            moves.push({
              at,
              order,
              event: { ticket_id: id, type, actor_id: actor.id, actor_name: actor.name, visibility: 'public', data, created_at: iso(at) },
            });
          const named = { stage_id: stageId, key: definition.key, name: definition.name, visit: number };
          move('stage_entered', visit.stage_start_time, 1, {
            ...named,
            due_at: timed.dueAt && iso(timed.dueAt),
            ...(from ? { from } : {}),
          });
          if (end && !definition.final) move('stage_left', end, 0, { ...named, business_ms: timed.businessMs });
          from = definition.key;
        }
        stages.push({
          id: stageId,
          ticket_id: id,
          definition_id: keyed[index]!.definitionId,
          visit: number,
          stage_description: visit.stage_description ?? null,
          stage_start_time: iso(visit.stage_start_time),
          stage_end_time: end && iso(end),
          due_at: timed.dueAt && iso(timed.dueAt),
          at_risk_at: timed.atRiskAt && iso(timed.atRiskAt),
          business_ms: timed.businessMs,
          paused: timed.paused,
          contact_emails: visit.contact_emails ?? [],
          created_at: iso(visit.stage_start_time),
          updated_at: iso(last),
        });
      });
      if (openStage) current.push({ ticket_id: id, stage_id: openStage });
      if (openStage) currentOf.set(id, openStage);
      // The visits decide the status as the transitions would have: a final one closes, any other opens a new ticket.
      const moved = replay.ticket.status;
      const given = input.status ?? 'new';
      // A ticket given as closed whose visits have all ended was closed after its last one (as by PATCH status).
      const closedAfter = given === 'closed' && openStage === null;
      const status =
        !moved || closedAfter ? given : moved.status === 'closed' ? 'closed' : given === 'new' || given === 'closed' ? 'open' : given;
      const { sla } = replay.ticket;
      lineOf.set(id, row.line);
      tickets.push({
        id,
        external_id: row.externalId,
        subject: input.subject ?? null,
        description: input.description ?? null,
        status,
        priority: input.priority ?? 'medium',
        category: input.category ?? null,
        project: input.project ?? null,
        customer_name: input.customer_name ?? null,
        customer_email: input.customer_email ?? null,
        customer_phone: input.customer_phone ?? null,
        contact_person: input.contact_person ?? null,
        helpdeskurl: input.helpdeskurl ?? null,
        assigned_to: input.assigned_to ?? null,
        metadata: input.metadata ?? {},
        fields: fieldValues,
        created_at: iso(createdAt),
        updated_at: iso(updatedAt),
        closed_at: status === 'closed' ? iso(moved?.closedAt ?? updatedAt) : null,
        stage_at_risk_at: open.atRisk && iso(open.atRisk),
        stage_due_at: open.due && iso(open.due),
        sla_used_ms: sla.usedMs,
        sla_segment_start: sla.segmentStart && iso(sla.segmentStart),
        sla_at_risk_at: sla.atRiskAt && iso(sla.atRiskAt),
        sla_due_at: sla.dueAt && iso(sla.dueAt),
        current_stage_id: null,
      });
      events.push({
        ticket_id: id,
        type: 'created',
        actor_id: actor.id,
        actor_name: actor.name,
        visibility: 'public',
        data: { subject: input.subject ?? null, status, priority: input.priority ?? 'medium', imported_from: row.externalId },
        created_at: iso(createdAt),
      });
      moves.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
      events.push(...moves.map((move) => move.event));
    }

    if (bulk) for (const ticket of tickets) ticket.current_stage_id = currentOf.get(ticket.id) ?? null;
    const inserted = await this.repository.insertTickets(tx, tickets);
    const refused = tickets.filter((ticket) => !inserted.has(ticket.id));
    // An external id imported meanwhile (by a batch written at the same time) is there already, not a clash.
    const arrived = refused.length
      ? await this.repository.existingExternalIds(
          tx,
          refused.map((ticket) => ticket.external_id),
        )
      : new Set();
    for (const ticket of refused) {
      if (!arrived.has(ticket.external_id)) reject(lineOf.get(ticket.id)!, `id: ticket ${ticket.id} already exists`);
    }
    const kept = <T extends { ticket_id: string }>(rows: T[]) =>
      inserted.size === tickets.length ? rows : rows.filter((row) => inserted.has(row.ticket_id));
    const keptStages = kept(stages);
    await this.repository.insertVisits(tx, keptStages, bulk ? [] : kept(current));
    await this.repository.insertEvents(tx, kept(events));
    await this.repository.recordPastCrossings(tx, [...inserted], keptStages.length > 0, now);
    if (bulk) await this.repository.afterBulkBatch(tx, [...inserted], keptStages.length > 0);
    return { imported: inserted.size, existing: existing.size + arrived.size, rejected };
  }
}
