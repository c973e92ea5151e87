import { newId } from '../../ids.js';
import type { Clock } from '../../clock.js';
import type { Database, Db, Tx } from '../../db/database.js';
import type { StageRow, StageRowUpdate, StageType } from '../../db/types.js';
import { AppError, fail, invalid, notFound, type ErrorDetail } from '../../errors.js';
import type { AuditLog } from '../audit/service.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, ticketVisibility, type Actor } from '../access/policy.js';
import { isWellFormedId, numberRef, type StageRef } from '../tickets/validation.js';
import { StagesRepository, type StageFilters, type StageSort, type StageState } from './repository.js';
import { parseStageInput, type StageInput } from './validation.js';

export type StageView = StageRow & { ticket_ids: string[]; state: StageState; overdue: boolean };
/** The older monitoring system served each stage with its major stage inlined. */
export type StageWithMajor = StageView & { major_stage: StageView | null };

export type StageListOptions = {
  filters: Omit<StageFilters, 'now' | 'customerEmails'>;
  sort: StageSort;
  limit: number;
  cursor?: string;
  count?: boolean;
};

export function stageState(stage: Pick<StageRow, 'stage_start_time' | 'stage_end_time'>): StageState {
  if (stage.stage_end_time) return 'done';
  return stage.stage_start_time ? 'active' : 'planned';
}

/** Overdue: past its due time and not done, or done after it. */
export function isOverdue(stage: Pick<StageRow, 'stage_end_time' | 'due_at'>, now: Date): boolean {
  if (!stage.due_at) return false;
  return stage.stage_end_time ? stage.stage_end_time > stage.due_at : stage.due_at < now;
}

export class StagesService {
  private readonly db: Db;
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly stages = new StagesRepository();

  constructor(
    context: ServiceContext,
    private readonly audit: AuditLog,
  ) {
    this.db = context.database.db;
    this.database = context.database;
    this.clock = context.clock;
  }

  /** Stage ids for the ids or numbers a ticket's plan names (missing ones are left out), for the tickets module. */
  idsForRefs(db: Db | Tx, refs: readonly StageRef[]): Promise<Map<StageRef, string>> {
    return this.stages.idsForRefs(db, refs);
  }

  private async find(db: Db | Tx, ref: string, lock = false): Promise<StageRow | undefined> {
    if (/^\d+$/.test(ref)) {
      const number = numberRef(ref);
      const byNumber = number === undefined ? undefined : await this.stages.findByNumber(db, number);
      return byNumber && lock ? this.stages.lock(db as Tx, byNumber.id) : byNumber;
    }
    if (!isWellFormedId(ref)) return undefined;
    return lock ? this.stages.lock(db as Tx, ref) : this.stages.findById(db, ref);
  }

  private async findVisible(actor: Actor, db: Db | Tx, ref: string, lock = false): Promise<StageRow> {
    const stage = await this.find(db, ref, lock);
    const visibility = ticketVisibility(actor);
    // A customer sees only stages of their own tickets; others' are "not found", not "forbidden".
    if (!stage || (visibility && !(await this.stages.isLinkedToCustomer(db, stage.id, visibility.customerEmails)))) {
      notFound('stage', ref);
    }
    return stage;
  }

  /** Adds the derived fields (tickets listing it, state, overdue) to rows, in one query for all. */
  async views(db: Db | Tx, rows: readonly StageRow[]): Promise<StageView[]> {
    const ticketIds = await this.stages.ticketIdsOf(
      db,
      rows.map((row) => row.id),
    );
    const now = this.clock.now();
    return rows.map((row) => ({ ...row, ticket_ids: ticketIds.get(row.id) ?? [], state: stageState(row), overdue: isOverdue(row, now) }));
  }

  /** Stage views by id with each one's major stage inlined (the monitoring face's shape). */
  async withMajors(ids: readonly string[]): Promise<Map<string, StageWithMajor>> {
    const rows = await this.stages.findByIds(this.db, [...new Set(ids)]);
    const missingMajors = rows.flatMap((row) => (row.major_stage_id && !ids.includes(row.major_stage_id) ? [row.major_stage_id] : []));
    const majorRows = await this.stages.findByIds(this.db, [...new Set(missingMajors)]);
    const views = new Map((await this.views(this.db, [...rows, ...majorRows])).map((view) => [view.id, view]));
    return new Map(
      rows.map((row) => [
        row.id,
        { ...views.get(row.id)!, major_stage: row.major_stage_id ? (views.get(row.major_stage_id) ?? null) : null },
      ]),
    );
  }

  async get(actor: Actor, ref: string): Promise<StageView> {
    assertCan(actor, 'stage:read');
    const [view] = await this.views(this.db, [await this.findVisible(actor, this.db, ref)]);
    return view;
  }

  async list(actor: Actor, options: StageListOptions): Promise<{ items: StageView[]; nextCursor: string | null; total?: number }> {
    assertCan(actor, 'stage:read');
    const visibility = ticketVisibility(actor);
    const filters: StageFilters = {
      ...options.filters,
      now: this.clock.now(),
      ...(visibility ? { customerEmails: visibility.customerEmails } : {}),
    };
    // Lists and export read from a replica when one may serve this actor.
    const db = this.database.reader(actor);
    const { rows, nextCursor } = await this.stages.list(db, filters, options.sort, options.limit, options.cursor);
    const items = await this.views(db, rows);
    if (!options.count) return { items, nextCursor };
    return { items, nextCursor, total: await this.stages.count(db, filters) };
  }

