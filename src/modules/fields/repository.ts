import { sql, type Insertable, type RawBuilder, type Updateable } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import type { FieldDefinitionRow, FieldType, TicketFieldsTable } from '../../db/types.js';
import { fieldNumberSql, fieldTextSql, fieldValueSql } from './sql.js';

export type { FieldDefinitionRow };

/** Which expression index a type's range filters and sort use, if any. */
export function rangeIndexOf(type: FieldType): 'number' | 'text' | null {
  if (type === 'number') return 'number';
  if (type === 'date' || type === 'datetime') return 'text';
  return null;
}

/** SQL true when the stored value `v` would convert to `type` (with these options); see `convertedSql`. */
function convertsSql(v: RawBuilder<unknown>, type: FieldType, options: string[] | null): RawBuilder<boolean> {
  const text = sql`(${v} #>> '{}')`;
  const isString = sql`jsonb_typeof(${v}) = 'string'`;
  const optionList = sql`${JSON.stringify(options ?? [])}::jsonb`;
  switch (type) {
    case 'text':
    case 'long_text':
      return sql<boolean>`jsonb_typeof(${v}) in ('string', 'number', 'boolean')`;
    case 'number':
      return sql<boolean>`(jsonb_typeof(${v}) = 'number' or (${isString} and ${text} ~ '^\\s*-?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?\\s*$'))`;
    case 'date':
      return sql<boolean>`(${isString} and ${text} ~ '^\\d{4}-\\d{2}-\\d{2}($|T)')`;
    case 'datetime':
      return sql<boolean>`(${isString} and ${text} ~ '^\\d{4}-\\d{2}-\\d{2}($|T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})$)')`;
    case 'select':
      return sql<boolean>`(${isString} and ${optionList} ? ${text})`;
    case 'multi_select':
      return sql<boolean>`((${isString} and ${optionList} ? ${text}) or (jsonb_typeof(${v}) = 'array' and ${optionList} @> ${v}))`;
    case 'checkbox':
      return sql<boolean>`(jsonb_typeof(${v}) = 'boolean' or (${isString} and lower(${text}) in ('true', 'false')))`;
    case 'url':
      return sql<boolean>`(${isString} and ${text} ~* '^https?://[^\\s]+$')`;
    case 'email':
      return sql<boolean>`(${isString} and ${text} ~ '^[^\\s@"<>,;]+@[^\\s@"<>,;]+\\.[^\\s@"<>,;.]{2,}$')`;
    case 'user':
      return sql<boolean>`(${isString} and exists (select 1 from users u where u.id = ${text}))`;
  }
}

