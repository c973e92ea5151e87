import type { OperationNodeSource } from 'kysely';
import type { AliasedRawBuilder } from 'kysely';
import { newId } from '../../ids.js';
import type { Clock } from '../../clock.js';
import type { Database, Db, Executor, Tx } from '../../db/database.js';
import type { NewTicketRow, TicketRow, TicketRowUpdate, TicketStatus } from '../../db/types.js';
import { AppError, fail, invalid, notFound } from '../../errors.js';
import type { AuditLog } from '../audit/service.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, canSeeTicket, ticketVisibility, type Actor } from '../access/policy.js';
import type { FieldChange, FieldsService } from '../fields/service.js';
import type { StagesService } from '../stages/service.js';
import { resolveSearch, type SavedViews } from '../search/resolve.js';
import {
  TicketsRepository,
  type TicketKey,
  type SearchColumns,
  type TicketEvent,
  type CurrentStage,
  type TicketFilters,
  type TicketSort,
  type TicketWithStages,
  sortFrom,
} from './repository.js';
import { internalFields } from './shape.js';
import { editableFields, isWellFormedId, numberRef, parseTicketInput, type StageRef, type TicketInput } from './validation.js';

/** The history entry other modules' services append through this one. */
export type { TicketEvent, TicketWithStages };

/** A ticket with its ordered stage ids: what both faces present. */
export type TicketView = TicketRow &
  SearchColumns & {
    stage_ids: string[];
    /** When delay state is judged (issue 4). */
    evaluated_at?: Date;
    /** Read by lists and single reads (issue 20); absent where a write answered without it. */
    current_stage?: CurrentStage | null;
  };

export type TicketListOptions = {
  filters: Omit<TicketFilters, 'customerEmails' | 'search'> & {
    q?: string;
    view?: string;
    /** Custom field filters (issue 25): [key, value in the search term's syntax]. */
    fields?: [string, string][];
  };
  /** Absent: the view's sort, else best match first with free text, else newest first. */
  sort?: TicketSort;
  limit: number;
  cursor?: string;
  count?: boolean;
};

const newestFirst: TicketSort = { key: 'created_at', descending: true };
const rankSort: TicketSort = { key: 'rank', descending: true };

/** `byRank`: the page is in rank order, which covers the newest matches only (docs/search.md); an export goes on. */
export type TicketPage = { items: TicketView[]; nextCursor: string | null; total?: number; byRank?: true };

/** How often an optimistic update reads the ticket again when it moved on meanwhile before giving up (409). */
const OPTIMISTIC_ATTEMPTS = 5;

