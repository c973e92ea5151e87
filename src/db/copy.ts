import { sql } from 'kysely';
import type pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { DatabaseKind, Executor } from './executor.js';

/** A staging table's column: its name and SQL type (`text`, `jsonb`, `text[]`, `timestamptz`, …). */
export type StagingColumn = readonly [name: string, type: string];

/**
 * Loads rows (values in `columns` order) into a temporary table `table` of the transaction, created empty (dropped
 * at commit), for set-based `INSERT … SELECT` from it. On a PostgreSQL server the rows stream through `COPY FROM
 * STDIN` (pg-copy-streams); on PGlite they go as one multi-row insert from a JSON parameter.
 */
export type StageRows = (
  tx: Executor,
  table: string,
  columns: readonly StagingColumn[],
  rows: readonly unknown[][],
  options?: StageOptions,
) => Promise<void>;

/**
 * `into`: `table` is an existing table the rows are loaded straight into (no staging table, no `INSERT … SELECT`
 * after): for rows written as they are, whose table's triggers and defaults apply as to any insert.
 */
export type StageOptions = { into?: boolean };

const identifier = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain SQL name: ${name}`);
  return name;
};

async function createStaging(tx: Executor, table: string, columns: readonly StagingColumn[]) {
  const definition = columns.map(([name, type]) => `${identifier(name)} ${type}`).join(', ');
  await sql`drop table if exists ${sql.raw(`pg_temp.${identifier(table)}`)}`.execute(tx);
  await sql`create temp table ${sql.raw(identifier(table))} (${sql.raw(definition)}) on commit drop`.execute(tx);
}

export function stageRowsFor(kind: DatabaseKind): StageRows {
  return async (tx, table, columns, rows, options = {}) => {
    if (!options.into) await createStaging(tx, table, columns);
    if (rows.length === 0) return;
    const names = sql.raw(columns.map(([name]) => identifier(name)).join(', '));
    if (options.into && kind !== 'postgres') {
      const definition = columns.map(([name, type]) => `${identifier(name)} ${type}`).join(', ');
      const objects = rows.map((row) => Object.fromEntries(columns.map(([name], index) => [name, row[index] ?? null])));
      await sql`insert into ${sql.raw(identifier(table))} (${names})
        select ${names} from jsonb_to_recordset(${JSON.stringify(objects)}::jsonb) as r(${sql.raw(definition)})`.execute(tx);
      return;
    }
    if (kind === 'postgres') {
      await sql`${sql.raw(COPY_MARK)} ${new CopyJob(`copy ${identifier(table)} (${columns.map(([name]) => name).join(', ')}) from stdin`, copyText(columns, rows))}`.execute(
        tx,
      );
      return;
    }
    const objects = rows.map((row) => Object.fromEntries(columns.map(([name], index) => [name, row[index] ?? null])));
    await sql`insert into ${sql.raw(table)} (${names})
      select ${names} from jsonb_populate_recordset(null::${sql.raw(`pg_temp.${table}`)}, ${JSON.stringify(objects)}::jsonb)`.execute(tx);
  };
}

/** COPY's text format, in chunks of about 64 KiB. */
function* copyText(columns: readonly StagingColumn[], rows: readonly unknown[][]): Generator<string> {
  const encoders = columns.map(([, type]) => encoderFor(type));
  let chunk = '';
  for (const row of rows) {
    for (let index = 0; index < encoders.length; index += 1) {
      const value = row[index];
      chunk += (index ? '\t' : '') + (value === null || value === undefined ? '\\N' : encoders[index]!(value));
    }
    chunk += '\n';
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** A value as COPY text: only text, JSON and arrays can hold a character COPY must escape. */
function encoderFor(type: string): (value: unknown) => string {
  if (type === 'jsonb' || type === 'json') return (value) => escapeCopy(JSON.stringify(value));
  if (type.endsWith('[]')) return (value) => escapeCopy(arrayLiteral(value as unknown[]));
  if (type === 'text') return (value) => escapeCopy(String(value));
  return (value) => (value instanceof Date ? value.toISOString() : String(value));
}

const arrayLiteral = (values: readonly unknown[]) =>
  `{${values.map((value) => (value === null ? 'NULL' : `"${String(value).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;

const copySpecial = /[\\\n\r\t]/g;
const copyEscapes: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const escapeCopy = (text: string) => (/[\\\n\r\t]/.test(text) ? text.replace(copySpecial, (c) => copyEscapes[c]!) : text);

/**
 * Kysely hands a statement to the pg client of its transaction and no further, so a COPY travels as a marked
 * statement whose one parameter is the job; `enableCopy` (applied to every pooled client) runs it on that client.
 */
const COPY_MARK = '/* stageline:copy */';

class CopyJob {
  constructor(
    readonly statement: string,
    readonly chunks: Iterable<string>,
  ) {}
}

export function enableCopy(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const copying = async (job: CopyJob) => {
    const stream = query(copyFrom(job.statement)) as ReturnType<typeof copyFrom>;
    await pipeline(Readable.from(job.chunks), stream);
    return { command: 'COPY', rowCount: stream.rowCount, rows: [], fields: [] };
  };
  client.query = ((...args: unknown[]) => {
    const [text, values] = args;
    if (typeof text === 'string' && text.startsWith(COPY_MARK) && Array.isArray(values) && values[0] instanceof CopyJob) {
      return copying(values[0]);
    }
    return query(...args);
  }) as typeof client.query;
}