/** The stored value `v` converted to `type` (only for values `convertsSql` accepts). */
function convertedSql(v: RawBuilder<unknown>, type: FieldType): RawBuilder<unknown> {
  const text = sql`(${v} #>> '{}')`;
  switch (type) {
    case 'text':
    case 'long_text':
      return sql`to_jsonb(${text})`;
    case 'number':
      return sql`case when jsonb_typeof(${v}) = 'number' then ${v} else to_jsonb(trim(${text})::numeric) end`;
    case 'date':
      return sql`to_jsonb(left(${text}, 10))`;
    case 'datetime':
      return sql`to_jsonb(to_char((case when length(${text}) = 10 then (${text} || 'T00:00:00Z') else ${text} end)::timestamptz at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;
    case 'multi_select':
      return sql`case when jsonb_typeof(${v}) = 'string' then jsonb_build_array(${v}) else ${v} end`;
    case 'checkbox':
      return sql`case when jsonb_typeof(${v}) = 'boolean' then ${v} else to_jsonb(lower(${text}) = 'true') end`;
    default:
      return v;
  }
}

export class FieldsRepository {
  list(db: Executor, projectId: string, includeArchived: boolean): Promise<FieldDefinitionRow[]> {
    let query = db.selectFrom('ticket_fields').selectAll().where('project_id', '=', projectId);
    if (!includeArchived) query = query.where('archived_at', 'is', null);
    return query.orderBy('position').orderBy('key').execute();
  }

  /** The definitions of the project a ticket's `project` text names (by key first, then by name), in one query. */
  listForProjectName(db: Executor, project: string): Promise<(FieldDefinitionRow & { project_id: string })[]> {
    return db
      .selectFrom('ticket_fields')
      .selectAll()
      .where(
        'project_id',
        '=',
        sql<string>`(select p.id from projects p where p.key = ${project} or p.name = ${project} order by p.key = ${project} desc limit 1)`,
      )
      .orderBy('position')
      .orderBy('key')
      .execute();
  }

  /** The definitions of several projects at once. */
  async listForProjects(db: Executor, projectIds: readonly string[]): Promise<FieldDefinitionRow[]> {
    if (projectIds.length === 0) return [];
    return db.selectFrom('ticket_fields').selectAll().where('project_id', 'in', projectIds).orderBy('position').orderBy('key').execute();
  }

  /** The types a live field of this key has across projects (one project may make it a number, another text). */
  async liveTypes(db: Executor, key: string, customerVisibleOnly: boolean): Promise<FieldType[]> {
    let query = db.selectFrom('ticket_fields').select('type').distinct().where('key', '=', key).where('archived_at', 'is', null);
    if (customerVisibleOnly) query = query.where('customer_visible', '=', true);
    return (await query.execute()).map((row) => row.type);
  }

  async liveKeys(db: Executor, customerVisibleOnly: boolean): Promise<string[]> {
    let query = db.selectFrom('ticket_fields').select('key').distinct().where('archived_at', 'is', null);
    if (customerVisibleOnly) query = query.where('customer_visible', '=', true);
    return (await query.orderBy('key').execute()).map((row) => row.key);
  }

  find(db: Executor, projectId: string, key: string): Promise<FieldDefinitionRow | undefined> {
    return db.selectFrom('ticket_fields').selectAll().where('project_id', '=', projectId).where('key', '=', key).executeTakeFirst();
  }

  lock(tx: Tx, projectId: string, key: string): Promise<FieldDefinitionRow | undefined> {
    return tx
      .selectFrom('ticket_fields')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('key', '=', key)
      .forUpdate()
      .executeTakeFirst();
  }

  insert(tx: Tx, row: Insertable<TicketFieldsTable>): Promise<FieldDefinitionRow> {
    return tx.insertInto('ticket_fields').values(row).returningAll().executeTakeFirstOrThrow();
  }

  update(tx: Tx, projectId: string, key: string, changes: Updateable<TicketFieldsTable>): Promise<FieldDefinitionRow> {
    return tx
      .updateTable('ticket_fields')
      .set(changes)
      .where('project_id', '=', projectId)
      .where('key', '=', key)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Which of these user ids exist. */
  async existingUsers(db: Executor, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db.selectFrom('users').select('id').where('id', 'in', ids).execute();
    return new Set(rows.map((row) => row.id));
  }

  /** How many of the project's tickets hold a value for `key` that would not convert to `type` (with `options`). */
  async countInconvertible(db: Executor, projectId: string, key: string, type: FieldType, options: string[] | null): Promise<number> {
    const v = fieldValueSql(key);
    const row = await db
      .selectFrom('tickets')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', projectId)
      .where(sql<boolean>`fields ? ${key}`)
      .where(sql<boolean>`not (${convertsSql(v, type, options)})`)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Rewrites the project's stored values of `key` in the new type's form (all of them convert: see countInconvertible). */
  async convertValues(tx: Tx, projectId: string, key: string, type: FieldType): Promise<void> {
    const v = fieldValueSql(key);
    const converted = convertedSql(v, type);
    // Only rows whose value changes form: the rest are left alone (no new row versions, no change log entries).
    await tx
      .updateTable('tickets')
      .set({ fields: sql`jsonb_set(fields, ${sql.val(`{${key}}`)}::text[], ${converted})` })
      .where('project_id', '=', projectId)
      .where(sql<boolean>`fields ? ${key}`)
      .where(sql<boolean>`${converted} is distinct from ${v}`)
      .execute();
  }

  /**
   * The expression index range filters and sorts on this key use (one per key and kind, shared by every project).
   * Created with the definition, in its transaction; on a big table that takes a while once (see docs/fields.md).
   */
  async ensureIndex(tx: Tx, key: string, type: FieldType): Promise<void> {
    const kind = rangeIndexOf(type);
    if (!kind) return;
    const expression = kind === 'number' ? fieldNumberSql(key) : fieldTextSql(key);
    const name = sql.id(`tickets_field_${kind}_${key}`);
    await sql`create index if not exists ${name} on tickets ((${expression}))`.execute(tx);
  }
}
