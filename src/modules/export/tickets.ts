import { stringify } from 'csv-stringify';
import { DateTime } from 'luxon';
import { Readable } from 'node:stream';
import { invalid } from '../../errors.js';
import type { Actor } from '../access/policy.js';
import { presentTicket } from '../tickets/presenter.js';
import type { TicketOut } from '../tickets/schemas.js';
import type { TicketListOptions, TicketsService } from '../tickets/service.js';

export const exportColumns = [
  'id',
  'number',
  'subject',
  'description',
  'status',
  'priority',
  'category',
  'project',
  'customer_name',
  'customer_email',
  'customer_phone',
  'contact_person',
  'helpdeskurl',
  'assigned_to',
  'metadata',
  'current_stage_id',
  'stages',
  'ops_id',
  'ops_error',
  'created_at',
  'updated_at',
  'closed_at',
  'version',
  'rank',
  'snippet',
] as const;
type ExportColumn = (typeof exportColumns)[number];

/** Never shown to customers, in an export as in a list. */
const internalColumns: readonly ExportColumn[] = ['assigned_to', 'metadata'];
const timeColumns: readonly ExportColumn[] = ['created_at', 'updated_at', 'closed_at'];
const defaultColumns = exportColumns.filter((column) => column !== 'rank' && column !== 'snippet');

export type ExportOptions = {
  format: 'csv' | 'ndjson';
  columns?: string;
  timeZone?: string;
  bom?: boolean;
  list: Omit<TicketListOptions, 'limit' | 'cursor' | 'count'>;
};

/** Rows fetched per keyset page: memory holds one page, whatever the export's size. */
const PAGE = 500;

function chosenColumns(actor: Actor, raw: string | undefined): ExportColumn[] {
  const hidden = actor.role === 'customer' ? internalColumns : [];
  if (raw === undefined || raw.trim() === '') return defaultColumns.filter((column) => !hidden.includes(column));
  const names = raw.split(',').map((name) => name.trim());
  const allowed = exportColumns.filter((column) => !hidden.includes(column));
  const unknown = names.filter((name) => !(allowed as readonly string[]).includes(name));
  if (unknown.length) invalid([{ field: 'columns', problem: `${unknown.join(', ')} is not one of ${allowed.join(', ')}` }]);
  return [...new Set(names)] as ExportColumn[];
}

function zoneOf(raw: string | undefined): string {
  const zone = raw ?? 'UTC';
  if (!DateTime.now().setZone(zone).isValid)
    invalid([{ field: 'time_zone', problem: `${zone} is not an IANA time zone (e.g. Europe/Berlin)` }]);
  return zone;
}

/**
 * Every matching ticket, streamed page by page through the list's keyset cursor (same filters, `q`, view, order
 * and role filtering as `GET /api/tickets`). The first page is read before answering, so a bad filter is a 400
 * and not a broken download.
 */
export async function exportTickets(tickets: TicketsService, actor: Actor, options: ExportOptions) {
  const columns = chosenColumns(actor, options.columns);
  const zone = zoneOf(options.timeZone);
  const cell = (ticket: TicketOut, column: ExportColumn): unknown => {
    const value = ticket[column as keyof TicketOut];
    if (timeColumns.includes(column) && typeof value === 'string') return DateTime.fromISO(value).setZone(zone).toISO();
    return value ?? null;
  };
  const first = await tickets.list(actor, { ...options.list, limit: PAGE });
  async function* records() {
    let page = first;
    for (;;) {
      for (const ticket of page.items) {
        const shown = presentTicket(ticket, actor);
        yield Object.fromEntries(columns.map((column) => [column, cell(shown, column)]));
      }
      if (!page.nextCursor) return;
      page = await tickets.list(actor, { ...options.list, limit: PAGE, cursor: page.nextCursor });
    }
  }
  if (options.format === 'ndjson') {
    return Readable.from(
      (async function* () {
        for await (const record of records()) yield `${JSON.stringify(record)}\n`;
      })(),
    );
  }
  const csv = stringify({
    header: true,
    columns: [...columns],
    bom: options.bom ?? false,
    cast: { object: (value) => JSON.stringify(value), boolean: (value) => String(value), date: (value) => value.toISOString() },
  });
  return Readable.from(records()).pipe(csv);
}
