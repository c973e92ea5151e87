import type { OperationNodeSource } from 'kysely';
import { newId } from '../../ids.js';
import type { Clock } from '../../clock.js';
import type { Database, Db, Tx } from '../../db/database.js';
import type { StageRow, TicketRow, TicketRowUpdate } from '../../db/types.js';
import { AppError, invalid } from '../../errors.js';
import type { AuditLog } from '../audit/service.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, seesInternal, type Actor } from '../access/policy.js';
import type { FieldsService } from '../fields/service.js';
import { businessMs } from '../projects/calendar.js';
import type { StageDefinitionRow } from '../../db/types.js';
import type { ProjectsService, Workflow } from '../projects/service.js';
import type { TicketEvent, TicketsService, TicketView, TicketWithStages } from '../tickets/service.js';
import { delayOf } from './delay.js';
import { WorkflowRepository } from './repository.js';
import type { CommentInputType, TransitionInputType, VisitOut } from './schemas.js';
import { advanceSla, slaMoments, stageMoments } from './sla.js';
import { presentVisit, timeInStage } from './visits.js';

export type TransitionOutcome = { ticket: TicketView; left: VisitOut[]; entered: VisitOut[] };

/**
 * Writes a ticket not yet written with a move's changes to it, the move's other writes and its history entries (for
 * the caller's own history insert, so that they follow its entries in order), in one statement.
 */
type TicketWrite = (changes: TicketRowUpdate, writes: readonly OperationNodeSource[], events: readonly TicketEvent[]) => Promise<TicketRow>;

/** A visit as a move leaves it: the row it read or wrote, all but the database's own `number`. */
type Visit = Omit<StageRow, 'number'>;

/** The earliest of some moments, or null when there is none. */
function earliest(moments: readonly (Date | null)[]): Date | null {
  let first: Date | null = null;
  for (const moment of moments) if (moment && (!first || moment.getTime() < first.getTime())) first = moment;
  return first;
}

type Peers = { tickets: TicketsService; projects: ProjectsService; fields: FieldsService; audit: AuditLog };

/** Which stage keys the ticket may move to from where it is. */
export function allowedTargets(workflow: Workflow, current: StageDefinitionRow | undefined): StageDefinitionRow[] {
  const live = workflow.definitions.filter((definition) => !definition.archived);
  const parent = current?.parent_id ? workflow.definitions.find((definition) => definition.id === current.parent_id) : undefined;
  const candidates = live.filter((definition) => definition.id !== current?.id);
  if (workflow.transitions === null) return candidates;
  const froms = new Set<string | null>(current ? [current.key, ...(parent ? [parent.key] : [])] : [null]);
  const targets = new Set(workflow.transitions.filter((transition) => froms.has(transition.from)).map((transition) => transition.to));
  return candidates.filter((definition) => targets.has(definition.key));
}

export class WorkflowService {
  private readonly db: Db;
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly workflow = new WorkflowRepository();

  constructor(
    context: ServiceContext,
    private readonly peers: Peers,
  ) {
    this.db = context.database.db;
    this.database = context.database;
    this.clock = context.clock;
  }

  private async workflowOf(db: Db | Tx, ticket: TicketRow): Promise<Workflow | undefined> {
    return ticket.project_id ? this.peers.projects.workflowOf(db, ticket.project_id) : undefined;
  }

  /**
   * Moves a ticket to another stage in one transaction: ends the open visit(s), opens the new one with
   * its due moment from the target and the calendar, updates the ticket's current stage, stage list and
   * overall SLA clock, and records it all in the history. Entering a final stage closes the ticket.
   */
  async transition(actor: Actor, ref: string, input: TransitionInputType): Promise<TransitionOutcome> {
    assertCan(actor, 'ticket:transition');
    const now = this.clock.now();
    const at = input.at ? new Date(input.at) : now;
    if (at.getTime() > now.getTime()) invalid([{ field: 'at', problem: 'is in the future' }]);

    const outcome = await this.db.transaction().execute(async (tx) => {
      // Found, checked for visibility, locked and read with its stage ids in one statement.
      const ticket = await this.peers.tickets.lockForWrite(actor, tx, ref);
      const workflow = await this.workflowOf(tx, ticket);
      if (!workflow) {
        throw new AppError(
          'CONFLICT',
          `ticket ${ticket.number} is in no project with a workflow (its project: ${ticket.project ?? 'none'})`,
          [{ field: 'project', problem: 'names no project; create it with POST /api/projects or set the ticket\u2019s project' }],
        );
      }
      // Written with the move's own statement.
      const audit = this.peers.audit.insertQuery(tx, {
        actor,
        action: 'ticket.transitioned',
        target: { type: 'ticket', id: ticket.id },
        details: { to: input.to },
      });
      const moved = await this.move(tx, ticket, workflow, { actor_id: actor.id, actor_name: actor.name }, input, at, now, {
        actor,
        parts: [audit],
      });
      // The answer from the rows the move wrote (RETURNING), not a re-read.
      const [visible] = await this.peers.fields.visibleTo(actor, [this.placed(ticket.stage_ids, moved)], tx);
      return { ...moved, ticket: visible! };
    });

    const present = (stage: Visit) => presentVisit(stage, outcome.definitionOf.get(stage.definition_id!)!, outcome.workflow.calendar, now);
    return {
      ticket: { ...outcome.ticket, evaluated_at: now },
      left: outcome.left.map(present),
      entered: outcome.entered.map(present),
    };
  }