/** Fields a customer never sees (the ticket field table's), so their changes are internal history. */
const internal = new Set<string>(internalFields);

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export class TicketsService {
  private readonly db: Db;
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly tickets = new TicketsRepository();

  constructor(
    context: ServiceContext,
    private readonly fields: FieldsService,
    private readonly stages: StagesService,
    private readonly audit: AuditLog,
    private readonly views: SavedViews,
  ) {
    this.db = context.database.db;
    this.database = context.database;
    this.clock = context.clock;
  }

  /** The history entries of custom field changes, each with the field's label (internal unless customers see it). */
  fieldEvents(actor: Actor, ticketId: string, changes: readonly FieldChange[], at?: Date): TicketEvent[] {
    return changes.map((change) => ({
      ...this.event(
        actor,
        ticketId,
        'field_changed',
        { field: `fields.${change.definition.key}`, label: change.definition.label, old: change.old, new: change.new },
        !change.definition.customer_visible,
      ),
      ...(at ? { created_at: at } : {}),
    }));
  }

  /** `42` means ticket number 42; a well-formed id that id; anything else no ticket at all. */
  private keyOf(ref: string): TicketKey | undefined {
    if (/^\d+$/.test(ref)) {
      const number = numberRef(ref);
      return number === undefined ? undefined : { number };
    }
    return isWellFormedId(ref) ? { id: ref } : undefined;
  }

  // The ticket row for another module's service (the workflow) that changes it inside its own transaction: the
  // tickets table stays private to this module (issue 21).
  lockRow(tx: Tx, id: string): Promise<TicketRow | undefined> {
    return this.tickets.lock(tx, id);
  }

  /** `parts`: the change's other writes, sent in the update's statement (src/db/sql-helpers.ts, `withParts`). */
  updateRow(tx: Tx, id: string, changes: TicketRowUpdate, parts: readonly OperationNodeSource[] = []): Promise<TicketRow> {
    return this.tickets.update(tx, id, changes, parts);
  }

  /** History rows as an insert not yet run, for a caller's statement; `events` must not be empty. */
  appendEventsQuery(tx: Tx, events: readonly TicketEvent[]): OperationNodeSource {
    return this.tickets.appendEventsQuery(tx, events);
  }

  /** By id or number (`42`), locked for the caller's transaction when asked: for a service that checked its permission (OPS). */
  async findRow(db: Executor, ref: string, lock = false): Promise<TicketRow | undefined> {
    const key = this.keyOf(ref);
    if (!key) return undefined;
    if ('number' in key) {
      const byNumber = await this.tickets.findByNumber(db, key.number);
      return byNumber && lock ? this.tickets.lock(db as Tx, byNumber.id) : byNumber;
    }
    return lock ? this.tickets.lock(db as Tx, key.id) : this.tickets.findById(db, key.id);
  }

  /** Each ticket's stage ids in list order, for another module that presents tickets (webhooks). */
  stageIdsOf(db: Executor, ticketIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.tickets.stageIdsOf(db, ticketIds);
  }

  /** The ticket by id or number, visible to the actor; found, locked and read with its stage ids in one statement. */
  private async lockVisible(actor: Actor, tx: Tx, ref: string, lock = true): Promise<TicketRow & { stage_ids: string[] }> {
    const key = this.keyOf(ref);
    const ticket = key && (await this.tickets.lockWithStages(tx, key, lock));
    // A customer asking for someone else's ticket learns nothing, not even that it exists.
    if (!ticket || !canSeeTicket(actor, ticket)) notFound('ticket', ref);
    return ticket;
  }

  /** For a write elsewhere (a transition): the ticket, locked with its stage ids, as `update` reads it. */
  lockForWrite(actor: Actor, tx: Tx, ref: string): Promise<TicketRow & { stage_ids: string[] }> {
    return this.lockVisible(actor, tx, ref);
  }

  /**
   * `db`: where to read it (a caller reading the rest from a replica passes that reader); `extra`: columns another
   * module reads with the row (`sql`…`.as(name)`, e.g. the forecast's inputs), returned as properties of the view.
   */
  async get<Extra extends object = object>(
    actor: Actor,
    ref: string,
    db: Executor = this.db,
    extra: readonly AliasedRawBuilder<unknown, string>[] = [],
  ): Promise<TicketView & Partial<Extra>> {
    assertCan(actor, 'ticket:read');
    const key = this.keyOf(ref);
    // One round trip: the row comes with its stage ids (and whatever `extra` asks for).
    const ticket = key && (await this.tickets.findWithStages(db, key, extra));
    if (!ticket || !canSeeTicket(actor, ticket)) notFound('ticket', ref);
    const [visible] = await this.fields.visibleTo(actor, [ticket]);
    return { ...(visible as TicketWithStages & Partial<Extra>), evaluated_at: this.clock.now() };
  }

  /** The filters and order of a list: visibility, `q` and the saved view resolved for this actor now. */
  private async listQuery(db: Executor, actor: Actor, options: Pick<TicketListOptions, 'filters' | 'sort'>) {
    const visibility = ticketVisibility(actor);
    const { q, view, fields, ...plain } = options.filters;
    const search = await resolveSearch(db, actor, this.clock.now(), { q, view, fields }, this.views);
    const filters: TicketFilters = { ...plain, search, ...(visibility ? { customerEmails: visibility.customerEmails } : {}) };
    let sort = options.sort ?? (search.viewSort ? sortFrom(search.viewSort) : undefined) ?? (search.ranking ? rankSort : newestFirst);
    if (sort.key === 'field') sort = { ...sort, by: await this.fields.sortValue(actor, sort.field, db) };
    if (sort.key === 'rank' && !search.ranking) invalid([{ field: 'sort', problem: '-rank needs words to search for in q' }]);
    return { filters, sort };
  }

  /**
   * Refuses, naming them, the custom fields a saved view would sort by or show (`field.<key>`) that the actor has no
   * live field of (issue 25): the same answer a list gives for an unknown sort key.
   */
  async checkFieldRefs(actor: Actor, sort: string | null | undefined, columns: readonly string[] | undefined): Promise<void> {
    const sortField = sort ? sortFrom(sort) : undefined;
    if (sortField?.key === 'field') await this.fields.sortValue(actor, sortField.field);
    const wanted = (columns ?? []).filter((column) => column.startsWith('field.')).map((column) => column.slice('field.'.length));
    if (wanted.length === 0) return;
    const known = new Set(await this.fields.keysVisibleTo(actor));
    const problems = wanted.flatMap((key) =>
      known.has(key) ? [] : [{ field: 'columns', problem: `no field "${key}" to show (field.${key})` }],
    );
    if (problems.length) invalid(problems);
  }

  /** How many tickets the filters (and `q`, view) match now, for this actor. */
  async count(actor: Actor, filters: TicketListOptions['filters']): Promise<number> {
    assertCan(actor, 'ticket:read');
    const db = this.database.reader(actor);
    return this.tickets.count(db, (await this.listQuery(db, actor, { filters })).filters);
  }

  async list(actor: Actor, options: TicketListOptions): Promise<TicketPage> {
    assertCan(actor, 'ticket:read');
    // Lists, search and export read from a replica when one may serve this actor.
    const db = this.database.reader(actor);
    const { filters, sort } = await this.listQuery(db, actor, options);
    const { rows, nextCursor } = await this.tickets.list(db, filters, sort, options.limit, options.cursor);
    const evaluatedAt = this.clock.now();
    // The rows are this request's own (fresh from the driver or copied by visibleTo): stamped in place, not copied again.
    const items: TicketView[] = await this.fields.visibleTo(actor, rows);
    for (const item of items) item.evaluated_at = evaluatedAt;
    const page: TicketPage = { items, nextCursor, ...(sort.key === 'rank' ? { byRank: true as const } : {}) };
    if (options.count) page.total = await this.tickets.count(db, filters, sort.key === 'breach_probability');
    return page;
  }

  /** Stage refs (ids or numbers) → ids, with every unknown one named. */
  private async resolveStages(tx: Tx, refs: readonly StageRef[], field: string): Promise<string[]> {
    const found = await this.stages.idsForRefs(tx, refs);
    const problems = refs.flatMap((ref, index) =>
      found.has(ref)
        ? []
        : [
            {
              field: refs.length === 1 && field === 'current_stage_id' ? field : `${field}.${index}`,
              problem: `stage ${ref} does not exist`,
            },
          ],
    );
    if (problems.length) invalid(problems);
    const ids = refs.map((ref) => found.get(ref)!);
    const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
    if (duplicate) invalid([{ field, problem: `lists stage ${duplicate} more than once` }]);
    return ids;
  }

  /** The ticket's stage list and current stage after applying the input; current must be listed. */
  private async stagePlan(
    tx: Tx,
    input: TicketInput,
    existing: { stage_ids: string[]; current_stage_id: string | null },
  ): Promise<{ stageIds: string[]; currentStageId: string | null }> {
    let stageIds = input.stages ? await this.resolveStages(tx, input.stages, 'stages') : existing.stage_ids;
    let currentStageId = existing.current_stage_id;
    if (input.current_stage_id !== undefined) {
      currentStageId =
        input.current_stage_id === null ? null : (await this.resolveStages(tx, [input.current_stage_id], 'current_stage_id'))[0];
    }
    if (currentStageId !== null && !stageIds.includes(currentStageId)) {
      // Naming a current stage without a stage list means "the ticket is now in this stage".
      if (input.stages === undefined && input.current_stage_id !== undefined) stageIds = [...stageIds, currentStageId];
      else if (input.current_stage_id !== undefined || input.stages !== undefined) {
        invalid([{ field: 'current_stage_id', problem: "must be one of the ticket's stages" }]);
      }
    }
    return { stageIds, currentStageId };
  }

  private event(actor: Actor, ticketId: string, type: string, data: Record<string, unknown>, internal = false): TicketEvent {
    return {
      ticket_id: ticketId,
      type,
      actor_id: actor.id,
      actor_name: actor.name,
      visibility: internal ? 'internal' : 'public',
      data,
      created_at: this.clock.now(),
    };
  }

  /**
   * Set by the wiring (src/services.ts): puts a new `/api` ticket into its workflow's first stage (issue 20). With
   * `write`, the ticket is not written yet: `write` inserts it with the move's changes and rows, in one statement.
   */
  enterFirstStage:
    | ((
        tx: Tx,
        ticket: TicketWithStages,
        actor: Actor,
        write?: (changes: TicketRowUpdate, writes: readonly OperationNodeSource[], events: readonly TicketEvent[]) => Promise<TicketRow>,
      ) => Promise<TicketWithStages | null>)
    | null = null;

  /**
   * A ticket about to be inserted, as the move into its first stage reads it: the row with the columns' defaults (the
   * database fills in `number` and `project_id`, which the move does not read).
   */
  private unwritten(row: NewTicketRow, fields: Record<string, unknown>): TicketWithStages {
    return {
      ...row,
      fields,
      number: 0,
      project_id: null,
      sla_used_ms: 0,
      sla_segment_start: null,
      sla_at_risk_at: null,
      sla_due_at: null,
      stage_ids: [],
    } as unknown as TicketWithStages;
  }

  /** `firstStage`: the `/api` face's new ticket enters its project's first stage (the older `/tickets` face's does not). */
  async create(actor: Actor, body: Record<string, unknown>, options: { firstStage?: boolean } = {}): Promise<TicketView> {
    assertCan(actor, 'ticket:create');
    const input = parseTicketInput(body, 'create');
    // Whoever sees only some customers' tickets opens tickets only for those customers.
    const visibility = ticketVisibility(actor);
    if (visibility) {
      const email = input.customer_email?.toLowerCase() ?? visibility.customerEmails[0];
      if (!email || !visibility.customerEmails.includes(email)) fail('FORBIDDEN', 'customers open tickets for their own email only');
      input.customer_email = email;
    }
    // With no stage list to link, everything the create writes is one statement (the ticket, its history, its audit
    // entry and, placed in its first stage, that visit): atomic by itself, so it runs without BEGIN and COMMIT, two
    // round trips of five (issue 19). Its reads see committed rows as they would in a read-committed transaction; only
    // a create that also links stages (the older face's stage list) needs one.
    const oneStatement = !input.stages?.length && (input.current_stage_id === undefined || input.current_stage_id === null);
    const run = <T>(work: (tx: Tx) => Promise<T>): Promise<T> =>
      oneStatement ? work(this.db as unknown as Tx) : this.db.transaction().execute(work);
    return run(async (tx) => {
      if (input.id && (await this.tickets.idExists(tx, input.id))) {
        throw new AppError('CONFLICT', `ticket id ${input.id} is already taken`, [{ field: 'id', problem: 'is already taken' }]);
      }
      const { stageIds, currentStageId } = await this.stagePlan(tx, input, { stage_ids: [], current_stage_id: null });
      const definitions = await this.fields.definitionsForProjectName(tx, input.project);
      const fields = await this.fields.valuesForCreate(tx, actor, definitions, input.fields, definitions.length === 0);
      const now = this.clock.now();
      const status: TicketStatus = input.status ?? 'new';
      const id = input.id ?? newId();
      // Named here (it is the column's default) so that the history entry below need not wait for the row.
      const priority = input.priority ?? 'medium';
      const createdAt = input.created_at ?? now;
      const row: NewTicketRow = {
        id,
        ...Object.fromEntries(editableFields.map((field) => [field, input[field] ?? null]).filter(([, value]) => value !== null)),
        ...(input.metadata ? { metadata: JSON.stringify(input.metadata) } : {}),
        ...(Object.keys(fields).length ? { fields: JSON.stringify(fields) } : {}),
        priority,
        status,
        current_stage_id: currentStageId,
        created_at: createdAt,
        updated_at: now,
        closed_at: status === 'closed' ? now : null,
      };
      // The row, its first history entry and the audit entry in one statement. A ticket created with an earlier
      // `created_at` (migrated, imported, the demo) was opened then: so says its history.
      const createdEvent = { ...this.event(actor, id, 'created', { subject: input.subject, status, priority }), created_at: createdAt };
      const audit = this.audit.insertQuery(tx, {
        actor,
        action: 'ticket.created',
        target: { type: 'ticket', id },
        details: { fields: Object.keys(body) },
      });
      const firstStage = options.firstStage && currentStageId === null && this.enterFirstStage;
      // Placed in its first stage: the move's own rows are the answer (no re-read). With no stages of its own, the
      // ticket is inserted already in that stage, with the move's rows in the same statement (no update after it).
      let placed =
        firstStage && stageIds.length === 0
          ? await firstStage(tx, this.unwritten(row, fields), actor, (changes, writes, events) =>
              // As an insert and then a move left it before (version 2), so that a client's next If-Match holds. One
              // history insert, `created` first (the parts of a statement run in no set order).
              this.tickets.insert(tx, { ...row, ...(changes as Partial<NewTicketRow>), version: 2 }, [
                this.tickets.appendEventsQuery(tx, [createdEvent, ...events]),
                audit,
                ...writes,
              ]),
            )
          : null;
      let created: TicketWithStages | null = null;
      if (!placed) {
        const ticket = await this.tickets.insert(tx, row, [this.tickets.appendEventsQuery(tx, [createdEvent]), audit]);
        await this.tickets.addStages(tx, ticket.id, stageIds);
        created = { ...ticket, stage_ids: stageIds };
        if (firstStage && stageIds.length > 0) placed = await firstStage(tx, created, actor);
      }
      const [visible] = await this.fields.visibleTo(actor, [(placed ?? created)!], tx);
      return { ...visible, evaluated_at: now };
    });
  }

  async update(actor: Actor, ref: string, body: Record<string, unknown>, expectedVersion?: number): Promise<TicketView> {
    assertCan(actor, 'ticket:update');
    const input = parseTicketInput(body, 'update');
    // A change to the stage list is several statements: a transaction on the locked row. Any other change is one
    // statement (the row, its history, its audit entry): read, then written where the version is still the one read,
    // with no BEGIN, lock or COMMIT (two round trips instead of four, issue 19). A row that moved on meanwhile fails
    // that statement whole (40001) and is read again.
    if (input.stages !== undefined || input.current_stage_id !== undefined) {
      return this.db.transaction().execute((tx) => this.applyUpdate(actor, tx, ref, input, body, expectedVersion, true));
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.applyUpdate(actor, this.db as unknown as Tx, ref, input, body, expectedVersion, false);
      } catch (error) {
        if (attempt >= OPTIMISTIC_ATTEMPTS || (error as { code?: unknown }).code !== '40001') throw error;
      }
    }
  }

  /** `locked`: in a transaction on the locked row; else an optimistic write of the row as read (see `update`). */
  private async applyUpdate(
    actor: Actor,
    tx: Tx,
    ref: string,
    input: TicketInput,
    body: Record<string, unknown>,
    expectedVersion: number | undefined,
    locked: boolean,
  ): Promise<TicketView> {
    const ticket = await this.lockVisible(actor, tx, ref, locked);
    const expected = expectedVersion ?? input.version;
    if (expected !== undefined && expected !== ticket.version) {
      fail('VERSION_MISMATCH', `ticket ${ticket.id} is at version ${ticket.version}, not ${expected}; reload it and try again`);
    }
    // Sent with the change's own statement below (one round trip), or alone when nothing changes.
    const audit = this.audit.insertQuery(tx, {
      actor,
      action: 'ticket.updated',
      target: { type: 'ticket', id: ticket.id },
      details: { fields: Object.keys(body) },
    });
    const before: TicketView = { ...ticket, evaluated_at: this.clock.now() };
    const changes: TicketRowUpdate = {};
    const events: TicketEvent[] = [];
    for (const field of editableFields) {
      const next = input[field];
      if (next === undefined || sameValue(next, ticket[field])) continue;
      (changes as Record<string, unknown>)[field] = field === 'metadata' ? JSON.stringify(next) : next;
      events.push(
        field === 'status'
          ? this.event(actor, ticket.id, 'status_changed', { old: ticket.status, new: next })
          : this.event(actor, ticket.id, 'field_changed', { field, old: ticket[field], new: next }, internal.has(field)),
      );
    }
    if (input.fields !== undefined) {
      const project = input.project !== undefined ? input.project : ticket.project;
      const definitions = await this.fields.definitionsForProjectName(tx, project);
      const merged = await this.fields.merge(tx, actor, definitions, ticket.fields, input.fields, definitions.length === 0);
      if (merged.changes.length) {
        changes.fields = JSON.stringify(merged.values);
        events.push(...this.fieldEvents(actor, ticket.id, merged.changes));
      }
    }
    const now = this.clock.now();
    if (changes.status === 'closed') changes.closed_at = now;
    else if (changes.status !== undefined && ticket.status === 'closed') changes.closed_at = null;

    const { stageIds, currentStageId } = await this.stagePlan(tx, input, before);
    const stagesChanged = !sameValue(stageIds, before.stage_ids);
    if (currentStageId !== ticket.current_stage_id) {
      changes.current_stage_id = currentStageId;
      events.push(
        this.event(actor, ticket.id, 'field_changed', { field: 'current_stage_id', old: ticket.current_stage_id, new: currentStageId }),
      );
    }
    if (stagesChanged) {
      await this.tickets.replaceStages(tx, ticket.id, stageIds);
      events.push(this.event(actor, ticket.id, 'field_changed', { field: 'stages', old: before.stage_ids, new: stageIds }));
    }
    if (events.length === 0) {
      await audit.execute();
      return (await this.fields.visibleTo(actor, [before], tx))[0];
    }
    // The row, its history and the audit entry in one statement.
    const updated = await this.tickets.update(
      tx,
      ticket.id,
      { ...changes, updated_at: now },
      [audit, this.tickets.appendEventsQuery(tx, events)],
      locked ? undefined : ticket.version,
    );
    const [visible] = await this.fields.visibleTo(actor, [updated], tx);
    return { ...visible, stage_ids: stageIds, evaluated_at: now };
  }

  async remove(actor: Actor, ref: string): Promise<TicketView> {
    assertCan(actor, 'ticket:delete');
    return this.db.transaction().execute(async (tx) => {
      const ticket = await this.lockVisible(actor, tx, ref);
      const view: TicketView = { ...ticket, evaluated_at: this.clock.now() };
      // Its stage links and history go with it (foreign keys cascade); the stage records stay.
      await this.tickets.delete(tx, ticket.id);
      await this.audit.record(tx, { actor, action: 'ticket.deleted', target: { type: 'ticket', id: ticket.id } });
      return view;
    });
  }
}
