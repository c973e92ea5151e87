import type { RawBuilder } from 'kysely';
import type { Clock } from '../../clock.js';
import type { Db, Executor } from '../../db/database.js';
import type { ProjectRow } from '../../db/types.js';
import { AppError, invalid, notFound, type ErrorDetail } from '../../errors.js';
import type { AuditLog } from '../audit/service.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, seesInternal, type Actor } from '../access/policy.js';
import type { ProjectsService } from '../projects/service.js';
import { FieldsRepository, type FieldDefinitionRow } from './repository.js';
import { fieldNumberSql, fieldTextSql } from './sql.js';
import type { FieldCreateInput, FieldPatchInput } from './schemas.js';
import { checkValue, fieldKeyRegExp, requirementProblem, type FieldRequirement, type FieldValue } from './values.js';

export type FieldValues = Record<string, FieldValue>;

/** One field's value changed on a ticket: what the history records. */
export type FieldChange = { definition: FieldDefinitionRow; old: FieldValue | null; new: FieldValue | null };

/** A move between stages, as the gates see it. */
export type StageMove = { leaving: { key: string; name: string }[]; entering: { key: string; name: string; final: boolean } };

const live = (definition: FieldDefinitionRow) => definition.archived_at === null;

/** Customers see and set only the fields marked for them. */
function mayTouch(actor: Actor, definition: FieldDefinitionRow): boolean {
  return seesInternal(actor) || definition.customer_visible;
}

export class FieldsService {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly fields = new FieldsRepository();

  constructor(
    context: ServiceContext,
    private readonly audit: AuditLog,
    private readonly projects: Pick<ProjectsService, 'find' | 'workflowOf'>,
  ) {
    this.db = context.database.db;
    this.clock = context.clock;
  }

  private async project(db: Executor, ref: string): Promise<ProjectRow> {
    return (await this.projects.find(db, ref)) ?? notFound('project', ref);
  }

  /** A project's fields in order; customers get the live ones marked for them only. */
  async list(actor: Actor, projectRef: string, includeArchived = false): Promise<FieldDefinitionRow[]> {
    assertCan(actor, 'ticket:read');
    const project = await this.project(this.db, projectRef);
    const customer = !seesInternal(actor);
    const rows = await this.fields.list(this.db, project.id, includeArchived && !customer);
    return customer ? rows.filter((row) => row.customer_visible) : rows;
  }

  /** The keys of a project's live fields a board card shows (`show_on_card`), in order; the board checked its permission. */
  async cardKeys(db: Executor, projectId: string): Promise<string[]> {
    return (await this.fields.list(db, projectId, false)).filter((field) => field.show_on_card).map((field) => field.key);
  }

  /** Options, default and stage requirement agree with the type and the project's workflow. */
  private async definitionProblems(
    db: Executor,
    project: ProjectRow,
    definition: Pick<FieldDefinitionRow, 'key' | 'type' | 'options' | 'default_value' | 'required'>,
  ): Promise<ErrorDetail[]> {
    const problems: ErrorDetail[] = [];
    const selects = definition.type === 'select' || definition.type === 'multi_select';
    if (selects) {
      const options = definition.options ?? [];
      if (options.length === 0) problems.push({ field: 'options', problem: `a ${definition.type} field needs at least one option` });
      const twice = options.find((option, index) => options.indexOf(option) !== index);
      if (twice !== undefined) problems.push({ field: 'options', problem: `"${twice}" is listed twice` });
    } else if (definition.options !== null && definition.options.length > 0) {
      problems.push({ field: 'options', problem: `only select and multi_select fields have options, not ${definition.type}` });
    }
    if (definition.default_value !== null && problems.length === 0) {
      const checked = checkValue(definition, definition.default_value);
      if (checked.problem) problems.push({ field: 'default', problem: checked.problem });
      else if (definition.type === 'user' && (await this.fields.existingUsers(db, [checked.value as string])).size === 0) {
        problems.push({ field: 'default', problem: `user ${String(checked.value)} does not exist` });
      }
    }
    const required = definition.required as FieldRequirement;
    if (required !== null && typeof required === 'object') {
      const workflow = await this.projects.workflowOf(db, project.id);
      const stages = (workflow?.definitions ?? []).filter((stage) => !stage.archived);
      if (!stages.some((stage) => stage.key === required.leave_stage)) {
        problems.push({
          field: 'required.leave_stage',
          problem: `no stage "${required.leave_stage}" in the workflow of project ${project.key}`,
        });
      }
    }
    return problems;
  }

