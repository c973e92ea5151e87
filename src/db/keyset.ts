import { sql, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import { AppError } from '../errors.js';
import type { DB } from './types.js';

/**
 * Lists page by key, not OFFSET: the cursor is the last row's sort key (opaque base64url JSON), so
 * paging stays correct while rows are inserted and page 10,000 costs what page 1 costs.
 */
/** `numeric`: any number (a custom field's), carried in the cursor as its decimal text. */
export type KeyKind = 'timestamp' | 'text' | 'integer' | 'numeric';
export type SortKey = { column: string; kind: KeyKind };

/** Sort keys every resource table has: its timestamps (the id breaks ties) and its sequential number. */
export const commonSorts = {
  created_at: [
    { column: 'created_at', kind: 'timestamp' },
    { column: 'id', kind: 'text' },
  ],
  updated_at: [
    { column: 'updated_at', kind: 'timestamp' },
    { column: 'id', kind: 'text' },
  ],
  number: [{ column: 'number', kind: 'integer' }],
} as const satisfies Record<string, readonly SortKey[]>;

export function encodeCursor(values: readonly (string | number | null)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function badCursor(): never {
  throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor this list gave out (or one for another sort order)', [
    { field: 'cursor', problem: 'is not a cursor this list gave out (or one for another sort order)' },
  ]);
}

export function decodeCursor(cursor: string, length: number): (string | number)[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  if (
    !Array.isArray(values) ||
    values.length !== length ||
    !values.every(
      (v) => (typeof v === 'string' && v.length <= 200 && !v.includes('\u0000')) || (typeof v === 'number' && Number.isSafeInteger(v)),
    )
  ) {
    badCursor();
  }
  return values as (string | number)[];
}

/** `(a, b) < ($1, $2)`: every key of a sort runs one direction, so one row comparison uses the (a, b) index. */
function keysetAfter(keys: readonly SortKey[], values: readonly (string | number)[], descending: boolean): RawBuilder<boolean> {
  const columns = sql.join(keys.map((key) => sql.ref(key.column)));
  const params = sql.join(
    keys.map((key, index) => {
      const value = values[index];
      if (key.kind === 'timestamp') {
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return badCursor();
        return sql`cast(${value} as timestamptz)`;
      }
      if (key.kind === 'integer') {
        if (typeof value !== 'number') return badCursor();
        return sql`cast(${value} as integer)`;
      }
      if (key.kind === 'numeric') {
        if (typeof value !== 'string' || !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value)) return badCursor();
        return sql`cast(${value} as numeric)`;
      }
      return sql`cast(${String(value)} as text)`;
    }),
  );
  return descending ? sql<boolean>`(${columns}) < (${params})` : sql<boolean>`(${columns}) > (${params})`;
}

/**
 * `query` continued after `cursor`, in the order of `keys`, up to a page and the row after it: a page's rows, or one
 * part of a page merged from several (each part read along its own index, then the page taken from their union).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function keysetRange<Q extends SelectQueryBuilder<DB, any, any>>(
  query: Q,
  keys: readonly SortKey[],
  descending: boolean,
  limit: number,
  cursor: string | undefined,
): Q {
  if (cursor) query = query.where(keysetAfter(keys, decodeCursor(cursor, keys.length), descending)) as Q;
  for (const key of keys) query = query.orderBy(sql.ref(key.column), descending ? 'desc' : 'asc') as Q;
  return query.limit(limit + 1) as Q;
}

/** Runs one page of `query` in the order of `keys`, continuing after `cursor`. */
export async function keysetPage<Row extends object>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query: SelectQueryBuilder<DB, any, Row>,
  keys: readonly SortKey[],
  descending: boolean,
  limit: number,
  cursor: string | undefined,
): Promise<{ rows: Row[]; nextCursor: string | null }> {
  const rows = await keysetRange(query, keys, descending, limit, cursor).execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1) as Record<string, unknown> | undefined;
  const nextCursor =
    rows.length > limit && last
      ? encodeCursor(
          keys.map((key) => {
            const value = last[key.column];
            if (key.kind === 'numeric') return String(value);
            return value instanceof Date ? value.toISOString() : (value as string | number);
          }),
        )
      : null;
  return { rows: page, nextCursor };
}