  /** The ticket as a move left it: its updated row, stage list with the entered visits, and current stage. */
  private placed(stageIds: readonly string[], moved: Awaited<ReturnType<WorkflowService['move']>>): TicketWithStages {
    const newest = moved.entered.at(-1)!;
    const definition = moved.definitionOf.get(newest.definition_id!)!;
    return {
      ...moved.ticket,
      stage_ids: [...stageIds, ...moved.entered.map((stage) => stage.id)],
      current_stage: {
        id: newest.id,
        key: definition.key,
        name: definition.name,
        entered_at: (newest.stage_start_time ?? newest.created_at).toISOString(),
      },
    };
  }

  /**
   * The move itself, inside the caller's transaction on a locked ticket row. `anyTarget`: the workflow's transition
   * rules do not apply (OPS closing a ticket is authoritative); `keepNew`: a new ticket placed in its first stage stays
   * `new` (nobody has started work on it).
   */
  private async move(
    tx: Tx,
    ticket: TicketRow,
    workflow: Workflow,
    who: { actor_id: string | null; actor_name: string },
    input: { to: string; note?: string; fields?: TransitionInputType['fields'] },
    at: Date,
    now: Date,
    {
      anyTarget = false,
      keepNew = false,
      fresh = false,
      actor,
      parts = [],
      write,
    }: {
      anyTarget?: boolean;
      keepNew?: boolean;
      /** The ticket was inserted by this transaction: it has no visits yet (no need to read them). */
      fresh?: boolean;
      /** The person moving it; absent when the system moves it (OPS closing, first stage): no field values, no gate. */
      actor?: Actor;
      /** More writes of the same change (its audit entry) for the move's statement. */
      parts?: readonly OperationNodeSource[];
      /** Writes the ticket with the move's changes and writes, instead of updating it (a new ticket's insert). */
      write?: TicketWrite;
    } = {},
  ) {
    const definitionOf = new Map(workflow.definitions.map((definition) => [definition.id, definition]));
    const visits = fresh ? [] : await this.workflow.visitsForTransition(tx, ticket.id);
    const open = visits.filter((stage) => stage.definition_id !== null && stage.stage_end_time === null);
    const visitsOf = new Map<string, number>();
    for (const stage of visits) if (stage.definition_id) visitsOf.set(stage.definition_id, (visitsOf.get(stage.definition_id) ?? 0) + 1);
    const innermost = open.find((stage) => stage.stage_type === 'minor') ?? open[0];
    // A visit of another project's workflow (the ticket moved projects) is no stage here: it starts this workflow.
    const current = innermost ? definitionOf.get(innermost.definition_id!) : undefined;
    const foreign = open.map((stage) => stage.definition_id!).filter((definitionId) => !definitionOf.has(definitionId));
    const foreignOf = new Map((await this.workflow.definitionsByIds(tx, [...new Set(foreign)])).map((row) => [row.id, row]));
    const target = workflow.definitions.find(
      (definition) => !definition.archived && (definition.key === input.to || definition.id === input.to),
    );
    if (!target) invalid([{ field: 'to', problem: `no stage "${input.to}" in the workflow of project ${workflow.project.key}` }]);

    const allowed = allowedTargets(workflow, current);
    if (!anyTarget && !allowed.some((definition) => definition.id === target.id)) {
      const keys = allowed.map((definition) => definition.key);
      throw new AppError(
        'CONFLICT',
        `ticket ${ticket.number} may not move from ${current ? `"${current.key}"` : 'no stage'} to "${target.key}"; allowed: ${keys.join(', ') || 'none'}`,
        [{ field: 'to', problem: `allowed: ${keys.join(', ') || 'none'}` }],
        { allowed_transitions: keys },
      );
    }
    const latestStart = Math.max(0, ...open.map((stage) => stage.stage_start_time?.getTime() ?? 0));
    if (at.getTime() < latestStart) {
      invalid([{ field: 'at', problem: `is before the current stage began (${new Date(latestStart).toISOString()})` }]);
    }

    const parent = target.parent_id ? definitionOf.get(target.parent_id) : undefined;
    const firstTransition = visits.length === 0;
    // A minor stage lives inside its major: moving between minors of one major keeps the major open.
    const keep = open.filter((stage) => parent && stage.stage_type === 'major' && stage.definition_id === parent.id);
    const closing = open.filter((stage) => !keep.includes(stage));

    // Custom fields (issue 25): values sent with the move are set first, then the gates judge the result. OPS closing a
    // ticket is authoritative (anyTarget): it is not held back by a gate.
    let merged: { values: TicketRow['fields']; changes: Parameters<TicketsService['fieldEvents']>[2] } = {
      values: ticket.fields,
      changes: [],
    };
    if (actor && !anyTarget) {
      const fieldDefinitions = await this.peers.fields.definitionsForProject(tx, workflow.project.id);
      if (input.fields) {
        merged = await this.peers.fields.merge(tx, actor, fieldDefinitions, ticket.fields, input.fields, fieldDefinitions.length === 0);
      }
      const leaving = closing.map((stage) => definitionOf.get(stage.definition_id!) ?? foreignOf.get(stage.definition_id!)!);
      const missing = this.peers.fields.missingForMove(fieldDefinitions, merged.values, {
        leaving: leaving.map((definition) => ({ key: definition.key, name: definition.name })),
        entering: { key: target.key, name: target.name, final: target.final },
      });
      if (missing.length) {
        const labels = fieldDefinitions.filter((definition) => missing.some((detail) => detail.field === `fields.${definition.key}`));
        throw new AppError(
          'FIELDS_REQUIRED',
          `ticket ${ticket.number} may not move to "${target.key}" without ${labels.map((definition) => definition.label).join(', ')}; send them in fields`,
          missing,
        );
      }
    }
    const events: TicketEvent[] = actor ? [...this.peers.tickets.fieldEvents(actor, ticket.id, merged.changes, at)] : [];
    const event = (type: string, data: Record<string, unknown>): TicketEvent => ({
      ticket_id: ticket.id,
      type,
      ...who,
      visibility: 'public',
      data,
      created_at: at,
    });
    // Every row the move writes is known here (ids are made here, times are `at` and `now`): they are sent as one
    // statement below, with the ticket's update last, instead of a round trip each (issue 19).
    const writes: OperationNodeSource[] = [];
    const left: Visit[] = [];
    // Minors end before their major, so the history reads inside-out.
    for (const stage of [...closing].sort((a, b) => (a.stage_type === 'minor' ? -1 : 0) - (b.stage_type === 'minor' ? -1 : 0))) {
      const definition = definitionOf.get(stage.definition_id!) ?? foreignOf.get(stage.definition_id!)!;
      const spent = businessMs(workflow.calendar, stage.stage_start_time ?? at, at);
      writes.push(this.workflow.endStageQuery(tx, stage.id, at, spent, now));
      left.push({ ...stage, stage_end_time: at, business_ms: spent, updated_at: now, version: stage.version + 1 });
      events.push(
        event('stage_left', {
          stage_id: stage.id,
          key: definition.key,
          name: definition.name,
          visit: stage.visit,
          business_ms: spent,
        }),
      );
    }

    const entered: Visit[] = [];
    const open_ = (definition: StageDefinitionRow, majorStageId: string | null) => {
      const visit = (visitsOf.get(definition.id) ?? 0) + 1;
      visitsOf.set(definition.id, visit);
      const moments = definition.final
        ? { atRiskAt: null, dueAt: null }
        : stageMoments(workflow.calendar, definition.target_minutes, workflow.project.at_risk_threshold, at);
      // As the insert leaves it (the column defaults included); only `number` is the database's.
      const stage: Visit = {
        id: newId(),
        stage_type: majorStageId ? 'minor' : 'major',
        major_stage_id: majorStageId,
        stage_description: definition.name,
        stage_start_time: at,
        // A final stage is a moment, not a span: the ticket is done.
        stage_end_time: definition.final ? at : null,
        business_ms: definition.final ? 0 : null,
        due_at: moments.dueAt,
        at_risk_at: moments.atRiskAt,
        ticket_id: ticket.id,
        definition_id: definition.id,
        visit,
        paused: definition.pauses || (parent?.pauses ?? false),
        contact_emails: [],
        version: 1,
        breach_likely_at: null,
        alert_level: 0,
        created_at: now,
        updated_at: now,
      };
      entered.push(stage);
      events.push(
        event('stage_entered', {
          stage_id: stage.id,
          key: definition.key,
          name: definition.name,
          visit,
          due_at: moments.dueAt?.toISOString() ?? null,
          ...(input.note ? { note: input.note } : {}),
          ...(current ? { from: current.key } : {}),
        }),
      );
      return stage;
    };
    let majorId = keep[0]?.id ?? null;
    if (parent && !majorId) majorId = open_(parent, null).id;
    const newest = open_(target, parent ? majorId : null);
    writes.push(
      this.workflow.insertStagesQuery(
        tx,
        entered.map(({ contact_emails: _emails, version: _version, breach_likely_at: _likely, ...row }) => row),
      ),
      this.workflow.appendToTicketQuery(
        ticket.id,
        entered.map((stage) => stage.id),
      ),
    );

    const changes = this.ticketChanges(ticket, workflow, target, parent, at, now, firstTransition);
    if (keepNew && ticket.status === 'new') delete changes.status;
    changes.current_stage_id = newest.id;
    // The ticket's earliest open-stage moments, as the stage-moments trigger (migration 0019) would set them after the
    // statement: written here with the rest, the trigger finds nothing to change and the row is updated once.
    const stillOpen = [...visits.filter((stage) => stage.stage_end_time === null && !closing.includes(stage)), ...entered].filter(
      (stage) => stage.stage_end_time === null,
    );
    changes.stage_at_risk_at = earliest(stillOpen.map((stage) => stage.at_risk_at ?? stage.due_at));
    changes.stage_due_at = earliest(stillOpen.map((stage) => stage.due_at));
    if (merged.changes.length) changes.fields = JSON.stringify(merged.values);
    if (changes.status && changes.status !== ticket.status) {
      events.push(event('status_changed', { old: ticket.status, new: changes.status }));
    }
    let updated: TicketRow;
    if (write) updated = await write(changes, writes, events);
    else {
      writes.push(this.peers.tickets.appendEventsQuery(tx, events), ...parts);
      updated = await this.peers.tickets.updateRow(tx, ticket.id, changes, writes);
    }
    return { ticket: updated, left, entered, workflow, definitionOf: new Map([...foreignOf, ...definitionOf]) };
  }