  async create(actor: Actor, projectRef: string, input: FieldCreateInput): Promise<FieldDefinitionRow> {
    assertCan(actor, 'project:write');
    return this.db.transaction().execute(async (tx) => {
      const project = await this.project(tx, projectRef);
      const row = {
        project_id: project.id,
        key: input.key,
        label: input.label,
        type: input.type,
        options: input.options ?? null,
        default_value:
          input.default === undefined ? null : (checkValue({ ...input, options: input.options ?? null }, input.default).value ?? null),
        required: input.required ?? null,
      };
      const problems = await this.definitionProblems(tx, project, { ...row, default_value: input.default ?? null });
      if (problems.length) invalid(problems);
      if (await this.fields.find(tx, project.id, input.key)) {
        throw new AppError('CONFLICT', `project ${project.key} already has a field "${input.key}" (archived ones keep their key)`, [
          { field: 'key', problem: 'is taken in this project' },
        ]);
      }
      const now = this.clock.now();
      const created = await this.fields.insert(tx, {
        ...row,
        options: row.options ? JSON.stringify(row.options) : null,
        default_value: row.default_value === null ? null : JSON.stringify(row.default_value),
        required: row.required === null ? null : JSON.stringify(row.required),
        help_text: input.help_text ?? null,
        customer_visible: input.customer_visible ?? false,
        position: input.position ?? (await this.fields.list(tx, project.id, true)).length,
        show_on_card: input.show_on_card ?? false,
        archived_at: null,
        created_at: now,
        updated_at: now,
      });
      await this.fields.ensureIndex(tx, created.key, created.type);
      await this.audit.record(tx, {
        actor,
        action: 'field.created',
        target: { type: 'project', id: project.id },
        details: { key: created.key, fields: Object.keys(input) },
      });
      return created;
    });
  }

  async update(
    actor: Actor,
    projectRef: string,
    key: string,
    input: FieldPatchInput,
    action = 'field.updated',
  ): Promise<FieldDefinitionRow> {
    assertCan(actor, 'project:write');
    if (input.key !== undefined && input.key !== key) invalid([{ field: 'key', problem: 'cannot change; create a new field instead' }]);
    return this.db.transaction().execute(async (tx) => {
      const project = await this.project(tx, projectRef);
      const current = (await this.fields.lock(tx, project.id, key)) ?? notFound('field', key);
      const type = input.type ?? current.type;
      const options = input.options !== undefined ? input.options : type === current.type ? current.options : null;
      const defaultValue = input.default !== undefined ? input.default : current.default_value;
      const required = input.required !== undefined ? input.required : current.required;
      const next = { key, type, options, default_value: defaultValue, required };
      const problems = await this.definitionProblems(tx, project, next);
      if (problems.length) invalid(problems);
      const retyped = type !== current.type;
      const narrowed = !retyped && options !== null && (current.options ?? []).some((option) => !options.includes(option));
      if (retyped || narrowed) {
        const blocking = await this.fields.countInconvertible(tx, project.id, key, type, options);
        if (blocking > 0) {
          const what = retyped ? `changing field "${key}" from ${current.type} to ${type}` : `removing options of field "${key}"`;
          throw new AppError(
            'CONFLICT',
            `${what} is refused: ${blocking} ticket(s) hold a value that would not convert; change or clear those first`,
            [{ field: retyped ? 'type' : 'options', problem: `${blocking} ticket(s) hold values that would not convert` }],
            { tickets_in_the_way: blocking },
          );
        }
        if (retyped) {
          await this.fields.convertValues(tx, project.id, key, type);
          await this.fields.ensureIndex(tx, key, type);
        }
      }
      const checkedDefault = defaultValue === null ? null : (checkValue({ key, type, options }, defaultValue).value ?? null);
      await this.audit.record(tx, {
        actor,
        action,
        target: { type: 'project', id: project.id },
        details: { key, fields: Object.keys(input) },
      });
      return this.fields.update(tx, project.id, key, {
        type,
        options: options === null ? null : JSON.stringify(options),
        default_value: checkedDefault === null ? null : JSON.stringify(checkedDefault),
        required: required === null ? null : JSON.stringify(required),
        ...(input.label !== undefined ? { label: input.label } : {}),
        ...(input.help_text !== undefined ? { help_text: input.help_text } : {}),
        ...(input.customer_visible !== undefined ? { customer_visible: input.customer_visible } : {}),
        ...(input.position !== undefined ? { position: input.position } : {}),
        ...(input.show_on_card !== undefined ? { show_on_card: input.show_on_card } : {}),
        ...(input.archived === false
          ? { archived_at: null }
          : input.archived === true && current.archived_at === null
            ? { archived_at: this.clock.now() }
            : {}),
        updated_at: this.clock.now(),
      });
    });
  }

