import { sql } from 'kysely';
import type { Config } from '../config.js';
import type { Database, Db } from './database.js';

/*
 * The month partitions of the append-only history (migration 0017): made ahead of time, and past retention dropped
 * or detached whole — no row-by-row delete, no bloat, no vacuum debt. Run by a periodic job (src/app.ts).
 */

export type PartitionedTable = 'ticket_events' | 'change_log' | 'audit_log' | 'log_entries';

/** Each partitioned table and the column it is partitioned on. */
export const partitionedTables: Record<PartitionedTable, string> = {
  ticket_events: 'created_at',
  change_log: 'created_at',
  audit_log: 'at',
  log_entries: 'timestamp',
};

export type Retention = {
  /** Months kept before the current one (0: kept for ever). */
  months: Partial<Record<PartitionedTable, number>>;
  /** `drop`: old months are deleted; `detach`: they become ordinary tables (`<name>`) to archive and drop by hand. */
  mode: 'drop' | 'detach';
};

export type MaintenanceReport = { created: string[]; moved: number; removed: string[] };

const AHEAD_MONTHS = 3;

/** 'YYYY-MM-01' of the month `offset` months from `at`'s month (UTC). */
export function monthStart(at: Date, offset = 0): string {
  const date = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + offset, 1));
  return date.toISOString().slice(0, 10);
}

function partitionName(table: string, month: string): string {
  return `${table}_p${month.slice(0, 4)}_${month.slice(5, 7)}`;
}

const NAME = /_p(\d{4})_(\d{2})$/;

export class PartitionMaintenance {
  constructor(
    private readonly db: Db,
    private readonly retention: Retention,
  ) {}

  /** Months this one to AHEAD_MONTHS ahead exist for every table; months past retention are gone. */
  async maintain(now: Date): Promise<MaintenanceReport> {
    const report: MaintenanceReport = { created: [], moved: 0, removed: [] };
    for (const [table, column] of Object.entries(partitionedTables) as [PartitionedTable, string][]) {
      const existing = new Set(await this.partitions(table));
      for (let offset = 0; offset <= AHEAD_MONTHS; offset++) {
        const month = monthStart(now, offset);
        const name = partitionName(table, month);
        if (existing.has(name)) continue;
        report.moved += await this.create(table, column, month, monthStart(new Date(`${month}T00:00:00Z`), 1));
        report.created.push(name);
      }
      const keep = this.retention.months[table] ?? 0;
      if (keep > 0) {
        const oldestKept = monthStart(now, -keep);
        for (const name of existing) {
          const match = NAME.exec(name);
          if (match && `${match[1]}-${match[2]}-01` < oldestKept) {
            await this.remove(table, name);
            report.removed.push(name);
          }
        }
      }
    }
    return report;
  }

  /** The month partitions of a table, by name. */
  async partitions(table: PartitionedTable): Promise<string[]> {
    const { rows } = await sql<{ name: string }>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = ${table}::regclass order by 1`.execute(this.db);
    return rows.map((row) => row.name).filter((name) => NAME.test(name));
  }

  /**
   * Makes a month's partition. Rows already in the default partition for that month (written with a clock outside
   * the months made so far) move into it in the same transaction; returns how many.
   */
  private async create(table: PartitionedTable, column: string, from: string, to: string): Promise<number> {
    const name = partitionName(table, from);
    const bounds = sql`from (${sql.lit(`${from} 00:00:00+00`)}) to (${sql.lit(`${to} 00:00:00+00`)})`;
    const range = sql`${sql.id(column)} >= ${sql.lit(`${from} 00:00:00+00`)}::timestamptz and ${sql.id(column)} < ${sql.lit(`${to} 00:00:00+00`)}::timestamptz`;
    return this.db.transaction().execute(async (tx) => {
      const defaultPartition = sql.id(`${table}_default`);
      const { rows } = await sql<{ found: boolean }>`select exists (select 1 from ${defaultPartition} where ${range}) as found`.execute(tx);
      if (!rows[0]!.found) {
        await sql`create table if not exists ${sql.id(name)} partition of ${sql.id(table)} for values ${bounds}`.execute(tx);
        return 0;
      }
      // Attaching needs the default partition free of the month's rows: move them into the new table first.
      await sql`set local stageline.partition_move = 'on'`.execute(tx);
      await sql`create table ${sql.id(name)} (like ${sql.id(table)} including defaults including constraints)`.execute(tx);
      const moved = await sql`
        with moved as (delete from ${defaultPartition} where ${range} returning *)
        insert into ${sql.id(name)} select * from moved`.execute(tx);
      await sql`alter table ${sql.id(table)} attach partition ${sql.id(name)} for values ${bounds}`.execute(tx);
      return Number(moved.numAffectedRows ?? 0);
    });
  }

  private async remove(table: PartitionedTable, name: string): Promise<void> {
    // The change log is a transport, not a record: its old months are always dropped.
    if (this.retention.mode === 'detach' && table !== 'change_log')
      await sql`alter table ${sql.id(table)} detach partition ${sql.id(name)}`.execute(this.db);
    else await sql`drop table ${sql.id(name)}`.execute(this.db);
  }
}

/** The change log's months are kept a month past the current one: its rows live a week (src/modules/events). */
const CHANGE_LOG_MONTHS = 1;

export function partitionMaintenance(database: Database, config: Config): PartitionMaintenance {
  const { history } = config;
  return new PartitionMaintenance(database.db, {
    months: {
      ticket_events: history.ticketHistoryMonths,
      audit_log: history.auditLogMonths,
      log_entries: history.opsLogMonths,
      change_log: CHANGE_LOG_MONTHS,
    },
    mode: history.mode,
  });
}
