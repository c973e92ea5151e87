import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Full-text search: a weighted document over number, subject, customer, project, category and description.
  // An expression index rather than a stored generated column: every `select *` on tickets (lists, presenters,
  // `returning *`) would otherwise carry the whole vector. The expression must equal `ticketDocument` in
  // src/modules/search/sql.ts, or the index goes unused (the EXPLAIN test checks it).
  await sql`
    create index tickets_search on tickets using gin ((
      setweight(to_tsvector('simple'::regconfig, number::text || ' ' || coalesce(subject, '')), 'A') ||
      setweight(to_tsvector('simple'::regconfig, coalesce(customer_name, '') || ' ' || coalesce(customer_email, '')), 'B') ||
      setweight(to_tsvector('simple'::regconfig, coalesce(project, '') || ' ' || coalesce(category, '')), 'C') ||
      setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'D')
    ))`.execute(db);
  // Typo tolerance on the subject (the customer's trigram index is migration 0001's).
  await sql`create index tickets_subject_trgm on tickets using gin ((lower(coalesce(subject, ''))) gin_trgm_ops)`.execute(db);
  // `assignee:none`, with the default order behind it.
  await sql`create index tickets_unassigned on tickets (created_at, id) where assigned_to is null`.execute(db);

  await sql`
    create table saved_views (
      id text primary key,
      owner_id text not null references users (id) on delete cascade,
      name text not null,
      query text not null default '',
      sort text,
      columns text[] not null default '{}',
      layout text not null default 'list' check (layout in ('list', 'board')),
      shared boolean not null default false,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      version integer not null default 1
    )`.execute(db);
  await sql`create index saved_views_owner on saved_views (owner_id, created_at, id)`.execute(db);
  await sql`create index saved_views_shared on saved_views (created_at, id) where shared`.execute(db);
}
