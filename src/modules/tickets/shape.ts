import { Type, type TSchema } from 'typebox';
import { priorities, ticketStatuses, userRoles } from '../../db/enums.js';
import { DateTime, Nullable } from '../../http/schema-helpers.js';

/**
 * A ticket's fields, in one table (issue 21): the order is the API's, the export's and the view columns'. The TypeBox
 * create/patch/answer schemas (`schemas.ts`), the validator both faces share (`validation.ts`), the export and
 * saved-view columns, the presenters' "customers don't see internal fields" and the dashboard's columns and labels
 * (`web/src/api/ticket-fields.json`, written by `npm run openapi`) all come from here. Add a field here first.
 *
 * - `type`: how it is checked and shown; `max`: its length limit (for `json`, the serialized size in bytes).
 * - `writable`: a client sets it on create and update; `'create'`: only on create (kept when migrating old data).
 * - `internal`: customers never see it (`seesInternal` in access/policy.ts decides who does).
 * - `exportable`: a CSV/NDJSON export column; `column`: a list column a saved view may pick.
 * - `sort`: the `sort` value that orders a list by it, when one does.
 */
export type TicketFieldType = 'id' | 'integer' | 'text' | 'email' | 'phone' | 'url' | 'enum' | 'json' | 'stage' | 'stages' | 'time';

export type TicketField = {
  readonly type: TicketFieldType;
  readonly label: string;
  /** A list column's header, where the label is too long for one. */
  readonly short?: string;
  readonly max?: number;
  readonly values?: readonly string[];
  readonly writable?: true | 'create';
  readonly internal?: true;
  readonly exportable: boolean;
  readonly column: boolean;
  readonly sort?: string;
  /** Shown in the answer's schema and OpenAPI. */
  readonly description?: string;
  /** May be absent from an answer (customers do not get internal fields). */
  readonly optional?: true;
  /** May be null in an answer (only read-only moments: `text` and stage fields are always nullable). */
  readonly nullable?: true;
};

const field = <T extends TicketField>(spec: T) => spec;

export const ticketFields = {
  id: field({ type: 'id', label: 'Id', max: 64, writable: 'create', exportable: true, column: true }),
  number: field({ type: 'integer', label: 'Number', short: '#', exportable: true, column: true, sort: 'number' }),
  subject: field({ type: 'text', label: 'Subject', max: 500, writable: true, exportable: true, column: true }),
  description: field({ type: 'text', label: 'Description', max: 20_000, writable: true, exportable: true, column: true }),
  status: field({ type: 'enum', label: 'Status', values: ticketStatuses, writable: true, exportable: true, column: true }),
  priority: field({
    type: 'enum',
    label: 'Priority',
    values: priorities,
    writable: true,
    exportable: true,
    column: true,
    sort: 'priority',
  }),
  category: field({ type: 'text', label: 'Category', max: 200, writable: true, exportable: true, column: true }),
  project: field({ type: 'text', label: 'Project', max: 200, writable: true, exportable: true, column: true }),
  customer_name: field({ type: 'text', label: 'Customer', max: 200, writable: true, exportable: true, column: true }),
  customer_email: field({ type: 'email', label: 'Customer email', max: 254, writable: true, exportable: true, column: true }),
  customer_phone: field({
    type: 'phone',
    label: 'Customer phone',
    short: 'Phone',
    max: 50,
    writable: true,
    exportable: true,
    column: true,
  }),
  contact_person: field({
    type: 'text',
    label: 'Contact person',
    short: 'Contact',
    max: 200,
    writable: true,
    exportable: true,
    column: true,
  }),
  helpdeskurl: field({ type: 'url', label: 'Helpdesk URL', max: 2000, writable: true, exportable: true, column: true }),
  assigned_to: field({
    type: 'text',
    label: 'Assignee',
    max: 200,
    writable: true,
    internal: true,
    exportable: true,
    column: true,
    optional: true,
    description: 'Not shown to customers',
  }),
  metadata: field({
    type: 'json',
    label: 'Metadata',
    max: 16_384,
    writable: true,
    internal: true,
    exportable: true,
    column: false,
    optional: true,
    description: 'Free JSON; not shown to customers',
  }),
  current_stage_id: field({ type: 'stage', label: 'Stage id', writable: true, exportable: true, column: true }),
  stages: field({
    type: 'stages',
    label: 'Stages',
    max: 1000,
    writable: true,
    exportable: true,
    column: false,
    description: "The ticket's stage ids, in order",
  }),
  ops_id: field({
    type: 'text',
    label: 'OPS id',
    exportable: true,
    column: true,
    description: "OPS system's id once a hand-off was accepted",
  }),
  ops_error: field({ type: 'text', label: 'OPS error', exportable: true, column: true, description: 'Why the last OPS hand-off failed' }),
  created_at: field({ type: 'time', label: 'Created', writable: 'create', exportable: true, column: true, sort: 'created_at' }),
  updated_at: field({ type: 'time', label: 'Updated', exportable: true, column: true, sort: 'updated_at' }),
  closed_at: field({ type: 'time', label: 'Closed', nullable: true, exportable: true, column: true }),
  version: field({
    type: 'integer',
    label: 'Version',
    exportable: true,
    column: true,
    description: 'Increases on every change; send it back as `If-Match` or `version`',
  }),
} as const satisfies Record<string, TicketField>;