  /** Checks the rules that involve other rows and returns the resolved major stage id. */
  private async checkShape(
    tx: Tx,
    stageId: string | null,
    type: StageType,
    majorRef: StageInput['major_stage_id'],
    times: Pick<StageRow, 'stage_start_time' | 'stage_end_time'>,
  ): Promise<string | null> {
    const problems: ErrorDetail[] = [];
    let majorId: string | null = null;
    if (type === 'major' && majorRef != null) problems.push({ field: 'major_stage_id', problem: 'is only for a minor stage' });
    if (type === 'minor') {
      if (majorRef == null) problems.push({ field: 'major_stage_id', problem: 'is required for a minor stage' });
      else {
        const found = await this.stages.idsForRefs(tx, [majorRef]);
        const id = found.get(majorRef);
        const major = id ? await this.stages.findById(tx, id) : undefined;
        if (!major) problems.push({ field: 'major_stage_id', problem: `stage ${majorRef} does not exist` });
        else if (major.id === stageId) problems.push({ field: 'major_stage_id', problem: 'a stage cannot be its own major stage' });
        else if (major.stage_type !== 'major')
          problems.push({ field: 'major_stage_id', problem: `stage ${majorRef} is a minor stage; a major stage is required` });
        else majorId = major.id;
      }
    }
    if (times.stage_end_time && !times.stage_start_time) problems.push({ field: 'stage_end_time', problem: 'needs a stage_start_time' });
    if (times.stage_end_time && times.stage_start_time && times.stage_end_time < times.stage_start_time) {
      problems.push({ field: 'stage_end_time', problem: 'must not be before stage_start_time' });
    }
    if (problems.length) invalid(problems);
    return majorId;
  }

  async create(actor: Actor, body: Record<string, unknown>): Promise<StageView> {
    assertCan(actor, 'stage:write');
    const input = parseStageInput(body);
    const type: StageType = input.stage_type ?? (input.major_stage_id != null ? 'minor' : 'major');
    return this.db.transaction().execute(async (tx) => {
      const times = { stage_start_time: input.stage_start_time ?? null, stage_end_time: input.stage_end_time ?? null };
      const majorId = await this.checkShape(tx, null, type, input.major_stage_id, times);
      const now = this.clock.now();
      const row = await this.stages.insert(tx, {
        id: newId(),
        stage_type: type,
        major_stage_id: majorId,
        stage_description: input.stage_description ?? null,
        ...times,
        due_at: input.due_at ?? null,
        contact_emails: input.contact_emails ?? [],
        created_at: now,
        updated_at: now,
      });
      await this.audit.record(tx, {
        actor,
        action: 'stage.created',
        target: { type: 'stage', id: row.id },
        details: { fields: Object.keys(body) },
      });
      return (await this.views(tx, [row]))[0];
    });
  }

  async update(actor: Actor, ref: string, body: Record<string, unknown>, expectedVersion?: number): Promise<StageView> {
    assertCan(actor, 'stage:write');
    const input = parseStageInput(body);
    return this.db.transaction().execute(async (tx) => {
      const stage = await this.findVisible(actor, tx, ref, true);
      const expected = expectedVersion ?? input.version;
      if (expected !== undefined && expected !== stage.version) {
        fail('VERSION_MISMATCH', `stage ${stage.id} is at version ${stage.version}, not ${expected}; reload it and try again`);
      }
      const type = input.stage_type ?? stage.stage_type;
      if (type === 'minor' && stage.stage_type === 'major' && (await this.stages.minorIdsOf(tx, stage.id)).length > 0) {
        throw new AppError('CONFLICT', `stage ${stage.id} has minor stages, so it must stay a major stage`);
      }
      // Turning a minor stage into a major one drops its link unless the body says otherwise.
      const majorRef = input.major_stage_id !== undefined ? input.major_stage_id : type === 'major' ? null : stage.major_stage_id;
      const times = {
        stage_start_time: input.stage_start_time !== undefined ? input.stage_start_time : stage.stage_start_time,
        stage_end_time: input.stage_end_time !== undefined ? input.stage_end_time : stage.stage_end_time,
      };
      const majorId = await this.checkShape(tx, stage.id, type, majorRef, times);
      const next: StageRowUpdate = {
        stage_type: type,
        major_stage_id: majorId,
        ...times,
        ...(input.stage_description !== undefined ? { stage_description: input.stage_description } : {}),
        ...(input.due_at !== undefined ? { due_at: input.due_at } : {}),
        ...(input.contact_emails !== undefined ? { contact_emails: input.contact_emails } : {}),
      };
      const changed = Object.entries(next).some(
        ([field, value]) => JSON.stringify(value ?? null) !== JSON.stringify((stage as Record<string, unknown>)[field] ?? null),
      );
      const row = changed ? await this.stages.update(tx, stage.id, { ...next, updated_at: this.clock.now() }) : stage;
      await this.audit.record(tx, {
        actor,
        action: 'stage.updated',
        target: { type: 'stage', id: stage.id },
        details: { fields: Object.keys(body) },
      });
      return (await this.views(tx, [row]))[0];
    });
  }

  async remove(actor: Actor, ref: string, cascade: boolean): Promise<StageView> {
    assertCan(actor, 'stage:delete');
    return this.db.transaction().execute(async (tx) => {
      const stage = await this.findVisible(actor, tx, ref, true);
      const [view] = await this.views(tx, [stage]);
      const minors = await this.stages.minorIdsOf(tx, stage.id);
      if (minors.length > 0 && !cascade) {
        throw new AppError(
          'CONFLICT',
          `stage ${stage.id} has ${minors.length} minor stage(s); delete with ?cascade=true to remove them too`,
        );
      }
      await this.stages.delete(tx, [...minors, stage.id], this.clock.now());
      await this.audit.record(tx, { actor, action: 'stage.deleted', target: { type: 'stage', id: stage.id }, details: { minors } });
      return view;
    });
  }
}