  /**
   * A new ticket enters its project's first stage (the first the workflow allows from no stage), in the creating
   * transaction, when the project says so (`new_tickets_enter_first_stage`, default true). Issue 20.
   */
  async enterFirstStage(tx: Tx, ticket: TicketWithStages, actor: Actor, write?: TicketWrite): Promise<TicketWithStages | null> {
    if (ticket.status === 'closed') return null;
    // Not written yet (`write` will insert it with its first stage): its project is known by the name it gives.
    const workflow = write
      ? ticket.project
        ? await this.peers.projects.workflowNamed(tx, ticket.project)
        : undefined
      : await this.workflowOf(tx, ticket);
    if (!workflow || !workflow.project.new_tickets_enter_first_stage) return null;
    const first = allowedTargets(workflow, undefined)
      .filter((definition) => !definition.final)
      .sort((a, b) => a.position - b.position)[0];
    if (!first) return null;
    const now = this.clock.now();
    // New in this transaction: nobody else sees the row, it has no visits, and the move's RETURNING is the answer.
    const moved = await this.move(
      tx,
      { ...ticket, project_id: workflow.project.id },
      workflow,
      { actor_id: actor.id, actor_name: actor.name },
      { to: first.id },
      now,
      now,
      { keepNew: true, fresh: true, write },
    );
    return this.placed(ticket.stage_ids, moved);
  }

