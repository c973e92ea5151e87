import { AppError } from '../errors.js';

/**
 * Cursors are opaque to clients: the last row's sort key, base64url JSON. Paging by the key (not
 * OFFSET) stays correct while rows are inserted and costs the same on page 1 and page 10,000.
 */
export function encodeCursor(values: readonly (string | number | null)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
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
    !values.every((v) => (typeof v === 'string' && v.length <= 200) || (typeof v === 'number' && Number.isFinite(v)))
  ) {
    throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor this list gave out (or one for another sort order)', [
      { field: 'cursor', problem: 'is not a cursor this list gave out (or one for another sort order)' },
    ]);
  }
  return values as (string | number)[];
}
