import { sql, type Kysely } from 'kysely';

/**
 * Custom ticket fields per project (issue 25). Definitions live in `ticket_fields`, keyed by project and key; an
 * archived definition stays so history naming it reads well. Values live on the ticket row in one `fields jsonb`
 * object: a create or update writes the row it writes anyway (no side-table rows per value, no extra round trip),
 * and one GIN index (jsonb_path_ops, the smaller, faster operator class for `@>`) answers every equality filter —
 * select, multi-select, checkbox, user, text — whatever the key. Range filters and sorts on number and date fields
 * use an expression btree per field key, made when such a field is defined (see FieldsRepository.ensureIndex);
 * `ticket_field_number` turns a JSON number into numeric and anything else into null, so one index per key serves
 * every project, even one where the same key holds text. Measured in docs/fields.md.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ticket_fields (
      project_id text not null references projects (id) on delete cascade,
      key text not null check (key ~ '^[a-z][a-z0-9_]{0,39}$'),
      label text not null,
      type text not null check (type in
        ('text', 'long_text', 'number', 'date', 'datetime', 'select', 'multi_select', 'checkbox', 'url', 'email', 'user')),
      options jsonb,
      default_value jsonb,
      help_text text,
      customer_visible boolean not null default false,
      position integer not null default 0,
      required jsonb,
      show_on_card boolean not null default false,
      archived_at timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      primary key (project_id, key)
    )`.execute(db);
  // A constant default: adding the column rewrites no rows, even at a million tickets.
  await sql`alter table tickets add column fields jsonb not null default '{}'::jsonb`.execute(db);
  await sql`create index tickets_fields on tickets using gin (fields jsonb_path_ops)`.execute(db);
  await sql`
    create function ticket_field_number(value jsonb) returns numeric language sql immutable parallel safe as $$
      select case when jsonb_typeof(value) = 'number' then (value #>> '{}')::numeric end
    $$`.execute(db);
}
