import { sql } from 'kysely';
import type { Executor, Tx } from '../../db/database.js';
import { containsPattern } from '../../db/sql-helpers.js';
import type { UserRole, UserRow, UsersTable } from '../../db/types.js';
import type { Insertable, Updateable } from 'kysely';

export type UserFilters = { role?: UserRole; q?: string; afterEmail?: string };

export class UsersRepository {
  findById(db: Executor, id: string): Promise<UserRow | undefined> {
    return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
    return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  }

  lock(tx: Tx, id: string): Promise<UserRow | undefined> {
    return tx.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  }

  insert(tx: Executor, row: Insertable<UsersTable>): Promise<UserRow> {
    return tx.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow();
  }

  update(tx: Tx, id: string, changes: Updateable<UsersTable>): Promise<UserRow> {
    return tx
      .updateTable('users')
      .set({ ...changes, version: sql`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.deleteFrom('users').where('id', '=', id).execute();
  }

  async count(db: Executor): Promise<number> {
    const row = await db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Enabled admins other than `exceptId`: the last one may not be disabled, demoted or deleted. */
  async otherActiveAdmins(tx: Tx, exceptId: string): Promise<number> {
    const row = await tx
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .where('id', '<>', exceptId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  firstActiveAdmin(db: Executor): Promise<UserRow | undefined> {
    return db
      .selectFrom('users')
      .selectAll()
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
  }

  /** By email (unique), so the email is the cursor. */
  list(db: Executor, filters: UserFilters, limit: number): Promise<UserRow[]> {
    let query = db.selectFrom('users').selectAll();
    if (filters.role) query = query.where('role', '=', filters.role);
    if (filters.q) {
      const pattern = containsPattern(filters.q);
      query = query.where((eb) => eb.or([eb('email', 'like', pattern), eb(sql`lower(name)`, 'like', pattern)]));
    }
    if (filters.afterEmail !== undefined) query = query.where('email', '>', filters.afterEmail);
    return query.orderBy('email').limit(limit).execute();
  }
}
