import type { Actor } from '../access/policy.js';
import { presentTicket } from '../tickets/presenter.js';
import type { TicketOut } from '../tickets/schemas.js';
import type { TicketListOptions, TicketsService } from '../tickets/service.js';
import { editableFields } from '../tickets/validation.js';
import { chooseColumns, EXPORT_PAGE, streamExport, type ExportSettings } from './stream.js';

export const ticketExportColumns = [
  'id',
  'number',
  ...editableFields,
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
type TicketColumn = (typeof ticketExportColumns)[number];

/** Never shown to customers, in an export as in a list. */
const internalColumns: readonly TicketColumn[] = ['assigned_to', 'metadata'];

export type TicketExportOptions = ExportSettings & {
  list: Omit<TicketListOptions, 'limit' | 'cursor' | 'count'>;
  /** Custom field keys the actor may see (issue 25): a `field.<key>` column each. */
  fieldKeys?: readonly string[];
};

/** Every matching ticket, with the list's filters, `q`, view, order and role filtering. */
export async function exportTickets(tickets: TicketsService, actor: Actor, options: TicketExportOptions) {
  const fieldColumns = (options.fieldKeys ?? []).map((key) => `field.${key}`);
  const allowed = [
    ...ticketExportColumns.filter((column) => actor.role !== 'customer' || !internalColumns.includes(column)),
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
  const page = async (cursor?: string) => {
    const result = await tickets.list(actor, { ...options.list, limit: EXPORT_PAGE, ...(cursor ? { cursor } : {}) });
    return { items: result.items.map((ticket) => row(presentTicket(ticket, actor))), nextCursor: result.nextCursor };
  };
  return streamExport(options, columns, ['created_at', 'updated_at', 'closed_at'], await page(), page);
}
