import { stringify } from 'csv-stringify';
import { DateTime } from 'luxon';
import { Readable } from 'node:stream';
import { invalid } from '../../errors.js';

export type ExportFormat = 'csv' | 'ndjson';
export type ExportSettings = { format: ExportFormat; columns?: string; timeZone?: string; bom?: boolean };
type Page = { items: Record<string, unknown>[]; nextCursor: string | null };

/** Rows fetched per keyset page: memory holds one page, whatever the export's size. */
export const EXPORT_PAGE = 500;

/** The chosen columns (comma list, in order), or every allowed one; an unknown or hidden one is a 400. */
export function chooseColumns<C extends string>(raw: string | undefined, allowed: readonly C[], defaults: readonly C[]): C[] {
  if (raw === undefined || raw.trim() === '') return [...defaults];
  const names = raw.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(allowed as readonly string[]).includes(name));
  if (unknown.length) invalid([{ field: 'columns', problem: `${unknown.join(', ')} is not one of ${allowed.join(', ')}` }]);
  return [...new Set(names)] as C[];
}

function zoneOf(raw: string | undefined): string {
  const zone = raw ?? 'UTC';
  if (!DateTime.now().setZone(zone).isValid)
    invalid([{ field: 'time_zone', problem: `${zone} is not an IANA time zone (e.g. Europe/Berlin)` }]);
  return zone;
}

/**
 * Streams presented rows page by page: the next page is read only when the client has taken the last one, so
 * memory stays flat. The caller reads the first page before answering, so a bad filter is a 400, not a broken
 * download. Times (ISO strings in `timeColumns`) are shown in the chosen zone.
 */
export function streamExport(
  settings: ExportSettings,
  columns: readonly string[],
  timeColumns: readonly string[],
  first: Page,
  next: (cursor: string) => Promise<Page>,
): Readable {
  const zone = zoneOf(settings.timeZone);
  const cell = (row: Record<string, unknown>, column: string): unknown => {
    const value = row[column];
    if (timeColumns.includes(column) && typeof value === 'string') return DateTime.fromISO(value).setZone(zone).toISO();
    return value ?? null;
  };
  async function* records() {
    let page = first;
    for (;;) {
      for (const row of page.items) yield Object.fromEntries(columns.map((column) => [column, cell(row, column)]));
      if (!page.nextCursor) return;
      page = await next(page.nextCursor);
    }
  }
  if (settings.format === 'ndjson') {
    return Readable.from(
      (async function* () {
        for await (const record of records()) yield `${JSON.stringify(record)}\n`;
      })(),
    );
  }
  const csv = stringify({
    header: true,
    columns: [...columns],
    bom: settings.bom ?? false,
    cast: { object: (value) => JSON.stringify(value), boolean: (value) => String(value) },
  });
  return Readable.from(records()).pipe(csv);
}