  /**
   * OPS reported the ticket closed (issue 20): it enters its project's final stage in the caller's transaction, so the
   * open visit ends and the timeline shows it. Nothing to do outside a workflow, or when it is in a final stage.
   */
  async enterFinalStage(tx: Tx, ticketId: string, who: { actor_id: string | null; actor_name: string }, note: string): Promise<boolean> {
    const ticket = await this.peers.tickets.lockRow(tx, ticketId);
    if (!ticket) return false;
    const workflow = await this.workflowOf(tx, ticket);
    const final = workflow?.definitions.find((definition) => definition.final && !definition.archived);
    if (!workflow || !final) return false;
    const currentId = ticket.current_stage_id ? await this.workflow.definitionIdOf(tx, ticket.current_stage_id) : null;
    if (workflow.definitions.some((definition) => definition.id === currentId && definition.final)) return false;
    const now = this.clock.now();
    await this.move(tx, ticket, workflow, who, { to: final.id, note }, now, now, { anyTarget: true });
    return true;
  }

  /** The ticket's status and overall SLA clock after entering `target` at `at`. */
  private ticketChanges(
    ticket: TicketRow,
    workflow: Workflow,
    target: StageDefinitionRow,
    parent: StageDefinitionRow | undefined,
    at: Date,
    now: Date,
    firstTransition: boolean,
  ): TicketRowUpdate {
    // Before its first stage a ticket's clock has run since it was created.
    const segmentStart = ticket.sla_segment_start ?? (firstTransition ? ticket.created_at : null);
    const stops = target.final || target.pauses || (parent?.pauses ?? false);
    const clock = advanceSla(workflow.calendar, { usedMs: Number(ticket.sla_used_ms), segmentStart }, at, stops);
    const targetMs = workflow.project.ticket_target_minutes === null ? null : workflow.project.ticket_target_minutes * 60_000;
    const moments = target.final
      ? { atRiskAt: null, dueAt: null }
      : slaMoments(workflow.calendar, { targetMs, threshold: workflow.project.at_risk_threshold }, clock, {
          atRiskAt: ticket.sla_at_risk_at,
          dueAt: ticket.sla_due_at,
        });
    const changes: TicketRowUpdate = {
      sla_used_ms: clock.usedMs,
      sla_segment_start: clock.segmentStart,
      sla_at_risk_at: moments.atRiskAt,
      sla_due_at: moments.dueAt,
      updated_at: now,
    };
    if (target.final) Object.assign(changes, { status: 'closed', closed_at: at });
    // Work has started on a new ticket; a closed one moved back is reopened.
    else if (ticket.status === 'closed') Object.assign(changes, { status: 'open', closed_at: null });
    else if (ticket.status === 'new') changes.status = 'open';
    return changes;
  }

