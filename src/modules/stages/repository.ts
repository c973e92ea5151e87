import { sql } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import { commonSorts, keysetPage } from '../../db/keyset.js';
import { customerEmailIn } from '../../db/sql-helpers.js';
import type { NewStageRow, StageRow, StageRowUpdate, StageType } from '../../db/types.js';
import type { StageRef } from '../tickets/validation.js';

export type StageState = 'planned' | 'active' | 'done';

export type StageFilters = {
  stageType?: StageType;
  majorStageId?: string;
  ticketId?: string;
  state?: StageState;
  overdue?: boolean;
  startedFrom?: Date;
  startedTo?: Date;
  /** The moment "overdue" is judged at. */
  now: Date;
  /** Only stages of tickets of these customer emails; undefined: all stages. */
  customerEmails?: string[];
};

export const stageSorts = commonSorts;

export type StageSortKey = keyof typeof stageSorts;
export type StageSort = { key: StageSortKey; descending: boolean };

export class StagesRepository {
  findById(db: Executor, id: string): Promise<StageRow | undefined> {
    return db.selectFrom('stages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByNumber(db: Executor, number: number): Promise<StageRow | undefined> {
    return db.selectFrom('stages').selectAll().where('number', '=', number).executeTakeFirst();
  }

  lock(tx: Tx, id: string): Promise<StageRow | undefined> {
    return tx.selectFrom('stages').selectAll().where('id', '=', id).forNoKeyUpdate().executeTakeFirst();
  }

  findByIds(db: Executor, ids: readonly string[]): Promise<StageRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return db.selectFrom('stages').selectAll().where('id', 'in', ids).execute();
  }

  /** Stage refs (ids, or numbers for the monitoring system's integer ids) → the ids that exist. */
  async idsForRefs(db: Executor, refs: readonly StageRef[]): Promise<Map<StageRef, string>> {
    const ids = refs.filter((ref): ref is string => typeof ref === 'string');
    const numbers = refs.filter((ref): ref is number => typeof ref === 'number');
    const found = new Map<StageRef, string>();
    if (ids.length === 0 && numbers.length === 0) return found;
    const rows = await db
      .selectFrom('stages')
      .select(['id', 'number'])
      .where((eb) => eb.or([...(ids.length ? [eb('id', 'in', ids)] : []), ...(numbers.length ? [eb('number', 'in', numbers)] : [])]))
      .execute();
    for (const row of rows) {
      if (ids.includes(row.id)) found.set(row.id, row.id);
      if (numbers.includes(row.number)) found.set(row.number, row.id);
    }
    return found;
  }

  insert(tx: Tx, row: NewStageRow): Promise<StageRow> {
    return tx.insertInto('stages').values(row).returningAll().executeTakeFirstOrThrow();
  }

  update(tx: Tx, id: string, changes: StageRowUpdate): Promise<StageRow> {
    return tx
      .updateTable('stages')
      .set({ ...changes, version: sql`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async minorIdsOf(db: Executor, majorId: string): Promise<string[]> {
    const rows = await db.selectFrom('stages').select('id').where('major_stage_id', '=', majorId).execute();
    return rows.map((row) => row.id);
  }

  async isLinkedToCustomer(db: Executor, stageId: string, customerEmails: readonly string[]): Promise<boolean> {
    const row = await db
      .selectFrom('ticket_stages')
      .innerJoin('tickets', 'tickets.id', 'ticket_stages.ticket_id')
      .select('ticket_stages.ticket_id')
      .where('ticket_stages.stage_id', '=', stageId)
      .where(customerEmailIn('tickets.customer_email', customerEmails))
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Which tickets list each stage, for a whole page at once. */
  async ticketIdsOf(db: Executor, stageIds: readonly string[]): Promise<Map<string, string[]>> {
    const byStage = new Map<string, string[]>(stageIds.map((id) => [id, []]));
    if (stageIds.length === 0) return byStage;
    const rows = await db
      .selectFrom('ticket_stages')
      .select(['stage_id', 'ticket_id'])
      .where('stage_id', 'in', stageIds)
      .orderBy('stage_id')
      .orderBy('ticket_id')
      .execute();
    for (const row of rows) byStage.get(row.stage_id)?.push(row.ticket_id);
    return byStage;
  }

  /** Removes stages and takes them off every ticket that lists them (a changed ticket gets a new version). */
  async delete(tx: Tx, ids: readonly string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await tx
      .updateTable('tickets')
      .set({
        updated_at: now,
        version: sql`version + 1`,
        current_stage_id: sql`case when current_stage_id in (${sql.join(ids)}) then null else current_stage_id end`,
      })
      .where('id', 'in', tx.selectFrom('ticket_stages').select('ticket_id').where('stage_id', 'in', ids))
      .execute();
    await tx.deleteFrom('ticket_stages').where('stage_id', 'in', ids).execute();
    await tx.deleteFrom('stages').where('id', 'in', ids).execute();
  }

  private filtered(db: Executor, filters: StageFilters) {
    let query = db.selectFrom('stages');
    if (filters.stageType) query = query.where('stage_type', '=', filters.stageType);
    if (filters.majorStageId) query = query.where('major_stage_id', '=', filters.majorStageId);
    if (filters.ticketId) {
      query = query.where('id', 'in', db.selectFrom('ticket_stages').select('stage_id').where('ticket_id', '=', filters.ticketId));
    }
    if (filters.state === 'planned') query = query.where('stage_start_time', 'is', null);
    if (filters.state === 'active') query = query.where('stage_start_time', 'is not', null).where('stage_end_time', 'is', null);
    if (filters.state === 'done') query = query.where('stage_end_time', 'is not', null);
    if (filters.overdue !== undefined) {
      const overdue = sql<boolean>`(due_at is not null and ((stage_end_time is null and due_at < ${filters.now}) or stage_end_time > due_at))`;
      query = query.where(filters.overdue ? overdue : sql<boolean>`not ${overdue}`);
    }
    if (filters.startedFrom) query = query.where('stage_start_time', '>=', filters.startedFrom);
    if (filters.startedTo) query = query.where('stage_start_time', '<', filters.startedTo);
    if (filters.customerEmails) {
      query = query.where(
        'id',
        'in',
        db
          .selectFrom('ticket_stages')
          .innerJoin('tickets', 'tickets.id', 'ticket_stages.ticket_id')
          .select('ticket_stages.stage_id')
          .where(customerEmailIn('tickets.customer_email', filters.customerEmails)),
      );
    }
    return query;
  }

  /** One page in the given order; `cursor` continues after the row it was made from. */
  list(db: Executor, filters: StageFilters, sort: StageSort, limit: number, cursor: string | undefined) {
    return keysetPage<StageRow>(this.filtered(db, filters).selectAll(), stageSorts[sort.key], sort.descending, limit, cursor);
  }

  async count(db: Executor, filters: StageFilters): Promise<number> {
    const row = await this.filtered(db, filters)
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .executeTakeFirstOrThrow();
    return Number(row.total);
  }
}
