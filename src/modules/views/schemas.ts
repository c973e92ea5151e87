import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { ApiSortSchema } from '../tickets/schemas.js';
import { columnFields } from '../tickets/shape.js';

/** A view may show the ticket field table's list columns, and custom fields as `field.<key>` (issue 25). */
export const viewColumns = columnFields;

export const ViewSortSchema = ApiSortSchema('The list order the view applies (`field.<key>` sorts by a custom field)');
const ColumnSchema = Type.Union([Type.Enum([...viewColumns]), Type.String({ pattern: '^field\\.[a-z][a-z0-9_]{0,39}$' })], {
  description: 'A ticket field, or `field.<key>` for a custom field',
});
export type ViewColumn = (typeof viewColumns)[number] | `field.${string}`;

export const View = Type.Object({
  id: Type.String(),
  name: Type.String(),
  query: Type.String({ description: 'Search-box text (see GET /api/search/help)' }),
  sort: Nullable(ViewSortSchema),
  columns: Type.Array(ColumnSchema, { description: 'Visible columns, in order; empty: the default ones' }),
  layout: Type.Enum(['list', 'board']),
  shared: Type.Boolean({ description: 'Visible to everybody; only agents and admins may share' }),
  owner_id: Type.String(),
  mine: Type.Boolean({ description: 'The caller owns it' }),
  changeable: Type.Boolean({ description: 'The caller may change or remove it: its owner, or an admin for a shared view' }),
  created_at: DateTime(),
  updated_at: DateTime(),
  version: Type.Integer(),
});
export type ViewOut = Static<typeof View>;

const editable = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  query: Type.String({ maxLength: 1000 }),
  sort: Nullable(ViewSortSchema),
  columns: Type.Array(ColumnSchema, { maxItems: 100, uniqueItems: true }),
  layout: Type.Enum(['list', 'board']),
  shared: Type.Boolean(),
};

export const ViewCreate = Type.Object(
  {
    name: editable.name,
    query: Type.Optional(editable.query),
    sort: Type.Optional(editable.sort),
    columns: Type.Optional(editable.columns),
    layout: Type.Optional(editable.layout),
    shared: Type.Optional(editable.shared),
  },
  { additionalProperties: false },
);
export type ViewCreateBody = Static<typeof ViewCreate>;

export const ViewPatch = Type.Object(
  {
    name: Type.Optional(editable.name),
    query: Type.Optional(editable.query),
    sort: Type.Optional(editable.sort),
    columns: Type.Optional(editable.columns),
    layout: Type.Optional(editable.layout),
    shared: Type.Optional(editable.shared),
    version: Type.Optional(Type.Integer({ minimum: 1, description: 'Expected current version (or send If-Match)' })),
  },
  { additionalProperties: false },
);
export type ViewPatchBody = Static<typeof ViewPatch>;

export const ViewListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const ViewCount = Type.Object({ view_id: Type.String(), count: Type.Integer() });
