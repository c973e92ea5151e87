import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table users (
      id text primary key,
      email text not null,
      name text not null,
      role text not null check (role in ('admin', 'agent', 'viewer', 'customer')),
      -- scrypt$N$r$p$salt$hash; null: this user signs in with API tokens only.
      password_hash text,
      -- For a customer: the customers' emails whose tickets they see (lower case).
      customer_emails text[] not null default '{}',
      disabled_at timestamptz,
      last_login_at timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      version integer not null default 1,
      constraint users_email_lower check (email = lower(email)),
      constraint users_customer_has_emails check (role <> 'customer' or cardinality(customer_emails) > 0)
    )`.execute(db);
  await sql`create unique index users_email on users (email)`.execute(db);
  await sql`create index users_created on users (created_at, id)`.execute(db);
  await sql`create index users_role on users (role, created_at, id)`.execute(db);

  // Ids are SHA-256 of the cookie value: a leaked table gives nobody a session.
  await sql`
    create table sessions (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      csrf_hash text not null,
      ip text,
      user_agent text,
      created_at timestamptz not null,
      last_seen_at timestamptz not null,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index sessions_user on sessions (user_id)`.execute(db);
  await sql`create index sessions_expires on sessions (expires_at)`.execute(db);

  await sql`
    create table api_tokens (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      name text not null,
      token_hash text not null unique,
      -- The first characters of the token, so a person can tell their tokens apart.
      prefix text not null,
      scope text not null check (scope in ('read', 'read-write')),
      expires_at timestamptz,
      last_used_at timestamptz,
      revoked_at timestamptz,
      created_by text,
      created_at timestamptz not null
    )`.execute(db);
  await sql`create index api_tokens_user on api_tokens (user_id, created_at, id)`.execute(db);

  // Failed logins per account ('email:…') and per address ('ip:…'): backoff, then a temporary lock.
  await sql`
    create table login_throttle (
      key text primary key,
      failures integer not null,
      last_failure_at timestamptz not null,
      blocked_until timestamptz
    )`.execute(db);
  // Stale entries are purged as new failures come in (an attack with random emails must not grow it for ever).
  await sql`create index login_throttle_last_failure on login_throttle (last_failure_at)`.execute(db);

  await sql`
    create table audit_log (
      id bigint generated always as identity primary key,
      at timestamptz not null,
      actor_id text,
      actor_name text not null,
      actor_role text,
      action text not null,
      target_type text,
      target_id text,
      ip text,
      details jsonb not null default '{}'
    )`.execute(db);
  await sql`create index audit_log_action on audit_log (action, id)`.execute(db);
  await sql`create index audit_log_actor on audit_log (actor_id, id)`.execute(db);
  await sql`create index audit_log_target on audit_log (target_type, target_id, id)`.execute(db);
  await sql`create index audit_log_at on audit_log (at, id)`.execute(db);
  // Append-only, enforced by the database itself: no code path can rewrite what happened.
  await sql`
    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only' using errcode = '42501';
    end $$`.execute(db);
  await sql`
    create trigger audit_log_append_only before update or delete on audit_log
    for each row execute function audit_log_append_only()`.execute(db);
  await sql`
    create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_append_only()`.execute(db);
}