  /** Archives, never deletes: values stay on tickets and history naming the field stays readable. */
  async archive(actor: Actor, projectRef: string, key: string): Promise<FieldDefinitionRow> {
    return this.update(actor, projectRef, key, { archived: true }, 'field.archived');
  }

  /** The live field keys the actor may see across projects, in key order (an export's `field.<key>` columns). */
  async keysVisibleTo(actor: Actor): Promise<string[]> {
    return this.fields.liveKeys(this.db, !seesInternal(actor));
  }

  /**
   * What `sort=field.<key>` orders by: the number when any live field of that key is a number (values of another type
   * then sort as missing, last), else the stored text. A key the actor may not see is refused, naming it.
   */
  async sortValue(actor: Actor, key: string, db: Executor = this.db): Promise<{ value: RawBuilder<unknown>; numeric: boolean }> {
    const types = fieldKeyRegExp.test(key) ? await this.fields.liveTypes(db, key, !seesInternal(actor)) : [];
    if (types.length === 0) invalid([{ field: 'sort', problem: `no field "${key}" to sort by (field.${key})` }]);
    return types.includes('number') ? { value: fieldNumberSql(key), numeric: true } : { value: fieldTextSql(key), numeric: false };
  }

  // ——— Values on tickets (called by the tickets and workflow services, inside their transactions) ———

  /** The fields of the project a ticket's `project` names; none when it names none. */
  definitionsForProjectName(db: Executor, project: string | null | undefined): Promise<FieldDefinitionRow[]> {
    return project ? this.fields.listForProjectName(db, project) : Promise.resolve([]);
  }

  definitionsForProject(db: Executor, projectId: string | null): Promise<FieldDefinitionRow[]> {
    return projectId ? this.fields.list(db, projectId, true) : Promise.resolve([]);
  }

  /** Checks `given` against the definitions (types, keys, who may set them); the values to store, null clearing. */
  private async checked(
    db: Executor,
    actor: Actor,
    definitions: readonly FieldDefinitionRow[],
    given: Record<string, unknown>,
    noProject: boolean,
  ): Promise<Map<FieldDefinitionRow, FieldValue | null>> {
    const byKey = new Map(
      definitions.filter((definition) => mayTouch(actor, definition)).map((definition) => [definition.key, definition]),
    );
    const problems: ErrorDetail[] = [];
    const values = new Map<FieldDefinitionRow, FieldValue | null>();
    for (const [key, value] of Object.entries(given)) {
      const definition = byKey.get(key);
      const field = `fields.${key}`;
      if (!definition) {
        problems.push({
          field,
          problem: noProject ? 'unknown field: the ticket is in no project with fields' : `unknown field "${key}" in this project`,
        });
      } else if (!live(definition)) problems.push({ field, problem: `field "${key}" is archived` });
      else {
        const checked = checkValue(definition, value);
        if (checked.problem !== undefined) problems.push({ field, problem: checked.problem });
        else values.set(definition, checked.value);
      }
    }
    const users = [...values].filter(([definition, value]) => definition.type === 'user' && value !== null);
    if (users.length) {
      const existing = await this.fields.existingUsers(
        db,
        users.map(([, value]) => value as string),
      );
      for (const [definition, value] of users) {
        if (!existing.has(value as string))
          problems.push({ field: `fields.${definition.key}`, problem: `user ${String(value)} does not exist` });
      }
    }
    if (problems.length) invalid(problems);
    return values;
  }

