import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Db, Executor, Tx } from '../../db/database.js';
import { AppError, invalid, notFound, type ErrorDetail } from '../../errors.js';
import type { AuditLog } from '../audit/service.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, type Actor } from '../access/policy.js';
import { calendarProblems, type Calendar } from './calendar.js';
import { ProjectsRepository, type ProjectRow, type StageDefinitionRow } from './repository.js';
import type { ProjectCreateInput, ProjectPatchInput } from './schemas.js';

export type Transition = { from: string | null; to: string };
type StageDefinitionInput = ProjectCreateInput['stages'][number];

/** A project with its workflow's stage definitions in order (archived ones last). */
export type ProjectView = ProjectRow & { definitions: StageDefinitionRow[] };

export type Workflow = {
  project: ProjectRow;
  calendar: Calendar | null;
  transitions: Transition[] | null;
  definitions: StageDefinitionRow[];
};

/** Problems with a workflow's stages and transitions, each naming its field. */
function workflowProblems(stages: readonly StageDefinitionInput[], transitions: readonly Transition[] | null | undefined): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const byKey = new Map<string, StageDefinitionInput>();
  stages.forEach((stage, index) => {
    if (byKey.has(stage.key))
      problems.push({
        field: `stages.${index}.key`,
        problem: `"${stage.key}" is used twice`,
      });
    byKey.set(stage.key, stage);
  });
  stages.forEach((stage, index) => {
    if (!stage.parent) return;
    const parent = byKey.get(stage.parent);
    if (!parent)
      problems.push({
        field: `stages.${index}.parent`,
        problem: `no stage "${stage.parent}" in this workflow`,
      });
    else if (parent.parent)
      problems.push({
        field: `stages.${index}.parent`,
        problem: `"${stage.parent}" is itself a minor stage`,
      });
    else if (parent.final)
      problems.push({
        field: `stages.${index}.parent`,
        problem: `"${stage.parent}" is a final stage`,
      });
  });
  (transitions ?? []).forEach((transition, index) => {
    if (transition.from !== null && !byKey.has(transition.from)) {
      problems.push({
        field: `transitions.${index}.from`,
        problem: `no stage "${transition.from}" in this workflow`,
      });
    }
    if (!byKey.has(transition.to))
      problems.push({
        field: `transitions.${index}.to`,
        problem: `no stage "${transition.to}" in this workflow`,
      });
  });
  return problems;
}

export class ProjectsService {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly projects = new ProjectsRepository();

  constructor(
    context: ServiceContext,
    private readonly audit: AuditLog,
  ) {
    this.db = context.database.db;
    this.clock = context.clock;
  }

  private async view(db: Executor, project: ProjectRow, includeArchived = true): Promise<ProjectView> {
    const definitions = await this.projects.definitionsOf(db, [project.id], includeArchived);
    return { ...project, definitions: definitions.get(project.id) ?? [] };
  }

  /** A project by id or key, for another module's service that has checked its own permission. */
  find(db: Executor, ref: string): Promise<ProjectRow | undefined> {
    return this.projects.find(db, ref);
  }

  async get(actor: Actor, ref: string, includeArchived = false): Promise<ProjectView> {
    assertCan(actor, 'project:read');
    const project = (await this.projects.find(this.db, ref)) ?? notFound('project', ref);
    return this.view(this.db, project, includeArchived);
  }

  async list(actor: Actor, limit: number, cursor: string | undefined, includeArchived = false) {
    assertCan(actor, 'project:read');
    const { rows, nextCursor } = await this.projects.list(this.db, limit, cursor);
    const definitions = await this.projects.definitionsOf(
      this.db,
      rows.map((row) => row.id),
      includeArchived,
    );
    return {
      items: rows.map((row) => ({
        ...row,
        definitions: definitions.get(row.id) ?? [],
      })),
      nextCursor,
    };
  }

