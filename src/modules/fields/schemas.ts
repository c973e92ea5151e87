import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';
import { FIELD_KEY_PATTERN, fieldTypes } from './values.js';

export const FieldTypeSchema = Type.Enum([...fieldTypes]);

/** Any value a field may hold: text, number, boolean or a list of options; null clears. */
export const FieldValueSchema = Nullable(
  Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.String())], {
    description: "A value of the field's type",
  }),
);

/** `{ key: value }` on a ticket; the keys and types come from the ticket project's field definitions. */
export const TicketFieldsSchema = Type.Record(Type.String(), FieldValueSchema, {
  description:
    'Custom field values by key (GET /api/projects/{id}/fields defines them); null clears one. Customers see and set only the fields marked customer_visible',
});

export const FieldRequirementSchema = Nullable(
  Type.Union(
    [
      Type.Literal('always'),
      Type.Literal('final'),
      Type.Object(
        { leave_stage: Type.String({ minLength: 1, maxLength: 64, description: 'The stage key a ticket may not leave without it' }) },
        { additionalProperties: false },
      ),
    ],
    { description: 'When a value is required: always, to leave a stage, or to enter a final stage; null: optional' },
  ),
);

export const FieldDefinition = Type.Object({
  key: Type.String({ description: 'Unique in the project, lowercase; never changes' }),
  label: Type.String(),
  type: FieldTypeSchema,
  options: Nullable(Type.Array(Type.String(), { description: 'The choices of a select or multi_select' })),
  default: FieldValueSchema,
  help_text: Nullable(Type.String()),
  customer_visible: Type.Boolean({ description: 'Customers see it, and may set it' }),
  position: Type.Integer(),
  required: FieldRequirementSchema,
  show_on_card: Type.Boolean({ description: 'Shown on board cards' }),
  archived_at: Nullable(DateTime('Archived fields take no new values; values and history naming them stay')),
  created_at: DateTime(),
  updated_at: DateTime(),
});
export type FieldDefinitionOut = Static<typeof FieldDefinition>;

const label = Type.String({ minLength: 1, maxLength: 200 });
const options = Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 500 }));
const helpText = Nullable(Type.String({ maxLength: 2000 }));
const position = Type.Integer({ minimum: 0, maximum: 100_000 });

export const FieldCreate = Type.Object(
  {
    key: Type.String({ pattern: FIELD_KEY_PATTERN, description: 'Lowercase a-z, digits and _, starting with a letter; up to 40' }),
    label,
    type: FieldTypeSchema,
    options: Type.Optional(options),
    default: Type.Optional(FieldValueSchema),
    help_text: Type.Optional(helpText),
    customer_visible: Type.Optional(Type.Boolean({ default: false })),
    position: Type.Optional(position),
    required: Type.Optional(FieldRequirementSchema),
    show_on_card: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);
export type FieldCreateInput = Static<typeof FieldCreate>;

export const FieldPatch = Type.Object(
  {
    key: Type.Optional(Type.String({ description: 'Read-only: may be sent back unchanged' })),
    label: Type.Optional(label),
    type: Type.Optional(FieldTypeSchema),
    options: Type.Optional(options),
    default: Type.Optional(FieldValueSchema),
    help_text: Type.Optional(helpText),
    customer_visible: Type.Optional(Type.Boolean()),
    position: Type.Optional(position),
    required: Type.Optional(FieldRequirementSchema),
    show_on_card: Type.Optional(Type.Boolean()),
    archived: Type.Optional(Type.Boolean({ description: 'false restores an archived field' })),
    archived_at: Type.Optional(Type.Unknown()),
    created_at: Type.Optional(Type.Unknown()),
    updated_at: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type FieldPatchInput = Static<typeof FieldPatch>;

export const FieldParams = Type.Object({
  id: Type.String({ description: 'The project id or key' }),
  key: Type.String({ description: 'The field key' }),
});

export const FieldListQuery = Type.Object(
  { include_archived: Type.Optional(Type.Boolean({ description: 'Also list archived fields (not for customers)' })) },
  { additionalProperties: false },
);