  /** A new ticket's values: the given ones checked, defaults for the rest; `always` ones the actor may set must be there. */
  async valuesForCreate(
    db: Executor,
    actor: Actor,
    definitions: readonly FieldDefinitionRow[],
    given: Record<string, unknown> | undefined,
    noProject: boolean,
  ): Promise<FieldValues> {
    const values: FieldValues = {};
    for (const definition of definitions) {
      if (live(definition) && definition.default_value !== null) values[definition.key] = definition.default_value as FieldValue;
    }
    for (const [definition, value] of given ? await this.checked(db, actor, definitions, given, noProject) : []) {
      if (value === null) delete values[definition.key];
      else values[definition.key] = value;
    }
    const missing = definitions.filter(
      (definition) => live(definition) && mayTouch(actor, definition) && definition.required === 'always' && !(definition.key in values),
    );
    if (missing.length)
      invalid(missing.map((definition) => ({ field: `fields.${definition.key}`, problem: `${definition.label} is required` })));
    return values;
  }

  /** `current` with `given` applied, and each change made (for the history); `always` fields may not be cleared. */
  async merge(
    db: Executor,
    actor: Actor,
    definitions: readonly FieldDefinitionRow[],
    current: Record<string, unknown>,
    given: Record<string, unknown>,
    noProject: boolean,
  ): Promise<{ values: FieldValues; changes: FieldChange[] }> {
    const values = { ...current } as FieldValues;
    const changes: FieldChange[] = [];
    const problems: ErrorDetail[] = [];
    for (const [definition, value] of await this.checked(db, actor, definitions, given, noProject)) {
      const old = (current[definition.key] ?? null) as FieldValue | null;
      if (JSON.stringify(old) === JSON.stringify(value)) continue;
      if (value === null && definition.required === 'always') {
        problems.push({ field: `fields.${definition.key}`, problem: `${definition.label} is required and cannot be cleared` });
      }
      if (value === null) delete values[definition.key];
      else values[definition.key] = value;
      changes.push({ definition, old, new: value });
    }
    if (problems.length) invalid(problems);
    return { values, changes };
  }

  /** The fields a move between stages needs and the ticket lacks, each naming the rule. */
  missingForMove(definitions: readonly FieldDefinitionRow[], values: Record<string, unknown>, move: StageMove): ErrorDetail[] {
    return definitions.flatMap((definition) => {
      if (!live(definition) || (values[definition.key] ?? null) !== null) return [];
      const problem = requirementProblem(definition.required as FieldRequirement, move);
      return problem ? [{ field: `fields.${definition.key}`, problem }] : [];
    });
  }

  /** Tickets as a customer may see them: only the fields marked for customers (everybody else sees all). */
  async visibleTo<T extends { project_id: string | null; fields: Record<string, unknown> }>(
    actor: Actor,
    tickets: T[],
    db: Executor = this.db,
  ): Promise<T[]> {
    if (seesInternal(actor) || tickets.every((ticket) => Object.keys(ticket.fields ?? {}).length === 0)) return tickets;
    const projectIds = [...new Set(tickets.map((ticket) => ticket.project_id).filter((id): id is string => id !== null))];
    const visible = new Set(
      (await this.fields.listForProjects(db, projectIds))
        .filter((definition) => definition.customer_visible && live(definition))
        .map((definition) => `${definition.project_id}\u0000${definition.key}`),
    );
    return tickets.map((ticket) => ({
      ...ticket,
      fields: Object.fromEntries(Object.entries(ticket.fields ?? {}).filter(([key]) => visible.has(`${ticket.project_id}\u0000${key}`))),
    }));
  }
}
