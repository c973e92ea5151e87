import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import { keysetPage } from '../../db/keyset.js';
import type { ProjectRow, ProjectsTable, StageDefinitionRow, StageDefinitionsTable } from '../../db/types.js';

export type { ProjectRow, StageDefinitionRow };

const projectOrder = [
  { column: 'created_at', kind: 'timestamp' },
  { column: 'id', kind: 'text' },
] as const;

export class ProjectsRepository {
  /** By id or by key. */
  find(db: Executor, ref: string): Promise<ProjectRow | undefined> {
    return db
      .selectFrom('projects')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', ref), eb('key', '=', ref)]))
      .orderBy(sql`id = ${ref}`, 'desc')
      .executeTakeFirst();
  }

  findById(db: Executor, id: string): Promise<ProjectRow | undefined> {
    return db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A project with its stage definitions in workflow order (archived ones last), in one round trip. */
  findWithDefinitions(db: Executor, id: string): Promise<(ProjectRow & { definitions: StageDefinitionRow[] }) | undefined> {
    return this.withDefinitions(db).where('id', '=', id).executeTakeFirst();
  }

  /** By the text a ticket names its project with: its key, else its name (the SQL function `project_named`, 0024). */
  findWithDefinitionsNamed(db: Executor, name: string): Promise<(ProjectRow & { definitions: StageDefinitionRow[] }) | undefined> {
    return this.withDefinitions(db)
      .where('id', '=', sql<string>`project_named(${name})`)
      .executeTakeFirst();
  }

  private withDefinitions(db: Executor) {
    return db
      .selectFrom('projects')
      .selectAll('projects')
      .select((eb) =>
        jsonArrayFrom(
          eb.selectFrom('stage_definitions').selectAll().whereRef('project_id', '=', 'projects.id').orderBy('archived').orderBy('position'),
        ).as('definitions'),
      );
  }

  lock(tx: Tx, id: string): Promise<ProjectRow | undefined> {
    return tx.selectFrom('projects').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  }

  insert(tx: Tx, row: Insertable<ProjectsTable>): Promise<ProjectRow> {
    return tx.insertInto('projects').values(row).returningAll().executeTakeFirstOrThrow();
  }

  update(tx: Tx, id: string, changes: Updateable<ProjectsTable>): Promise<ProjectRow> {
    return tx
      .updateTable('projects')
      .set({ ...changes, version: sql`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  list(db: Executor, limit: number, cursor: string | undefined) {
    return keysetPage<ProjectRow>(db.selectFrom('projects').selectAll(), projectOrder, false, limit, cursor);
  }

  /** Each project's stage definitions in workflow order, for a whole page at once. */
  async definitionsOf(db: Executor, projectIds: readonly string[], includeArchived = true): Promise<Map<string, StageDefinitionRow[]>> {
    const byProject = new Map<string, StageDefinitionRow[]>(projectIds.map((id) => [id, []]));
    if (projectIds.length === 0) return byProject;
    let query = db.selectFrom('stage_definitions').selectAll().where('project_id', 'in', projectIds);
    if (!includeArchived) query = query.where('archived', '=', false);
    const rows = await query.orderBy('project_id').orderBy('archived').orderBy('position').execute();
    for (const row of rows) byProject.get(row.project_id)?.push(row);
    return byProject;
  }

  insertDefinition(tx: Tx, row: Insertable<StageDefinitionsTable>): Promise<StageDefinitionRow> {
    return tx.insertInto('stage_definitions').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async updateDefinition(tx: Tx, id: string, changes: Updateable<StageDefinitionsTable>): Promise<void> {
    await tx.updateTable('stage_definitions').set(changes).where('id', '=', id).execute();
  }

  /** Tickets already naming the project by key or name join it (new tickets join by trigger). */
  async adoptTickets(tx: Tx, project: ProjectRow): Promise<void> {
    await tx
      .updateTable('tickets')
      .set({ project_id: project.id })
      .where((eb) => eb.or([eb('project', '=', project.key), eb('project', '=', project.name)]))
      .where('project_id', 'is', null)
      .execute();
  }
}