  async timeline(actor: Actor, ref: string) {
    // The whole timeline from one source: a replica when one may serve this actor.
    const db = this.database.reader(actor);
    const ticket = await this.peers.tickets.get(actor, ref, db);
    const now = this.clock.now();
    const workflow = await this.workflowOf(db, ticket);
    const stages = await this.workflow.visitsOf(db, ticket.id);
    const definitionOf = new Map((workflow?.definitions ?? []).map((definition) => [definition.id, definition]));
    const calendar = workflow?.calendar ?? null;
    const visits = stages
      .filter((stage) => definitionOf.has(stage.definition_id!))
      .map((stage) => presentVisit(stage, definitionOf.get(stage.definition_id!)!, calendar, now));
    const running = ticket.sla_segment_start ? businessMs(calendar, ticket.sla_segment_start, now) : 0;
    return {
      ticket_id: ticket.id,
      project: workflow ? { id: workflow.project.id, key: workflow.project.key, name: workflow.project.name } : null,
      now: now.toISOString(),
      ...delayOf(ticket, now),
      sla: {
        target_minutes: workflow?.project.ticket_target_minutes ?? null,
        used_business_ms: Number(ticket.sla_used_ms) + running,
        paused: ticket.status !== 'closed' && stages.length > 0 && ticket.sla_segment_start === null,
        at_risk_at: ticket.sla_at_risk_at?.toISOString() ?? null,
        due_at: ticket.sla_due_at?.toISOString() ?? null,
      },
      visits,
      time_in_stage: timeInStage(visits, workflow?.definitions ?? []),
    };
  }

  /** A page of history; customers see only public entries. */
  async history(actor: Actor, ref: string, limit: number, cursor: string | undefined) {
    const db = this.database.reader(actor);
    const ticket = await this.peers.tickets.get(actor, ref, db);
    return this.workflow.history(db, ticket.id, !seesInternal(actor), limit, cursor);
  }

  async comment(actor: Actor, ref: string, input: CommentInputType) {
    assertCan(actor, 'ticket:comment');
    const ticket = await this.peers.tickets.get(actor, ref);
    const visibility = input.visibility ?? 'public';
    if (visibility === 'internal' && !seesInternal(actor)) {
      throw new AppError('FORBIDDEN', 'customers may write public comments only', [
        { field: 'visibility', problem: 'must be public for a customer' },
      ]);
    }
    const now = this.clock.now();
    return this.db.transaction().execute(async (tx) => {
      await this.peers.audit.record(tx, {
        actor,
        action: 'ticket.commented',
        target: { type: 'ticket', id: ticket.id },
        details: { visibility },
      });
      return this.workflow.insertEvent(tx, {
        ticket_id: ticket.id,
        type: 'comment',
        actor_id: actor.id,
        actor_name: actor.name,
        visibility,
        data: { body: input.body },
        created_at: now,
      });
    });
  }
}