export type TicketFieldName = keyof typeof ticketFields;
/** The table's rows with their common type, for code that reads any of them. */
const rows = Object.entries(ticketFields) as [TicketFieldName, TicketField][];

type Where<P> = { [K in TicketFieldName]: (typeof ticketFields)[K] extends P ? K : never }[TicketFieldName];
const names = <K extends TicketFieldName>(keep: (spec: TicketField) => boolean) =>
  rows.filter(([, spec]) => keep(spec)).map(([name]) => name) as K[];

/** Set by clients on create and update (`id` and `created_at` only on create). */
export type WritableField = Where<{ writable: true }>;
export const writableFields = names<WritableField>((spec) => spec.writable === true);
/** Never shown to customers. */
export type InternalField = Where<{ internal: true }>;
export const internalFields = names<InternalField>((spec) => spec.internal === true);
export type ExportableField = Where<{ exportable: true }>;
export const exportableFields = names<ExportableField>((spec) => spec.exportable);
export type ColumnField = Where<{ column: true }>;
export const columnFields = names<ColumnField>((spec) => spec.column);

/** A writable field's TypeBox schema for a create or patch body (limits from the table). */
export function inputSchema(spec: TicketField, stageRef: TSchema): TSchema {
  const text = (options: Record<string, string> = {}) => Nullable(Type.String({ minLength: 1, maxLength: spec.max!, ...options }));
  switch (spec.type) {
    case 'text':
      return text();
    case 'email':
      return text({ format: 'email' });
    case 'phone':
      return text();
    case 'url':
      return text({ format: 'uri', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://', description: 'An http(s) URL' });
    case 'enum':
      return Type.Enum([...spec.values!]);
    case 'json':
      return Nullable(Type.Object({}, { additionalProperties: true, description: `At most ${spec.max! / 1024} KiB of JSON` }));
    case 'stage':
      return Nullable(stageRef);
    case 'stages':
      return Type.Array(stageRef, { maxItems: spec.max! });
    default:
      throw new Error(`no input schema for a ${spec.type} field`);
  }
}

/**
 * What the dashboard reads at run time (generated into web/src/api/ticket-fields.json by `npm run openapi`): the list
 * columns with labels, and the enumerations it offers as choices. Its types come from openapi.json.
 */
export function dashboardShape() {
  return {
    columns: rows
      .filter(([, spec]) => spec.column)
      .map(([name, spec]) => ({
        key: name,
        label: spec.short ?? spec.label,
        internal: spec.internal === true,
        ...(spec.sort ? { sort: spec.sort } : {}),
      })),
    /** Every field's label (history, the ticket page, errors) and whether customers see it. */
    fields: Object.fromEntries(rows.map(([name, spec]) => [name, { label: spec.label, internal: spec.internal === true }])),
    statuses: ticketStatuses,
    priorities,
    roles: userRoles,
  };
}

/** A field's TypeBox schema in a ticket answer. */
export function outputSchema(spec: TicketField): TSchema {
  const options = spec.description ? { description: spec.description } : {};
  let schema: TSchema;
  switch (spec.type) {
    case 'id':
      schema = Type.String({ description: 'Server-made UUID, or the id the client chose on create' });
      break;
    case 'integer':
      schema =
        spec.short === '#'
          ? Type.Integer({ description: 'Sequential, human-friendly number; `/api/tickets/42` finds it too' })
          : Type.Integer(options);
      break;
    case 'enum':
      schema = Type.Enum([...spec.values!]);
      break;
    case 'json':
      schema = Type.Object({}, { additionalProperties: true, ...options });
      break;
    case 'stages':
      schema = Type.Array(Type.String(), options);
      break;
    case 'time':
      schema = spec.nullable ? Nullable(DateTime()) : DateTime();
      break;
    default:
      schema = Nullable(Type.String(options));
  }
  return spec.optional ? Type.Optional(schema) : schema;
}

/** A field's value in a ticket answer, as TypeScript: the answer type's half that `outputProperties` builds. */
type ValueOf<F extends TicketField> = F['type'] extends 'id'
  ? string
  : F['type'] extends 'integer'
    ? number
    : F['type'] extends 'enum'
      ? F extends { values: readonly (infer V)[] }
        ? V
        : never
      : F['type'] extends 'json'
        ? Record<string, unknown>
        : F['type'] extends 'stages'
          ? string[]
          : F['type'] extends 'time'
            ? F extends { nullable: true }
              ? string | null
              : string
            : string | null;
type Required = { [K in TicketFieldName]: (typeof ticketFields)[K] extends { optional: true } ? never : K }[TicketFieldName];
export type TicketFieldValues = { [K in Required]: ValueOf<(typeof ticketFields)[K]> } & {
  [K in Exclude<TicketFieldName, Required>]?: ValueOf<(typeof ticketFields)[K]>;
};

/**
 * The answer schema's properties of these fields, in table order. Typed as nothing: their TypeScript side is
 * `TicketFieldValues` (TypeBox cannot infer a schema built from a table).
 */
export function outputProperties<K extends TicketFieldName>(from: K, to: K): Record<never, TSchema> {
  const first = rows.findIndex(([name]) => name === from);
  const last = rows.findIndex(([name]) => name === to);
  return Object.fromEntries(rows.slice(first, last + 1).map(([name, spec]) => [name, outputSchema(spec)]));
}