  /** A project's workflow by project id, for transitions and the timeline (archived definitions included). */
  async workflowOf(db: Executor, projectId: string): Promise<Workflow | undefined> {
    return this.workflowFrom(await this.projects.findWithDefinitions(db, projectId));
  }

  /** The workflow of the project a ticket names by key or name (a ticket not yet written has no `project_id`). */
  async workflowNamed(db: Executor, name: string): Promise<Workflow | undefined> {
    return this.workflowFrom(await this.projects.findWithDefinitionsNamed(db, name));
  }

  private workflowFrom(found: Awaited<ReturnType<ProjectsRepository['findWithDefinitions']>>): Workflow | undefined {
    if (!found) return undefined;
    const { definitions, ...project } = found;
    return {
      project,
      calendar: project.calendar as Calendar | null,
      transitions: project.transitions as Transition[] | null,
      definitions,
    };
  }

  async create(actor: Actor, input: ProjectCreateInput): Promise<ProjectView> {
    assertCan(actor, 'project:write');
    const calendar = input.calendar ? { ...input.calendar, holidays: input.calendar.holidays ?? [] } : null;
    this.validate(calendar, input.stages, input.transitions);
    const now = this.clock.now();
    return this.db.transaction().execute(async (tx) => {
      if (await this.projects.find(tx, input.key)) {
        throw new AppError('CONFLICT', `a project with key "${input.key}" already exists`, [{ field: 'key', problem: 'is taken' }]);
      }
      const project = await this.projects.insert(tx, {
        id: randomUUID(),
        key: input.key,
        name: input.name,
        description: input.description ?? null,
        calendar: calendar ? JSON.stringify(calendar) : null,
        at_risk_threshold: input.at_risk_threshold ?? 0.8,
        breach_likely_threshold: input.breach_likely_threshold ?? 0.7,
        ticket_target_minutes: input.ticket_target_minutes ?? null,
        new_tickets_enter_first_stage: input.new_tickets_enter_first_stage ?? true,
        transitions: input.transitions ? JSON.stringify(input.transitions) : null,
        created_at: now,
        updated_at: now,
      });
      await this.saveDefinitions(tx, project.id, [], input.stages);
      await this.projects.adoptTickets(tx, project);
      await this.audit.record(tx, {
        actor,
        action: 'project.created',
        target: { type: 'project', id: project.id },
        details: { fields: Object.keys(input) },
      });
      return this.view(tx, project, false);
    });
  }

