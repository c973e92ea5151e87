import type { FieldDefinitionRow } from './repository.js';
import type { FieldDefinitionOut } from './schemas.js';
import type { FieldRequirement, FieldValue } from './values.js';

export function presentFieldDefinition(row: FieldDefinitionRow): FieldDefinitionOut {
  return {
    key: row.key,
    label: row.label,
    type: row.type,
    options: row.options,
    default: (row.default_value ?? null) as FieldValue | null,
    help_text: row.help_text,
    customer_visible: row.customer_visible,
    position: row.position,
    required: (row.required ?? null) as FieldRequirement,
    show_on_card: row.show_on_card,
    archived_at: row.archived_at ? row.archived_at.toISOString() : null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
