import { seesInternal, type Actor } from '../access/policy.js';
import { presentTicket } from '../tickets/presenter.js';
import type { TicketOut } from '../tickets/schemas.js';
import type { TicketListOptions, TicketsService } from '../tickets/service.js';
import { exportableFields, internalFields } from '../tickets/shape.js';
import { chooseColumns, EXPORT_PAGE, streamExport, type ExportSettings } from './stream.js';

/** The ticket field table's exportable fields, then what a search adds. */
export const ticketExportColumns = [...exportableFields, 'rank', 'snippet'] as const;

export type TicketExportOptions = ExportSettings & {
  list: Omit<TicketListOptions, 'limit' | 'cursor' | 'count'>;
  /** Custom field keys the actor may see (issue 25): a `field.<key>` column each. */
  fieldKeys?: readonly string[];
};

/** The cursor that starts an export's second part, after a search's ranked matches. */
const restStart = 'after-ranked';

/** Every matching ticket, with the list's filters, `q`, view, order and role filtering. */
export async function exportTickets(tickets: TicketsService, actor: Actor, options: TicketExportOptions) {
  const fieldColumns = (options.fieldKeys ?? []).map((key) => `field.${key}`);
  const allowed = [
    ...ticketExportColumns.filter((column) => seesInternal(actor) || !(internalFields as readonly string[]).includes(column)),
    ...fieldColumns,
  ];
  const columns = chooseColumns<string>(
    options.columns,
    allowed,
    allowed.filter((column) => column !== 'rank' && column !== 'snippet'),
  );
  const row = (ticket: TicketOut) => {
    const values: Record<string, unknown> = { ...ticket };
    for (const [key, value] of Object.entries(ticket.fields)) values[`field.${key}`] = value;
    return values;
  };
  // Rank order covers a broad search's newest matches only (docs/search.md), and an export holds every match: after
  // the ranked ones it goes on with the others, newest first, leaving out those already written (at most a window).
  const ranked = new Set<string>();
  let rest = false;
  const page = async (cursor?: string) => {
    const list = rest ? { ...options.list, sort: { key: 'created_at' as const, descending: true } } : options.list;
    const from = cursor === restStart ? {} : cursor ? { cursor } : {};
    const result = await tickets.list(actor, { ...list, limit: EXPORT_PAGE, ...from });
    if (result.byRank) for (const ticket of result.items) ranked.add(ticket.id);
    const items = rest ? result.items.filter((ticket) => !ranked.has(ticket.id)) : result.items;
    let nextCursor = result.nextCursor;
    if (nextCursor === null && result.byRank) [rest, nextCursor] = [true, restStart];
    return { items: items.map((ticket) => row(presentTicket(ticket, actor))), nextCursor };
  };
  return streamExport(options, columns, ['created_at', 'updated_at', 'closed_at'], await page(), page);
}