  /** PUT replaces every field (absent optional ones reset); PATCH changes only those given. Stage records keep their history either way. */
  async update(actor: Actor, ref: string, input: ProjectPatchInput, replace: boolean, expectedVersion?: number): Promise<ProjectView> {
    assertCan(actor, 'project:write');
    if (replace) {
      const missing = (['key', 'name', 'stages'] as const).filter((field) => input[field] === undefined);
      if (missing.length)
        invalid(
          missing.map((field) => ({
            field,
            problem: 'is required for PUT (use PATCH to change some fields)',
          })),
        );
    }
    return this.db.transaction().execute(async (tx) => {
      const found = (await this.projects.find(tx, ref)) ?? notFound('project', ref);
      const project = (await this.projects.lock(tx, found.id)) ?? notFound('project', ref);
      const version = expectedVersion ?? (typeof input.version === 'number' ? input.version : undefined);
      if (version !== undefined && version !== project.version) {
        throw new AppError('VERSION_MISMATCH', `project ${project.key} is at version ${project.version}, not ${version}`);
      }
      const existing = (await this.projects.definitionsOf(tx, [project.id])).get(project.id) ?? [];
      const stages =
        input.stages ??
        this.asInput(
          existing.filter((definition) => !definition.archived),
          existing,
        );
      const pick = <K extends keyof ProjectPatchInput>(field: K, current: unknown, fallback: unknown) =>
        input[field] !== undefined ? input[field] : replace ? fallback : current;
      const given = pick('calendar', project.calendar, null) as Calendar | null;
      const calendar = given ? { ...given, holidays: given.holidays ?? [] } : null;
      const transitions = pick('transitions', project.transitions, null) as Transition[] | null;
      this.validate(calendar, stages, transitions);
      const key = input.key ?? project.key;
      if (key !== project.key) {
        const other = await this.projects.find(tx, key);
        if (other && other.id !== project.id) {
          throw new AppError('CONFLICT', `a project with key "${key}" already exists`, [{ field: 'key', problem: 'is taken' }]);
        }
      }
      const updated = await this.projects.update(tx, project.id, {
        key,
        name: input.name ?? project.name,
        description: pick('description', project.description, null) as string | null,
        calendar: calendar ? JSON.stringify(calendar) : null,
        at_risk_threshold: pick('at_risk_threshold', project.at_risk_threshold, 0.8) as number,
        breach_likely_threshold: pick('breach_likely_threshold', project.breach_likely_threshold, 0.7) as number,
        ticket_target_minutes: pick('ticket_target_minutes', project.ticket_target_minutes, null) as number | null,
        new_tickets_enter_first_stage: pick('new_tickets_enter_first_stage', project.new_tickets_enter_first_stage, true) as boolean,
        transitions: transitions ? JSON.stringify(transitions) : null,
        updated_at: this.clock.now(),
      });
      if (input.stages) await this.saveDefinitions(tx, project.id, existing, input.stages);
      await this.projects.adoptTickets(tx, updated);
      await this.audit.record(tx, {
        actor,
        action: 'project.updated',
        target: { type: 'project', id: project.id },
        details: { fields: Object.keys(input) },
      });
      return this.view(tx, updated, false);
    });
  }

  private validate(
    calendar: Calendar | null | undefined,
    stages: readonly StageDefinitionInput[],
    transitions: Transition[] | null | undefined,
  ) {
    const problems = [...(calendar ? calendarProblems(calendar) : []), ...workflowProblems(stages, transitions)];
    if (problems.length) invalid(problems);
  }

  private asInput(definitions: readonly StageDefinitionRow[], all: readonly StageDefinitionRow[]): StageDefinitionInput[] {
    const keyOf = new Map(all.map((definition) => [definition.id, definition.key]));
    return definitions.map((definition) => ({
      key: definition.key,
      name: definition.name,
      parent: definition.parent_id ? (keyOf.get(definition.parent_id) ?? null) : null,
      target_minutes: definition.target_minutes,
      pauses: definition.pauses,
      final: definition.final,
    }));
  }

  /** Matches stages by key: existing definitions are updated, new ones added, missing ones archived (never deleted). */
  private async saveDefinitions(
    tx: Tx,
    projectId: string,
    existing: readonly StageDefinitionRow[],
    stages: readonly StageDefinitionInput[],
  ) {
    const byKey = new Map(existing.map((definition) => [definition.key, definition]));
    const ids = new Map<string, string>();
    for (const [position, stage] of stages.entries()) {
      const fields = {
        name: stage.name,
        position,
        target_minutes: stage.target_minutes ?? null,
        pauses: stage.pauses ?? false,
        final: stage.final ?? false,
        archived: false,
        parent_id: null,
      };
      const current = byKey.get(stage.key);
      if (current) {
        await this.projects.updateDefinition(tx, current.id, fields);
        ids.set(stage.key, current.id);
      } else {
        const inserted = await this.projects.insertDefinition(tx, {
          id: randomUUID(),
          project_id: projectId,
          key: stage.key,
          ...fields,
        });
        ids.set(stage.key, inserted.id);
      }
    }
    for (const stage of stages) {
      if (stage.parent)
        await this.projects.updateDefinition(tx, ids.get(stage.key)!, {
          parent_id: ids.get(stage.parent)!,
        });
    }
    for (const definition of existing) {
      if (!ids.has(definition.key)) {
        await this.projects.updateDefinition(tx, definition.id, {
          archived: true,
          position: stages.length + definition.position,
        });
      }
    }
  }
}
